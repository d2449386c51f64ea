/**
 * Statement records and the single FIFO queue that runs them one at a time
 * (PGlite has one connection; serializing statements also serializes work per table).
 */
import { randomUUID } from 'node:crypto';
import type { ResultSet } from './results';

/** Data API statement statuses. */
export type StatementStatus = 'SUBMITTED' | 'STARTED' | 'FINISHED' | 'FAILED' | 'ABORTED';

/** One SQL of a batch (or the only SQL of an ExecuteStatement). */
export interface SubStatement {
  id: string;
  sql: string;
  status: StatementStatus;
  error?: string;
  resultRows: number;
  hasResultSet: boolean;
  result?: ResultSet;
  createdAt: Date;
  updatedAt: Date;
  durationNs: number;
  queryNumber: number;
}

/** Who ran a statement and where, as given in the request. */
export interface StatementTarget {
  database?: string;
  clusterIdentifier?: string;
  dbUser?: string;
  secretArn?: string;
  workgroupName?: string;
  statementName?: string;
}

/** One ExecuteStatement or BatchExecuteStatement submission. */
export interface StatementRecord {
  id: string;
  isBatch: boolean;
  parameters?: Array<{ name: string; value: string }>;
  target: StatementTarget;
  status: StatementStatus;
  error?: string;
  createdAt: Date;
  updatedAt: Date;
  durationNs: number;
  subStatements: SubStatement[];
  cancelRequested: boolean;
}

/** Runs one record to completion, setting its statuses. */
export type Runner = (record: StatementRecord) => Promise<void>;

/** A listener told of every status change, for tests and benchmarks. */
export type StatementListener = (record: StatementRecord, sub?: SubStatement) => void;

/** Holds every statement of this server's lifetime and runs them in submission order. */
export class StatementStore {
  private readonly records = new Map<string, StatementRecord>();
  private readonly queue: StatementRecord[] = [];
  private readonly listeners: StatementListener[] = [];
  private running: Promise<void> | undefined;
  private gate: { promise: Promise<void>; open: () => void } | undefined;
  private queryCounter = 1000;

  constructor(private readonly runner: Runner) {}

  /** Registers a new submission and queues it; returns at once, as the Data API does. */
  submit(sqls: string[], isBatch: boolean, target: StatementTarget, parameters?: Array<{ name: string; value: string }>): StatementRecord {
    const id = randomUUID();
    const now = new Date();
    const record: StatementRecord = {
      id,
      isBatch,
      target,
      status: 'SUBMITTED',
      createdAt: now,
      updatedAt: now,
      durationNs: 0,
      cancelRequested: false,
      subStatements: sqls.map((sql, i) => ({
        id: isBatch ? `${id}:${i + 1}` : id,
        sql,
        status: 'SUBMITTED',
        resultRows: -1,
        hasResultSet: false,
        createdAt: now,
        updatedAt: now,
        durationNs: 0,
        queryNumber: ++this.queryCounter,
      })),
      ...(parameters ? { parameters } : {}),
    };
    this.records.set(id, record);
    this.queue.push(record);
    this.notify(record);
    this.kick();
    return record;
  }

  /** The record for a statement id or a sub-statement id (`<id>:<n>`). */
  find(id: string): { record: StatementRecord; sub?: SubStatement } | undefined {
    const direct = this.records.get(id);
    if (direct) return { record: direct };
    const m = /^(.*):(\d+)$/.exec(id);
    if (!m) return undefined;
    const record = this.records.get(m[1] as string);
    const sub = record?.isBatch ? record.subStatements[Number(m[2]) - 1] : undefined;
    return record && sub ? { record, sub } : undefined;
  }

  /** Every record, newest first. */
  list(): StatementRecord[] {
    return [...this.records.values()].reverse();
  }

  /** Records that are SUBMITTED or STARTED. */
  activeCount(): number {
    let n = 0;
    for (const r of this.records.values()) if (r.status === 'SUBMITTED' || r.status === 'STARTED') n++;
    return n;
  }

  /** Cancels a queued statement at once; a running one stops at its next statement boundary and rolls back. */
  cancel(record: StatementRecord): void {
    if (record.status === 'SUBMITTED') {
      const at = this.queue.indexOf(record);
      if (at >= 0) this.queue.splice(at, 1);
      this.setStatus(record, 'ABORTED');
      for (const sub of record.subStatements) this.setSubStatus(record, sub, 'ABORTED');
    } else {
      record.cancelRequested = true;
    }
  }

  /** Sets a record's status, stamping UpdatedAt and telling listeners. */
  setStatus(record: StatementRecord, status: StatementStatus, error?: string): void {
    record.status = status;
    record.updatedAt = new Date();
    if (error !== undefined) record.error = error;
    this.notify(record);
  }

  /** Sets a sub-statement's status the same way. */
  setSubStatus(record: StatementRecord, sub: SubStatement, status: StatementStatus, error?: string): void {
    sub.status = status;
    sub.updatedAt = new Date();
    if (error !== undefined) sub.error = error;
    this.notify(record, sub);
  }

  /** Adds a status-change listener; returns a function that removes it. */
  onChange(listener: StatementListener): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  /** Holds the queue before its next statement (a busy cluster, for tests). */
  pause(): void {
    if (this.gate) return;
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.gate = { promise, open };
  }

  /** Lets the queue run again. */
  resume(): void {
    const gate = this.gate;
    this.gate = undefined;
    gate?.open();
  }

  /** Resolves when the queue is not paused; the runner awaits this between statements. */
  async whenOpen(): Promise<void> {
    while (this.gate) await this.gate.promise;
  }

  /** Resolves when everything queued so far has run. */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  private notify(record: StatementRecord, sub?: SubStatement): void {
    for (const l of this.listeners) {
      try {
        l(record, sub);
      } catch {
        /* a listener's failure is not the statement's */
      }
    }
  }

  private kick(): void {
    if (this.running) return;
    this.running = (async () => {
      await new Promise((resolve) => setImmediate(resolve));
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        await this.whenOpen();
        if (next.status !== 'SUBMITTED') continue;
        await this.runner(next);
      }
    })().finally(() => {
      this.running = undefined;
      if (this.queue.length > 0) this.kick();
    });
  }
}
