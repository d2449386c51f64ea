/**
 * Plain shapes shared by the domain, the handlers, the state machine and the
 * CLI. Dates crossing a JSON boundary (execution input/output) are ISO strings.
 */
import type { ColumnType } from './config/columnTypes';

/** An S3 object as the domain sees it. `lastModified` is used only for quiet-period completeness, never for dates. */
export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: Date;
  /** The object's ETag without quotes (from the listing or a HEAD): with the key, its identity in the file ledger. */
  etag?: string;
}

/** Time granularity of a partition, from the finest date field in its pattern. */
export type Granularity = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second';

/** What one key means for the pipeline. */
export type KeyMatch =
  | {
      kind: 'partition';
      table: string;
      /** Start of the partition's period, UTC. */
      partitionDate: Date;
      /** The partition's key prefix (folder partitions, ending in '/') or the object key itself (single-object partitions). */
      partitionKey: string;
      key: string;
      /** True for the table's completeness marker file (never loaded). */
      isMarker: boolean;
    }
  | { kind: 'ignored'; key: string; reason: string; /** Set when the key is a table's (disabled, or a side file its `ignore` globs match). */ table?: string }
  | { kind: 'rejected'; key: string; table: string; reason: string };

/** A partition and the objects that make it up. */
export interface Partition {
  table: string;
  date: Date;
  /** End of the partition's period (exclusive): date + one granularity step. */
  end: Date;
  key: string;
  files: ObjectInfo[];
  marker?: ObjectInfo;
}

/** Completeness of a partition under its table's rule. */
export type Completeness = { complete: true } | { complete: false; reason: string; retryAfterSeconds?: number };

/** An existing warehouse column, as read from information_schema.columns. */
export interface ExistingColumn {
  name: string;
  type: ColumnType;
}

/** What the warehouse knows about one table, read in one Data API submission. */
export interface WarehouseState {
  /** Newest partition date with a successful load, if any. */
  newestLoaded?: Date;
  /**
   * No loaded partition, but the table already holds data (an adopted table): the partition
   * period of its newest data-date value. Compared like newestLoaded.
   */
  newestData?: Date;
  /** True when the partition under consideration already has a successful load. */
  partitionLoaded: boolean;
  /**
   * The file ledger of the partition under consideration (`load_files`), as file identities
   * (`fileIdentity`: `key#etag`, or the bare key for rows written before ETags were recorded);
   * undefined when not read.
   */
  loadedFiles?: ReadonlySet<string>;
  /** Load ids of the partition's failed loads (`loads` rows with status `failed`); undefined when not read. */
  failedLoads?: ReadonlySet<string>;
  /** The target table's columns; undefined when the table does not exist yet. */
  columns?: ExistingColumn[];
  /** Seconds the table's most recent load batches took (from Prepare's planning to the audit row): the polling schedule's estimate. */
  recentLoadSeconds?: number[];
  /**
   * The table's `readOnlyGroups` that exist in the warehouse (sql/state.ts reads `pg_group`);
   * the load grants to these only. Undefined when not read: the load grants to every group.
   */
  existingGroups?: ReadonlySet<string>;
}

/** Flags an operator (or the CLI) can set on a run. */
export interface LoadFlags {
  /** Load even when the rules say skip (older partition, already loaded). Reloads replace, never duplicate. */
  force: boolean;
  /** Replace the whole table with this partition (snapshot) for this run. Never implies force. */
  truncate: boolean;
}

/** The outcome of the load rules. */
export type Decision =
  | {
      action: 'load';
      reason: string;
      /** true when rows of this partition may already be in the table */
      reload: boolean;
      /** true for an append top-up: load only the partition's files the ledger does not hold */
      newFilesOnly?: boolean;
    }
  | { action: 'skip'; reason: string };

/**
 * Input of statemachines/load.asl.json, documented in statemachines/load.input.schema.json.
 * A load: `table` (+ optional `date`, `files`, `force`, `truncate`). An aggregate-only run:
 * `aggregate` or `table`, with `start` and `end` and `aggregateOnly: true`.
 */
export interface LoadInput {
  table?: string;
  /** Partition date (ISO 8601, or the forms the CLI accepts: 2026-11-20, 2026-11-20T13). Absent: the latest partition. */
  date?: string;
  /** Explicit object keys to load instead of listing the partition. */
  files?: string[];
  force?: boolean;
  truncate?: boolean;
  /** Aggregate-only run: recompute these aggregates (default: all fed by `table`) for [start, end). */
  aggregateOnly?: boolean;
  aggregates?: string[];
  start?: string;
  end?: string;
  /**
   * Set by discover: the warehouse as it saw it, so Prepare need not read it again (ISO dates).
   * When `partitionLoaded` is true (a top-up), Prepare reads the state itself (with the file ledger).
   */
  observed?: { newestLoaded?: string; newestData?: string; partitionLoaded: boolean; columns?: ExistingColumn[]; groups?: string[]; recentLoadSeconds?: number[] };
}

/** The Data API connection fields every request carries. */
export interface WarehouseTarget {
  Database: string;
  ClusterIdentifier?: string;
  DbUser?: string;
  SecretArn?: string;
  WorkgroupName?: string;
}

/** A BatchExecuteStatement request as the state machine passes it to the Data API. */
export interface BatchRequest extends WarehouseTarget {
  Sqls: string[];
  StatementName?: string;
  /** Idempotency token of the first submission (core/submission.ts `clientToken`). */
  ClientToken?: string;
}

/** Which statement of a batch did which step, so Report can say (kind, name, rows, seconds). */
export interface StepRef {
  kind: 'raw' | 'fact';
  name: string;
  /** 1-based index of the statement whose ResultRows are the step's rows. */
  statement: number;
  /** `load`: a fact step inside the load batch (aggregates recomputed in the load's transaction). */
  batch?: 'load';
}

/** Prepare's output: `$.plan` in the state machine. */
export interface LoadPlan {
  action: 'load' | 'aggregate' | 'skip' | 'wait';
  reason: string;
  loadId: string;
  table?: string;
  partitionDate?: string;
  partitionKey?: string;
  files?: number;
  bytes?: number;
  mode?: string;
  waitSeconds?: number;
  /** Shortest wait of the polling loops (seconds). */
  pollSeconds: number;
  /** Current wait of the load polling loop (`index` into `loadPolls`); the state machine steps it after each unfinished poll. */
  loadWait: { seconds: number; index?: number };
  /** Current wait of the aggregate polling loop. */
  aggregateWait: { seconds: number; index?: number };
  /** The load loop's waits (core/submission.ts `pollSchedule`), from the expected duration of the batch. */
  loadPolls?: number[];
  /** The aggregate loop's waits. */
  aggregatePolls?: number[];
  /** Submission attempts of each batch (a serialization conflict resubmits with a new ClientToken), and the wait before the next. */
  attempts?: { load: number; aggregate: number; wait: number };
  loadRequest?: BatchRequest;
  /** 1-based index of the load batch statement that selects the outcome row. */
  outcomeStatement?: number;
  /** The aggregates this execution recomputes (PlanAggregates renders their batches after the load). */
  aggregates?: string[];
  steps: StepRef[];
}
