/**
 * The warehouse port and its Redshift Data API adapter. The port is what the
 * handlers need (submit one statement or one transaction, wait for it, read its
 * rows as plain values); the adapter speaks the Data API through an injected
 * RedshiftDataClient, so AWS and the local endpoint run the same code.
 */
import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  type Field,
  type RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import type { ForkliftConfig, WarehouseConfig } from '../core/config/schema';
import { ForkliftError, StatementFailedError } from '../core/errors';
import {
  NOTHING_KNOWN,
  applyNewestData,
  missingKnownRelations,
  parseWarehouseState,
  renderNewestDataQuery,
  renderWarehouseStateBatch,
  stateSelectStatements,
  tablesToAdopt,
  type KnownRelations,
  type StateRequest,
  type TableState,
} from '../core/sql/state';
import { isoSecond } from '../core/dates';
import { AUDIT_ADDED_COLUMNS, renderAuditColumnsQuery, renderAuditDdl, renderAuditEvolution } from '../core/sql/audit';
import type { LoadInput, WarehouseState, WarehouseTarget } from '../core/types';

/** A value of a result row, converted from the Data API's Field union. */
export type SqlValue = string | number | boolean | null;
/** A result row: values in column order. */
export type Row = SqlValue[];

/** One statement of a batch, as DescribeStatement reports it. */
export interface SubStatementInfo {
  id: string;
  status: string;
  resultRows?: number;
  /** Nanoseconds, as the Data API reports durations. */
  durationNs?: number;
  error?: string;
}

/** A finished statement (or batch). */
export interface StatementInfo {
  id: string;
  status: string;
  resultRows?: number;
  durationNs?: number;
  subStatements: SubStatementInfo[];
}

/** How long to poll a statement. */
export interface WaitOptions {
  pollMs?: number;
  timeoutMs?: number;
}

/** What the functions need from the warehouse. */
export interface Warehouse {
  /** Submit one statement; returns its id. */
  execute(sql: string, name?: string): Promise<string>;
  /** Submit statements as one transaction; returns the batch id (sub-statement n is `<id>:<n>`, 1-based). */
  batch(sqls: string[], name?: string): Promise<string>;
  /** Poll until FINISHED; FAILED/ABORTED → StatementFailedError; too long → TransientError. */
  waitFor(id: string, options?: WaitOptions): Promise<StatementInfo>;
  /** All rows of a finished statement (every page), as plain values. */
  results(id: string): Promise<Row[]>;
}

/**
 * A condition worth retrying the whole unit of work for (throttling that outlasted the
 * adapter's own retries, a statement that did not finish in time). The state machine's
 * Prepare Retry matches this name; discover reports the affected records as batch failures.
 */
export class TransientError extends ForkliftError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TransientError';
  }
}

/** Data API error names that mean "try again later". */
const RETRYABLE = new Set([
  'ThrottlingException',
  'ActiveStatementsExceededException',
  'ActiveSessionsExceededException',
  'InternalServerException',
  'TooManyRequestsException',
]);

/** Adapter knobs; tests pass a no-op `sleep`. */
export interface DataApiOptions {
  /** Attempts per call when throttled (default 5). */
  maxAttempts?: number;
  /** First backoff delay in ms, doubled each attempt with full jitter (default 200). */
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Called once per failed Data API call (after retries), e.g. to count DataApiErrors. */
  onError?: (error: unknown) => void;
  /** Default polling for waitFor. */
  pollMs?: number;
  timeoutMs?: number;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The Data API connection fields from the config: a cluster with a user or a secret, or a Serverless workgroup. */
export function warehouseTarget(config: WarehouseConfig): WarehouseTarget {
  const target: WarehouseTarget = { Database: config.database };
  if (config.workgroupName !== undefined) {
    target.WorkgroupName = config.workgroupName;
    if (config.secretArn !== undefined) target.SecretArn = config.secretArn;
    return target;
  }
  if (config.clusterIdentifier === undefined) {
    throw new ForkliftError('warehouse: set clusterIdentifier (with dbUser or secretArn) or workgroupName');
  }
  target.ClusterIdentifier = config.clusterIdentifier;
  if (config.secretArn !== undefined) target.SecretArn = config.secretArn;
  else if (config.dbUser !== undefined) target.DbUser = config.dbUser;
  else throw new ForkliftError('warehouse: a clusterIdentifier needs dbUser or secretArn');
  return target;
}

/** A Field of GetStatementResult as a plain value (longs as numbers, blobs as base64). */
export function fieldValue(field: Field): SqlValue {
  if (field.isNull) return null;
  if (field.stringValue !== undefined) return field.stringValue;
  if (field.longValue !== undefined) return Number(field.longValue);
  if (field.doubleValue !== undefined) return field.doubleValue;
  if (field.booleanValue !== undefined) return field.booleanValue;
  if (field.blobValue !== undefined) return Buffer.from(field.blobValue).toString('base64');
  return null;
}

/** The Warehouse port over the Redshift Data API. */
export class DataApiWarehouse implements Warehouse {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: RedshiftDataClient,
    private readonly target: WarehouseTarget,
    private readonly options: DataApiOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 200;
    this.sleep = options.sleep ?? defaultSleep;
  }

  async execute(sql: string, name?: string): Promise<string> {
    const out = await this.call(() =>
      this.client.send(new ExecuteStatementCommand({ ...this.target, Sql: sql, StatementName: name })),
    );
    return required(out.Id, 'ExecuteStatement returned no Id');
  }

  async batch(sqls: string[], name?: string): Promise<string> {
    const out = await this.call(() =>
      this.client.send(new BatchExecuteStatementCommand({ ...this.target, Sqls: sqls, StatementName: name })),
    );
    return required(out.Id, 'BatchExecuteStatement returned no Id');
  }

  async waitFor(id: string, options: WaitOptions = {}): Promise<StatementInfo> {
    const pollMs = options.pollMs ?? this.options.pollMs ?? 500;
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? 300_000;
    let waited = 0;
    for (;;) {
      const d = await this.call(() => this.client.send(new DescribeStatementCommand({ Id: id })));
      const status = d.Status ?? 'UNKNOWN';
      if (status === 'FINISHED') {
        return {
          id,
          status,
          resultRows: d.ResultRows,
          durationNs: d.Duration,
          subStatements: (d.SubStatements ?? []).map((s) => ({
            id: s.Id ?? '',
            status: s.Status ?? 'UNKNOWN',
            resultRows: s.ResultRows,
            durationNs: s.Duration,
            error: s.Error,
          })),
        };
      }
      if (status === 'FAILED' || status === 'ABORTED') {
        this.options.onError?.(d.Error);
        throw new StatementFailedError(id, status, d.Error ?? 'no error text');
      }
      if (waited >= timeoutMs) {
        throw new TransientError(`statement ${id} still ${status} after ${Math.round(waited / 1000)}s`);
      }
      await this.sleep(pollMs);
      waited += pollMs;
    }
  }

  async results(id: string): Promise<Row[]> {
    const rows: Row[] = [];
    let token: string | undefined;
    do {
      const page = await this.call(() =>
        this.client.send(new GetStatementResultCommand({ Id: id, NextToken: token })),
      );
      for (const record of page.Records ?? []) rows.push(record.map(fieldValue));
      token = page.NextToken;
    } while (token);
    return rows;
  }

  /** One SDK call, retried with exponential backoff and full jitter while throttled. */
  private async call<T>(send: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (err) {
        const name = (err as { name?: string }).name ?? '';
        if (!RETRYABLE.has(name)) {
          this.options.onError?.(err);
          throw err;
        }
        if (attempt >= this.maxAttempts) {
          this.options.onError?.(err);
          throw new TransientError(`Data API still ${name} after ${attempt} attempts`, { cause: err });
        }
        await this.sleep(Math.random() * this.baseDelayMs * 2 ** (attempt - 1));
      }
    }
  }
}

function required(value: string | undefined, message: string): string {
  if (!value) throw new ForkliftError(message);
  return value;
}

/** Run one statement to the end and return its rows. */
export async function query(warehouse: Warehouse, sql: string, options?: WaitOptions): Promise<Row[]> {
  const id = await warehouse.execute(sql);
  await warehouse.waitFor(id, options);
  return warehouse.results(id);
}

/** Run statements as one transaction and return the rows of its `statement`-th (1-based) statement. */
export async function queryBatch(
  warehouse: Warehouse,
  sqls: string[],
  statement: number,
  options?: WaitOptions,
): Promise<Row[]> {
  if (sqls.length === 1) return query(warehouse, sqls[0]!, options);
  const id = await warehouse.batch(sqls);
  await warehouse.waitFor(id, options);
  return warehouse.results(`${id}:${statement}`);
}

/**
 * What the warehouse-state reads of one Lambda container have seen exist: the audit tables, and
 * tables with their schema and ledger (a handler keeps one for its lifetime, so a container's
 * first read creates them and its later reads render no DDL). Only a hint: every read's catalog
 * SELECT checks it ({@link readWarehouseState}), and a read that finds it wrong forgets it.
 */
export class KnownRelationsCache {
  private auditSchema: string | undefined;
  /** `schema.table` of the tables known to exist with their ledger. */
  private readonly tables = new Set<string>();

  /** What a read of `config`'s tables may take as existing. */
  known(config: ForkliftConfig): KnownRelations {
    if (this.auditSchema !== config.warehouse.auditSchema) return NOTHING_KNOWN;
    const tables = Object.entries(config.tables).filter(([name, t]) => this.tables.has(`${t.schema}.${name}`));
    return { audit: true, tables: new Set(tables.map(([name]) => name)) };
  }

  /** After a read that created (or saw) the audit tables and these tables with their ledgers. */
  remember(config: ForkliftConfig, tables: readonly string[]): void {
    if (this.auditSchema !== config.warehouse.auditSchema) this.forget();
    this.auditSchema = config.warehouse.auditSchema;
    for (const name of tables) {
      const t = config.tables[name];
      if (t) this.tables.add(`${t.schema}.${name}`);
    }
  }

  /** Something known was dropped: the next read renders every CREATE again. */
  forget(): void {
    this.auditSchema = undefined;
    this.tables.clear();
  }
}

/**
 * The warehouse state of `requests` (tables and candidate partitions) in ONE Data API
 * submission: the batch of sql/state.ts, read back from its SELECTs. With `relations`, the
 * batch renders no DDL for what an earlier read saw exist; when it turns out dropped since
 * (its catalog SELECT misses it, or the batch fails on a missing relation), the read runs again
 * with every CREATE ... IF NOT EXISTS (one more submission) and the cache is forgotten.
 */
export async function readWarehouseState(
  warehouse: Warehouse,
  config: ForkliftConfig,
  requests: readonly StateRequest[],
  options?: WaitOptions,
  relations?: KnownRelationsCache,
): Promise<Map<string, TableState>> {
  const known = relations?.known(config) ?? NOTHING_KNOWN;
  let rows: Row[] | undefined;
  try {
    rows = await submitStateRead(warehouse, config, requests, known, options);
  } catch (err) {
    const assumed = known.audit || known.tables.size > 0;
    if (!assumed || !(err instanceof StatementFailedError) || !missingRelation(err.message)) throw err;
  }
  if (rows === undefined || missingKnownRelations(config, requests, known, rows).length > 0) {
    relations?.forget();
    rows = await submitStateRead(warehouse, config, requests, NOTHING_KNOWN, options);
  }
  relations?.remember(config, requests.map((r) => r.table));
  const states = parseWarehouseState(rows, requests.map((r) => r.table));
  await readAdoptedData(warehouse, config, states, options);
  return states;
}

/**
 * Adopted tables (existing, nothing loaded by Forklift yet): one more read, of the newest data each holds from
 * before Forklift, into `states` (`newestData`); no query when there is none, so only until a table's first load.
 */
export async function readAdoptedData(warehouse: Warehouse, config: ForkliftConfig, states: Map<string, TableState>, options?: WaitOptions): Promise<void> {
  const adopt = tablesToAdopt(config, states);
  if (adopt.length) applyNewestData(config, states, await query(warehouse, renderNewestDataQuery(config, adopt, states), options));
}

/** One state read rendered with `known`: the rows of its SELECTs (audit tables of an older version evolved on the way). */
async function submitStateRead(
  warehouse: Warehouse,
  config: ForkliftConfig,
  requests: readonly StateRequest[],
  known: KnownRelations,
  options?: WaitOptions,
): Promise<Row[]> {
  const sqls = renderWarehouseStateBatch(config, requests, known);
  let id = await warehouse.batch(sqls);
  try {
    await warehouse.waitFor(id, options);
  } catch (err) {
    // Audit tables of an older version lack a column added since: evolve them once, read again.
    if (!(err instanceof StatementFailedError) || !missingAuditColumn(err.message)) throw err;
    await ensureAuditColumns(warehouse, config.warehouse.auditSchema, options);
    id = await warehouse.batch(sqls);
    await warehouse.waitFor(id, options);
  }
  const rows: Row[] = [];
  for (const statement of stateSelectStatements(known)) rows.push(...(await warehouse.results(`${id}:${statement}`)));
  return rows;
}

/** True when a statement failed on a relation (or its schema) that does not exist: dropped since a read saw it. */
export function missingRelation(message: string): boolean {
  return /\b(relation|schema) "?[^"\s]+"? does not exist/i.test(message);
}

/** True when a statement failed on a column the audit tables gained after their first release. */
export function missingAuditColumn(message: string): boolean {
  return AUDIT_ADDED_COLUMNS.some((c) => new RegExp(`column "?${c.column}"? (of relation "?${c.table}"? )?does not exist`, 'i').test(message));
}

/**
 * Audit tables created by an older version get the columns added since (sql/audit.ts), each
 * ALTER on its own. The state read calls it when it fails on such a column (no cost otherwise).
 * A concurrent ALTER that won the race ("already exists") is success.
 */
export async function ensureAuditColumns(warehouse: Warehouse, auditSchema: string, options?: WaitOptions): Promise<void> {
  const ddl = renderAuditDdl(auditSchema);
  const existing = new Set(
    (await queryBatch(warehouse, [...ddl, renderAuditColumnsQuery(auditSchema)], ddl.length + 1, options)).map((r) => `${String(r[0])}.${String(r[1])}`),
  );
  for (const sql of renderAuditEvolution(auditSchema, existing)) {
    try {
      await warehouse.waitFor(await warehouse.execute(sql), options);
    } catch (err) {
      if (!/already exists/i.test((err as Error).message)) throw err;
    }
  }
}

/** The WarehouseState of one partition, from the per-table state of sql/state.ts (a table without an entry: nothing loaded). */
export function stateFor(table: TableState | undefined, partitionDate: Date): WarehouseState {
  const state: WarehouseState = { partitionLoaded: table?.loadedPartitions.has(isoSecond(partitionDate)) ?? false };
  if (table !== undefined) state.loadedFiles = table.loadedFiles.get(isoSecond(partitionDate)) ?? new Set<string>();
  if (table !== undefined) state.failedLoads = table.failedLoads.get(isoSecond(partitionDate)) ?? new Set<string>();
  if (table?.newestLoaded !== undefined) state.newestLoaded = table.newestLoaded;
  if (table?.newestData !== undefined) state.newestData = table.newestData;
  if (table?.columns !== undefined) state.columns = table.columns;
  if (table !== undefined) state.existingGroups = table.existingGroups;
  if (table?.recentLoadSeconds !== undefined) state.recentLoadSeconds = table.recentLoadSeconds;
  return state;
}

/** discover's `observed` (ISO dates) as a WarehouseState. */
export function observedState(observed: NonNullable<LoadInput['observed']>): WarehouseState {
  const state: WarehouseState = { partitionLoaded: observed.partitionLoaded };
  if (observed.newestLoaded !== undefined) state.newestLoaded = new Date(observed.newestLoaded);
  if (observed.newestData !== undefined) state.newestData = new Date(observed.newestData);
  if (observed.columns !== undefined) state.columns = observed.columns;
  if (observed.groups !== undefined) state.existingGroups = new Set(observed.groups);
  if (observed.recentLoadSeconds !== undefined) state.recentLoadSeconds = observed.recentLoadSeconds;
  return state;
}

/** A WarehouseState as discover passes it in the execution input. */
export function toObserved(state: WarehouseState): NonNullable<LoadInput['observed']> {
  const observed: NonNullable<LoadInput['observed']> = { partitionLoaded: state.partitionLoaded };
  if (state.newestLoaded !== undefined) observed.newestLoaded = state.newestLoaded.toISOString();
  if (state.newestData !== undefined) observed.newestData = state.newestData.toISOString();
  if (state.columns !== undefined) observed.columns = state.columns;
  if (state.existingGroups !== undefined) observed.groups = [...state.existingGroups].sort();
  if (state.recentLoadSeconds !== undefined) observed.recentLoadSeconds = state.recentLoadSeconds;
  return observed;
}
