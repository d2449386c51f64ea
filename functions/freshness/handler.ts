/**
 * Freshness: a scheduled check. One Data API read of each table's newest loaded
 * partition, then DataLagMinutes per table: minutes from the end of that partition
 * to now. A table that was never loaded emits {@link NEVER_LOADED_LAG_MINUTES}, so its
 * freshness alarm fires instead of staying silent on missing data.
 */
import { query, type Warehouse } from '../adapters/warehouse';
import type { ForkliftConfig } from '../core/config/schema';
import { StatementFailedError } from '../core/errors';
import { MetricName } from '../core/metricNames';
import { parseTimestamp } from '../core/sql/state';
import { renderFreshness } from '../core/sql/status';
import { dataLagMinutes } from '../report/handler';
import { baseDepsFromEnvironment, lazyHandler } from '../runtime/env';
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
}

/** Per table: the newest loaded partition (ISO, or null) and the lag emitted. */
export type FreshnessResult = Record<string, { newestPartition: string | null; lagMinutes: number }>;

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
    log.info('freshness', { tables: result });
    return result;
  };
}

/** The Lambda entry point. */
export const handler = lazyHandler(() => {
  const base = baseDepsFromEnvironment();
  return createFreshnessHandler({ ...base, warehouse: warehouseFromEnvironment(base) });
});
