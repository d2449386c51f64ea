/**
 * The warehouse read of PlanAggregates, the sweep and `forklift status`: the pending aggregate
 * work and the aggregate tables' columns, in one Data API submission (the catalog SELECT is a
 * statement of its own: Redshift refuses mixing leader-node catalog views with user tables).
 */
import type { ForkliftConfig } from '../core/config/schema';
import { pendingScope } from '../core/aggregateRun';
import { renderAuditDdl } from '../core/sql/audit';
import {
  parseAggregateColumns,
  parsePending,
  renderAggregateColumnsQuery,
  renderAggregatedLoadsDdl,
  renderPendingQuery,
  type PendingHour,
} from '../core/sql/aggregate';
import type { ExistingColumn } from '../core/types';
import type { Warehouse } from './warehouse';

/**
 * Poll interval of this read: it runs once per load execution (PlanAggregates), often many at once,
 * so it does not take the local stack's 5 ms (measured: 24 concurrent loads took 2.7x as long,
 * flooding the local endpoint with DescribeStatement calls); on AWS a read of this size takes a few
 * hundred ms, so 100 ms costs a handful of calls.
 */
export const READ_POLL_MS = 100;

/** Pending hours of the aggregates read, and the columns of their tables. */
export interface AggregateWorkRead {
  pending: PendingHour[];
  existing: Map<string, ExistingColumn[]>;
}

/** Read the pending work of the trees of `scope` (every aggregate of their root tables) and their tables' columns. */
export async function readAggregateWork(
  warehouse: Warehouse,
  config: ForkliftConfig,
  scope: readonly string[],
  name?: string,
  wait: { timeoutMs?: number } = {},
): Promise<AggregateWorkRead> {
  const aggregates = pendingScope(config, scope);
  if (aggregates.length === 0) return { pending: [], existing: new Map() };
  const audit = config.warehouse.auditSchema;
  const sqls = [...renderAuditDdl(audit), renderAggregatedLoadsDdl(audit), renderPendingQuery(config, aggregates), renderAggregateColumnsQuery(config, aggregates)];
  const id = await warehouse.batch(sqls, name ? `${name}-pending`.slice(0, 500) : undefined);
  await warehouse.waitFor(id, { ...wait, pollMs: READ_POLL_MS });
  const [pendingRows, columnRows] = await Promise.all([warehouse.results(`${id}:${sqls.length - 1}`), warehouse.results(`${id}:${sqls.length}`)]);
  return { pending: parsePending(pendingRows), existing: parseAggregateColumns(columnRows) };
}
