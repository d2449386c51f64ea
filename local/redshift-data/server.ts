/**
 * The local Redshift Data API: an HTTP endpoint the real
 * `@aws-sdk/client-redshift-data` client talks to (set only `endpoint`), backed
 * by one PGlite database speaking Redshift's dialect, with COPY from S3.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { AddressInfo } from 'node:net';
import { INIT_SQL } from './dialect';
import { type Database, PGliteInProcess, PGliteThread } from './database';
import { createExecutor } from './executor';
import { createOperations } from './operations';
import { createProtocolServer } from './protocol';
import type { ResultSet } from './results';
import { type StatementListener, type StatementRecord, StatementStore } from './statements';

/** Options of {@link startRedshiftDataServer}. */
export interface RedshiftDataServerOptions {
  /** S3 client COPY reads through (the local s3rver, or real S3). */
  s3: S3Client;
  /** PGlite data directory; omitted = in memory. A second run on the same directory sees the first run's warehouse. */
  dataDir?: string;
  /** TCP port on 127.0.0.1; 0 or omitted = chosen by the OS. */
  port?: number;
  /** Records per GetStatementResult page (default 10000). */
  pageSize?: number;
  /** Another server's database (its `db`) to share instead of opening one (it is not closed by stop()). */
  pglite?: Database;
  /**
   * Run PGlite on its own worker thread (the default), so a running statement does not stall S3,
   * Step Functions, the handlers or DescribeStatement, as Redshift, running elsewhere, does not: a
   * stalled event loop fired every poll late, when the statement had just finished, and hid the
   * poll schedule's lag. `false` (or FORKLIFT_LOCAL_DB_THREAD=0) runs it on the calling thread, to
   * measure that difference.
   */
  thread?: boolean;
  /** Limit of SUBMITTED+STARTED statements before ActiveStatementsExceededException (default 500). */
  maxActiveStatements?: number;
  /** Called on every status change of a statement or sub-statement. */
  onStatement?: StatementListener;
  /**
   * Access key id → IAM role name. On a Serverless workgroup without SecretArn, a request signed
   * with a mapped key runs as the database user `IAMR:<role>` (created on first use); others run as
   * the admin user.
   */
  iamRoles?: Readonly<Record<string, string>>;
}

/** Counters for tests and benchmarks. */
export interface RedshiftDataStats {
  /** ExecuteStatement + BatchExecuteStatement calls accepted. */
  submissions: number;
  /** SQL texts submitted, in order (a batch adds each of its SQLs). */
  statements: string[];
}

/** A running local Data API endpoint. */
export interface RedshiftDataServer {
  /** `http://127.0.0.1:<port>`, for the client's `endpoint`. */
  endpoint: string;
  port: number;
  /** The database, for direct inspection in tests. */
  db: Database;
  stats: RedshiftDataStats;
  /** Runs SQL directly (outside the queue and the dialect) and returns rows as objects. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs SQL through the Data API path (dialect, queue) and returns the result set, or throws its Error. */
  execute(sql: string): Promise<ResultSet | undefined>;
  /** Holds the statement queue before its next statement; statements stay SUBMITTED (or a batch STARTED). */
  pause(): void;
  /** Releases the queue. */
  resume(): void;
  /** Keeps submissions matching `predicate` queued while later ones run, until the returned function is called. */
  hold(predicate: (record: StatementRecord) => boolean): () => void;
  /** Adds a status-change listener; returns its remover. */
  onStatement(listener: StatementListener): () => void;
  /** Waits for queued work, closes HTTP, then PGlite and its thread (unless it was passed in). */
  stop(): Promise<void>;
}

/** Starts the endpoint on 127.0.0.1. */
export async function startRedshiftDataServer(options: RedshiftDataServerOptions): Promise<RedshiftDataServer> {
  const thread = options.thread ?? process.env['FORKLIFT_LOCAL_DB_THREAD'] !== '0';
  const db = options.pglite ?? (await (thread ? PGliteThread : PGliteInProcess).open(options.dataDir));
  await db.exec(INIT_SQL);
  const stats: RedshiftDataStats = { submissions: 0, statements: [] };
  const store: StatementStore = new StatementStore((record) => executor(record));
  const executor = createExecutor({ db, s3: options.s3, store });
  store.onChange((record, sub) => {
    if (!sub && record.status === 'SUBMITTED') {
      stats.submissions++;
      stats.statements.push(...record.subStatements.map((s) => s.sql));
    }
  });
  if (options.onStatement) store.onChange(options.onStatement);
  const http = createProtocolServer(
    createOperations(store, {
      pageSize: options.pageSize ?? 10000,
      maxActiveStatements: options.maxActiveStatements ?? 500,
      ...(options.iamRoles ? { iamRoles: options.iamRoles } : {}),
    }),
  );
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  let stopped = false;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    db,
    stats,
    async query<T>(sql: string, params?: unknown[]) {
      await store.drain();
      return (await db.query<T>(sql, params)).rows;
    },
    async execute(sql: string) {
      const record = store.submit([sql], false, { database: 'dev', workgroupName: 'local' });
      await waitFor(store, record);
      if (record.status !== 'FINISHED') throw new Error(record.error ?? record.status);
      return record.subStatements[0]?.result;
    },
    pause: () => store.pause(),
    resume: () => store.resume(),
    hold: (predicate) => store.hold(predicate),
    onStatement: (listener) => store.onChange(listener),
    async stop() {
      if (stopped) return;
      stopped = true;
      store.resume();
      await store.drain();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      if (!options.pglite) await db.close();
    },
  };
}

function waitFor(store: StatementStore, record: StatementRecord): Promise<void> {
  return new Promise((resolve) => {
    const done = (): boolean => ['FINISHED', 'FAILED', 'ABORTED'].includes(record.status);
    if (done()) return resolve();
    const off = store.onChange((r) => {
      if (r === record && done()) {
        off();
        resolve();
      }
    });
  });
}

