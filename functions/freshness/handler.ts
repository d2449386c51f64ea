/**
 * Freshness: a scheduled check. One Data API read of each table's newest loaded
 * partition, then DataLagMinutes per table: minutes from the end of that partition
 * to now. Then the load sweep (below): partitions whose automatic load ended without
 * succeeding (stopped, killed, failed, timed out) are started again under discover's rules
 * and names, with no new event needed. Then the aggregate sweep: pending aggregate work, its
 * age, and an aggregate-only execution for work that stayed pending. A table that was never loaded emits {@link NEVER_LOADED_LAG_MINUTES}, so its
 * freshness alarm fires instead of staying silent on missing data.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { readAggregateWork } from '../adapters/aggregates';
import { describeExecution, runningExecutionNames, startExecution, unfinishedExecutionNames } from '../adapters/stepFunctions';
import { query, readWarehouseState, stateFor, type Warehouse } from '../adapters/warehouse';
import { startPartitionLoad, type PartitionRef } from '../discover/partition';
import { isoSecond } from '../core/dates';
import { renderPartitionKey } from '../core/keys';
import type { LoadInput } from '../core/types';
import { STALE_PENDING_MINUTES } from '../core/aggregateRun';
import { aggregateRunName } from '../core/names';
import { aggregatesFedBy, summarizePending } from '../core/sql/aggregate';
import type { ForkliftConfig } from '../core/config/schema';
import { StatementFailedError } from '../core/errors';
import { MetricName } from '../core/metricNames';
import { parseTimestamp } from '../core/sql/state';
import { renderFreshness } from '../core/sql/status';
import { dataLagMinutes } from '../report/handler';
import { baseDepsFromEnvironment, lazyHandler, stateMachineArnFromEnvironment } from '../runtime/env';
import { warehouseFromEnvironment } from '../runtime/warehouse';
import type { Log, MetricsSink } from '../runtime/observability';

/** The lag reported for a table with no successful load: ten years, far beyond any SLA. */
export const NEVER_LOADED_LAG_MINUTES = 10 * 365 * 24 * 60;

/** What Freshness needs. */
export interface FreshnessDeps {
  config: ForkliftConfig;
  warehouse: Warehouse;
  log: Log;
  metrics: MetricsSink;
  now: () => Date;
  /**
   * The sweeps start executions of this state machine: loads of partitions whose automatic load
   * did not finish, aggregate-only runs for stale pending aggregate work.
   */
  sfn?: SFNClient;
  stateMachineArn?: string;
  /** The load sweep lists the candidate partitions' objects (omitted: no load sweep). */
  s3?: S3Client;
  /** The load sweep's per-run bounds (tests lower them; omitted: the defaults below). */
  loadSweep?: { maxDescribes?: number };
}

/** How far back the load sweep looks for automatic loads that ended without succeeding. */
export const LOAD_SWEEP_LOOKBACK_HOURS = 24;
/** Unfinished executions one sweep examines at most (the newest first; the rest wait for the next sweep). */
export const LOAD_SWEEP_MAX_EXECUTIONS = 100;

/**
 * Per table: the newest loaded partition (ISO, or null) and the lag emitted; for tables that
 * feed aggregates, the age of their oldest pending aggregate work (0: none) and the sweep
 * execution started for it, if any.
 */
export type FreshnessResult = Record<
  string,
  {
    newestPartition: string | null;
    lagMinutes: number;
    pendingAggregateMinutes?: number;
    pendingLoads?: number;
    sweep?: string;
    /** Loads the load sweep started (partitions whose last automatic load did not finish). */
    restartedLoads?: string[];
  }
>;

/** Build the Freshness handler. */
export function createFreshnessHandler(deps: FreshnessDeps): (event?: unknown) => Promise<FreshnessResult> {
  const { config, log, metrics } = deps;
  return async () => {
    const tables = Object.keys(config.tables);
    let rows: Awaited<ReturnType<typeof query>>;
    try {
      rows = await query(deps.warehouse, renderFreshness(config, tables));
    } catch (err) {
      // Before the first load the audit table does not exist: every table counts as never loaded.
      if (!(err instanceof StatementFailedError && /does not exist/i.test(err.message))) throw err;
      log.warn('the audit table does not exist yet: no table was ever loaded');
      rows = [];
    }
    const newest = new Map<string, Date>();
    for (const [table, partition] of rows) {
      const date = parseTimestamp(partition ?? null);
      if (typeof table === 'string' && date) newest.set(table, date);
    }
    const now = deps.now();
    const result: FreshnessResult = {};
    try {
      for (const table of tables) {
        const date = newest.get(table);
        const lag = date ? (dataLagMinutes(config, table, date.toISOString(), now) ?? 0) : NEVER_LOADED_LAG_MINUTES;
        metrics.add(MetricName.DataLagMinutes, 'None', lag, table);
        result[table] = { newestPartition: date ? date.toISOString() : null, lagMinutes: lag };
      }
    } finally {
      metrics.flush();
    }
    await sweepLoads(deps, result);
    await sweepAggregates(deps, result);
    log.info('freshness', { tables: result });
    return result;
  };
}

/**
 * The load sweep. Evidence: the state machine's executions that ended ABORTED, FAILED or
 * TIMED_OUT in the last {@link LOAD_SWEEP_LOOKBACK_HOURS} hours (a stopped or killed execution
 * leaves no audit row; a failed one leaves its `failed` row and a FAILED execution), newest first,
 * so the cost follows the failures, never the bucket. Each automatic load among them (discover's
 * input: table, date, observed) names a partition; per partition, when no load of it runs, the
 * shared start (discover/partition.ts: core/discovery.ts decides and names) lists its objects and
 * starts what the load rules say, under the same deterministic names as discover: a partition
 * loaded since is skipped, duplicate sweeps dedupe, and the same files are attempted twice at most.
 */
async function sweepLoads(deps: FreshnessDeps, result: FreshnessResult): Promise<void> {
  const { config, log, sfn, s3, stateMachineArn } = deps;
  if (!sfn || !s3 || !stateMachineArn) return;
  const now = deps.now();
  const since = new Date(now.getTime() - LOAD_SWEEP_LOOKBACK_HOURS * 3_600_000);
  const names = (await unfinishedExecutionNames(sfn, stateMachineArn, since)).slice(0, deps.loadSweep?.maxDescribes ?? LOAD_SWEEP_MAX_EXECUTIONS);
  const candidates = new Map<string, PartitionRef>();
  for (const name of names) {
    const input = parseLoadInput((await describeExecution(sfn, stateMachineArn, name)).input);
    // Automatic loads only: manual runs (files, force, truncate) and aggregate-only runs are a person's to repeat.
    if (!input?.table || !input.date || !input.observed || input.files || input.force || input.truncate || input.aggregateOnly) continue;
    const table = config.tables[input.table];
    const date = new Date(input.date);
    if (!table || table.enabled === false || Number.isNaN(date.getTime())) continue;
    const id = `${input.table}\u0000${date.getTime()}`;
    if (!candidates.has(id)) candidates.set(id, { table: input.table, date, partitionKey: renderPartitionKey(config, input.table, date) });
  }
  if (candidates.size === 0) return;
  // Before the state read, as in discover: an execution not running now has committed (or failed) before the read.
  const checkedAt = new Date();
  const running = await runningExecutionNames(sfn, stateMachineArn);
  const byTable = new Map<string, Date[]>();
  for (const p of candidates.values()) byTable.set(p.table, [...(byTable.get(p.table) ?? []), p.date]);
  const states = await readWarehouseState(deps.warehouse, config, [...byTable].map(([table, dates]) => ({ table, candidates: dates })));
  const startDeps = { ...deps, sfn, s3, stateMachineArn };
  for (const p of candidates.values()) {
    try {
      const started = await startPartitionLoad(startDeps, p, stateFor(states.get(p.table), p.date), running, checkedAt, 'sweep');
      if (started.outcome !== 'started') continue;
      const entry = (result[p.table] ??= { newestPartition: null, lagMinutes: 0 });
      (entry.restartedLoads ??= []).push(started.execution);
    } catch (err) {
      // One partition's trouble never stops the sweep of the others; the next sweep tries it again.
      log.warn('load sweep: partition not handled', { table: p.table, partition: isoSecond(p.date), error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
    }
  }
}

/** An execution's input as a LoadInput, or undefined when it is not a JSON object. */
function parseLoadInput(text: string | undefined): LoadInput | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as LoadInput) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The aggregate sweep: pending aggregate work per table (committed loads no aggregate
 * transaction covered yet), its age as AggregatePendingMinutes, and an aggregate-only
 * execution per table whose work is older than STALE_PENDING_MINUTES (a killed execution, a
 * failed aggregate batch, a throttled outcome read): staleness heals without a person.
 */
async function sweepAggregates(deps: FreshnessDeps, result: FreshnessResult): Promise<void> {
  const { config, log, metrics } = deps;
  const tables = Object.keys(config.tables).filter((t) => aggregatesFedBy(config, t).length > 0);
  if (tables.length === 0) return;
  const all = tables.flatMap((t) => aggregatesFedBy(config, t));
  const { pending } = await readAggregateWork(deps.warehouse, config, all, undefined);
  const now = deps.now();
  const summaries = summarizePending(config, pending);
  try {
    for (const table of tables) {
      const mine = summaries.filter((s) => s.table === table);
      const oldest = mine.reduce<number | undefined>((min, s) => (s.oldest && (min === undefined || s.oldest.getTime() < min) ? s.oldest.getTime() : min), undefined);
      const minutes = mine.length === 0 ? 0 : oldest === undefined ? NEVER_LOADED_LAG_MINUTES : Math.max(0, Math.round((now.getTime() - oldest) / 60_000));
      metrics.add(MetricName.AggregatePendingMinutes, 'None', minutes, table);
      const entry = (result[table] ??= { newestPartition: null, lagMinutes: 0 });
      entry.pendingAggregateMinutes = minutes;
      entry.pendingLoads = new Set(pending.filter((p) => mine.some((s) => s.aggregate === p.aggregate)).map((p) => p.loadId)).size;
      if (mine.length === 0 || minutes < STALE_PENDING_MINUTES || !deps.sfn || !deps.stateMachineArn) continue;
      const slot = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
      const name = aggregateRunName(table, slot, new Date(slot.getTime() + 60_000), 'sweep');
      const started = await startExecution(deps.sfn, deps.stateMachineArn, name, { table, aggregateOnly: true });
      log.info('aggregate sweep', { table, pendingMinutes: minutes, pendingLoads: entry.pendingLoads, execution: name, status: started.status });
      entry.sweep = name;
    }
  } finally {
    metrics.flush();
  }
}

/** The Lambda entry point. */
export const handler = lazyHandler(() => {
  const base = baseDepsFromEnvironment();
  return createFreshnessHandler({
    ...base,
    warehouse: warehouseFromEnvironment(base),
    sfn: new SFNClient({}),
    s3: new S3Client({}),
    stateMachineArn: stateMachineArnFromEnvironment(),
  });
});
