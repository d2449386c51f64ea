/**
 * The local Data API's database: PGlite behind the few methods the stand-in uses, either on
 * the calling thread or on its own thread (pgliteWorker.cjs). PGlite runs a query
 * synchronously inside WASM; on the main thread a COPY or an aggregate stalls the whole event
 * loop (Step Functions timers, DescribeStatement polls, the handlers), which Redshift, running
 * elsewhere, never does. On its own thread, calls are sent and answered in order; only where
 * SQL runs changes.
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import type { PGlite, Results } from '@electric-sql/pglite';
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { openPGlite } from './pglite';

/** Options of {@link Database.query}: PGlite's, with `textTypes` for its parsers (functions cannot cross threads). */
export interface QueryOptions {
  rowMode?: 'array' | 'object';
  /** Type OIDs whose values stay Postgres text (PGlite parsers that return their input). */
  textTypes?: readonly number[];
  /** Data for `COPY ... FROM '/dev/blob'`. */
  blob?: Blob;
}

type Request =
  | { op: 'query'; sql: string; params: unknown[]; rowMode?: 'array' | 'object'; textTypes?: readonly number[]; blob?: ArrayBuffer }
  | { op: 'exec'; sql: string }
  | { op: 'serve'; port: number; host: string }
  | { op: 'unserve' }
  | { op: 'close' };

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: Record<string, unknown> & { message: string } };

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** The local Data API's database, wherever PGlite runs. */
export interface Database {
  /** PGlite's `query`: one statement, with parameters. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>>;
  /** PGlite's `exec`: one or more statements, no parameters. */
  exec(sql: string): Promise<Array<Results>>;
  /** Serves the database over the Postgres wire protocol on host:port (psql). */
  serve(port: number, host?: string): Promise<void>;
  /** Stops {@link serve}. */
  unserve(): Promise<void>;
  /** Closes PGlite (and its thread). */
  close(): Promise<void>;
}

const keepText = (v: string): string => v;

/** PGlite on the calling thread: a running statement stalls that thread's event loop. */
export class PGliteInProcess implements Database {
  private socketServer: PGLiteSocketServer | undefined;

  private constructor(private readonly db: PGlite) {}

  /** Opens PGlite (in memory, or persisted in `dataDir`). */
  static async open(dataDir?: string): Promise<PGliteInProcess> {
    return new PGliteInProcess(await openPGlite(dataDir));
  }

  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = [], options: QueryOptions = {}): Promise<Results<T>> {
    const { textTypes, ...rest } = options;
    const parsers = textTypes ? Object.fromEntries(textTypes.map((oid) => [oid, keepText])) : undefined;
    return this.db.query<T>(sql, params, { ...rest, ...(parsers ? { parsers } : {}) });
  }

  async exec(sql: string): Promise<Array<Results>> {
    return this.db.exec(sql);
  }

  async serve(port: number, host = '127.0.0.1'): Promise<void> {
    const { PGLiteSocketServer: Server } = await import('@electric-sql/pglite-socket');
    this.socketServer = new Server({ db: this.db, port, host });
    await this.socketServer.start();
  }

  async unserve(): Promise<void> {
    await this.socketServer?.stop();
    this.socketServer = undefined;
  }

  async close(): Promise<void> {
    await this.unserve();
    await this.db.close();
  }
}

/** PGlite running on a worker thread: the calling thread's event loop never waits for SQL. */
export class PGliteThread implements Database {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Keeps messages in call order while a blob is read into a transferable buffer. */
  private sending: Promise<void> = Promise.resolve();
  private exited: Error | undefined;

  private constructor(dataDir: string | undefined) {
    this.worker = new Worker(join(__dirname, 'pgliteWorker.cjs'), { workerData: { dataDir } });
    // Idle, the thread keeps no process alive (as the in-process PGlite did); a pending call does.
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => this.settle(reply));
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) => this.fail(new Error(`ERROR: the local database thread exited (code ${code})`)));
  }

  /** Starts the thread and opens PGlite in it (in memory, or persisted in `dataDir`). */
  static async open(dataDir?: string): Promise<PGliteThread> {
    const db = new PGliteThread(dataDir);
    try {
      await db.exec('SELECT 1'); // surfaces an open failure (bad data directory) here
    } catch (e) {
      await db.worker.terminate();
      throw e;
    }
    return db;
  }

  /** PGlite's `query`: one statement, with parameters. */
  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = [], options: QueryOptions = {}): Promise<Results<T>> {
    const { blob, ...rest } = options;
    const buffer = blob ? blob.arrayBuffer() : undefined;
    return this.call<Results<T>>(async () => {
      const request: Request = { op: 'query', sql, params, ...rest };
      if (buffer) request.blob = await buffer;
      return request;
    });
  }

  /** PGlite's `exec`: one or more statements, no parameters. */
  async exec(sql: string): Promise<Array<Results>> {
    return this.call(async () => ({ op: 'exec', sql }));
  }

  /** Serves the database over the Postgres wire protocol on host:port (psql), from its own thread. */
  async serve(port: number, host = '127.0.0.1'): Promise<void> {
    await this.call(async () => ({ op: 'serve', port, host }));
  }

  /** Stops {@link serve}. */
  async unserve(): Promise<void> {
    await this.call(async () => ({ op: 'unserve' }));
  }

  /** Closes PGlite and ends the thread. */
  async close(): Promise<void> {
    if (this.exited) return;
    await this.call(async () => ({ op: 'close' }));
    await this.worker.terminate();
  }

  private call<R>(build: () => Promise<Request>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const id = this.nextId++;
      const send = async () => {
        if (this.exited) throw this.exited;
        const request = await build();
        this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        if (this.pending.size === 1) this.worker.ref();
        const transfer = request.op === 'query' && request.blob ? [request.blob] : [];
        this.worker.postMessage({ id, ...request }, transfer);
      };
      this.sending = this.sending.then(send).catch(reject);
    });
  }

  private settle(reply: Reply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.ok) pending.resolve(reply.result);
    else pending.reject(Object.assign(new Error(reply.error.message), reply.error));
  }

  private fail(error: Error): void {
    this.exited ??= error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}
