/**
 * Statement records and the queue that runs them one at a time on PGlite (one
 * connection), in submission order. Each submission is a session of its own: its
 * transaction's logical lifetime starts at submission, so submissions that wait in the
 * queue overlap the running one (isolation.ts checks their conflicts as Redshift does).
 */
import { randomUUID } from 'node:crypto';
import { IsolationTracker } from './isolation';
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
  /** Logical time of the submission (isolation.ts). */
  submittedAt: number;
  /** ClientToken of the request, when one was given. */
  clientToken?: string;
  /** The database user the statement runs as (`IAMR:<role>` on a Serverless workgroup with IAM); undefined = the admin user. */
  sessionUser?: string;
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
  private readonly holds: Array<(record: StatementRecord) => boolean> = [];
  /** Serializable isolation bookkeeping: logical clock and committed transactions. */
  readonly isolation = new IsolationTracker();
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
      submittedAt: this.isolation.tick(),
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

  /**
   * Keeps submissions matching `predicate` queued (SUBMITTED) while later ones run, until the
   * returned release is called: lets a test make transactions overlap deterministically.
   */
  hold(predicate: (record: StatementRecord) => boolean): () => void {
    this.holds.push(predicate);
    return () => {
      const at = this.holds.indexOf(predicate);
      if (at >= 0) this.holds.splice(at, 1);
      this.kick();
    };
  }

  /** The earliest submission time of the records still queued or running, other than `except`. */
  oldestPendingSubmission(except?: StatementRecord): number | undefined {
    let oldest: number | undefined;
    for (const r of this.records.values()) {
      if (r === except || (r.status !== 'SUBMITTED' && r.status !== 'STARTED')) continue;
      if (oldest === undefined || r.submittedAt < oldest) oldest = r.submittedAt;
    }
    return oldest;
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

  private isHeld(record: StatementRecord): boolean {
    return this.holds.some((h) => h(record));
  }

  /** The first queued record that is not held. */
  private takeNext(): StatementRecord | undefined {
    const at = this.queue.findIndex((r) => !this.isHeld(r));
    return at < 0 ? undefined : this.queue.splice(at, 1)[0];
  }

  private kick(): void {
    if (this.running) return;
    this.running = (async () => {
      await new Promise((resolve) => setImmediate(resolve));
      for (let next = this.takeNext(); next; next = this.takeNext()) {
        await this.whenOpen();
        if (next.status !== 'SUBMITTED') continue;
        await this.runner(next);
      }
    })().finally(() => {
      this.running = undefined;
      if (this.queue.some((r) => !this.isHeld(r))) this.kick();
    });
  }
}
