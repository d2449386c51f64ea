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
import { describeExecution, runningExecutionNames, startExecution, unfinishedExecutions } from '../adapters/stepFunctions';
import { query, readWarehouseState, stateFor, type Warehouse } from '../adapters/warehouse';
import { decidePartitionLoad, startDecidedLoad, type PartitionRef } from '../discover/partition';
import { sweepCandidates } from '../core/discovery';
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
  /** The load sweep's per-run bounds (tests lower them; omitted: {@link LOAD_SWEEP_MAX_DESCRIBES}, {@link LOAD_SWEEP_MAX_PARTITIONS}). */
  loadSweep?: { maxDescribes?: number; maxPartitions?: number };
}

/** How far back the load sweep looks for automatic loads that ended without succeeding. */
export const LOAD_SWEEP_LOOKBACK_HOURS = 24;
/**
 * DescribeExecution calls one sweep makes at most to confirm that a partition's unfinished execution
 * was an automatic load: spent only on partitions the load rules would start, newest first (the rest
 * wait for the next run). Step Functions refills DescribeExecution at 10 to 15 per second per account.
 */
export const LOAD_SWEEP_MAX_DESCRIBES = 100;
/**
 * Partitions one sweep examines at most (those with the newest unfinished executions): one
 * warehouse-state read for all of them (its largest statement is about 40 KB with 500 partitions, below the
 * Data API's 100 KB per statement) and at most one listing each.
 */
export const LOAD_SWEEP_MAX_PARTITIONS = 500;
/** Partitions the load sweep lists and decides at once (discover lists 8 at once too). */
export const LOAD_SWEEP_CONCURRENCY = 8;
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
 * leaves no audit row; a failed one leaves its `failed` row and a FAILED execution), all three
 * statuses merged newest first, so the cost follows the failures, never the bucket. Their names
 * give the partitions (core/discovery.ts `sweepCandidates`: automatic loads only, by name); the
 * newest {@link LOAD_SWEEP_MAX_PARTITIONS} get one state read, and per partition, when no load of
 * it runs, the shared decision (discover/partition.ts over core/discovery.ts) lists it and applies
 * the load rules, with the names that ended unfinished counted as failed loads (so the next name
 * is planned, not a taken one). A partition the rules skip (loaded since with every listed file,
 * or attempted twice with these files) costs no DescribeExecution: only a partition the rules
 * would start spends one of the run's {@link LOAD_SWEEP_MAX_DESCRIBES}, to confirm from its input
 * that its execution was an automatic load; then it starts under discover's deterministic names
 * (duplicate sweeps dedupe; the same files are attempted twice at most).
 */
async function sweepLoads(deps: FreshnessDeps, result: FreshnessResult): Promise<void> {
  const { config, log, sfn, s3, stateMachineArn } = deps;
  if (!sfn || !s3 || !stateMachineArn) return;
  const now = deps.now();
  const since = new Date(now.getTime() - LOAD_SWEEP_LOOKBACK_HOURS * 3_600_000);
  const all = sweepCandidates(config, await unfinishedExecutions(sfn, stateMachineArn, since));
  const candidates = all.slice(0, deps.loadSweep?.maxPartitions ?? LOAD_SWEEP_MAX_PARTITIONS);
  if (candidates.length < all.length) {
    log.warn('load sweep: more partitions with unfinished loads than one run examines; the oldest are left out', { partitions: all.length, examined: candidates.length });
  }
  if (candidates.length === 0) return;
  // Before the state read, as in discover: an execution not running now has committed (or failed) before the read.
  const checkedAt = new Date();
  const running = await runningExecutionNames(sfn, stateMachineArn);
  const byTable = new Map<string, Date[]>();
  for (const c of candidates) byTable.set(c.table, [...(byTable.get(c.table) ?? []), c.partitionDate]);
  const states = await readWarehouseState(deps.warehouse, config, [...byTable].map(([table, dates]) => ({ table, candidates: dates })));
  const startDeps = { ...deps, sfn, s3, stateMachineArn };
  let describes = deps.loadSweep?.maxDescribes ?? LOAD_SWEEP_MAX_DESCRIBES;
  let deferred = 0;
  const warn = (p: PartitionRef, err: unknown) =>
    // One partition's trouble never stops the sweep of the others; the next sweep tries it again.
    log.warn('load sweep: partition not handled', { table: p.table, partition: isoSecond(p.date), error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  // A few partitions decided at once (a listing each), then those to start, in order: the budget goes newest first.
  for (let i = 0; i < candidates.length; i += LOAD_SWEEP_CONCURRENCY) {
    if (describes <= 0) {
      deferred += candidates.length - i;
      break;
    }
    const window = candidates.slice(i, i + LOAD_SWEEP_CONCURRENCY).map((c) => ({
      c,
      p: { table: c.table, date: c.partitionDate, partitionKey: renderPartitionKey(config, c.table, c.partitionDate) } satisfies PartitionRef,
    }));
    const decisions = await Promise.all(
      window.map(async ({ c, p }) => {
        try {
          const read = stateFor(states.get(p.table), p.date);
          // Its unfinished names ended before `checkedAt`: failed loads to the rules, which then plan the next name.
          return await decidePartitionLoad(startDeps, p, { ...read, failedLoads: new Set([...(read.failedLoads ?? []), ...c.executions]) }, running, 'sweep');
        } catch (err) {
          warn(p, err);
          return undefined;
        }
      }),
    );
    for (const [j, { c, p }] of window.entries()) {
      const decided = decisions[j];
      if (decided?.outcome !== 'start') continue;
      if (describes <= 0) {
        deferred++;
        continue;
      }
      try {
        // Automatic loads only (discover's input: observed, no files/force/truncate): a manual run's failure is a person's to repeat.
        let automatic = false;
        for (const name of c.executions) {
          if (describes <= 0) break;
          describes--;
          if (isAutomaticLoad(parseLoadInput((await describeExecution(sfn, stateMachineArn, name)).input))) {
            automatic = true;
            break;
          }
        }
        if (!automatic) continue;
        const started = await startDecidedLoad(startDeps, p, decided, checkedAt, 'sweep');
        if (started.outcome !== 'started') continue;
        const entry = (result[p.table] ??= { newestPartition: null, lagMinutes: 0 });
        (entry.restartedLoads ??= []).push(started.execution);
      } catch (err) {
        warn(p, err);
      }
    }
  }
  if (deferred > 0) log.info('load sweep: this run\'s DescribeExecution budget is spent; the other partitions wait for the next run', { deferred, budget: deps.loadSweep?.maxDescribes ?? LOAD_SWEEP_MAX_DESCRIBES });
}

/** Discover's input: a table, a partition and what it observed, no manual flag. */
function isAutomaticLoad(input: LoadInput | undefined): boolean {
  return Boolean(input?.table && input.date && input.observed && !input.files && !input.force && !input.truncate && !input.aggregateOnly);
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
