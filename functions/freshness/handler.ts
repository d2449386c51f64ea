/**
 * Freshness: a scheduled check. One Data API read of each table's newest loaded
 * partition, then DataLagMinutes per table: minutes from the end of that partition
 * to now. Then the aggregate sweep (below): pending aggregate work, its age, and an
 * aggregate-only execution for work that stayed pending. A table that was never loaded emits {@link NEVER_LOADED_LAG_MINUTES}, so its
 * freshness alarm fires instead of staying silent on missing data.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { readAggregateWork } from '../adapters/aggregates';
import { startExecution } from '../adapters/stepFunctions';
import { query, type Warehouse } from '../adapters/warehouse';
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
  /** The sweep starts aggregate-only executions of this state machine for stale pending aggregate work. */
  sfn?: SFNClient;
  stateMachineArn?: string;
}

/**
 * Per table: the newest loaded partition (ISO, or null) and the lag emitted; for tables that
 * feed aggregates, the age of their oldest pending aggregate work (0: none) and the sweep
 * execution started for it, if any.
 */
export type FreshnessResult = Record<
  string,
  { newestPartition: string | null; lagMinutes: number; pendingAggregateMinutes?: number; pendingLoads?: number; sweep?: string }
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
    await sweepAggregates(deps, result);
    log.info('freshness', { tables: result });
    return result;
  };
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
    stateMachineArn: stateMachineArnFromEnvironment(),
  });
});
