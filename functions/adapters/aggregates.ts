/**
 * The warehouse read of PlanAggregates, the sweep and `forklift status`: the pending aggregate
 * work, the aggregate tables' columns and which of their readOnlyGroups exist, in one Data API
 * submission (each catalog SELECT is a statement of its own: Redshift refuses mixing leader-node
 * catalog views with user tables).
 */
import type { ForkliftConfig } from '../core/config/schema';
import { pendingScope } from '../core/aggregateRun';
import { renderAuditDdl } from '../core/sql/audit';
import { parseExistingGroups, renderExistingGroupsQuery } from '../core/sql/grants';
import {
  aggregateTables,
  MAX_BATCH_STATEMENTS,
  parseAggregateColumns,
  renderAggregateTableChanges,
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

/** Pending hours of the aggregates read, the columns of their tables, and which of their groups exist. */
export interface AggregateWorkRead {
  pending: PendingHour[];
  existing: Map<string, ExistingColumn[]>;
  /**
   * The aggregates' readOnlyGroups found in pg_group (read with the pending work only): the
   * aggregate batch grants to these alone, as a GRANT to a missing group fails the batch.
   */
  existingGroups?: Set<string>;
}

/** Read the pending work of the trees of `scope` (every aggregate of their root tables) and their tables' columns. */
export async function readAggregateWork(
  warehouse: Warehouse,
  config: ForkliftConfig,
  scope: readonly string[],
  name?: string,
  wait: { timeoutMs?: number } = {},
): Promise<AggregateWorkRead> {
  return read(warehouse, config, pendingScope(config, scope), true, name ? `${name}-pending` : undefined, wait);
}

/**
 * Before a load that recomputes its aggregates in its own batch (Prepare): the columns of the
 * aggregate tables of `aggregates`, which this read creates when missing (after its catalog
 * SELECT), so that the load batch starts with its LOCK of them. No pending-work read.
 */
export async function readAggregateTables(
  warehouse: Warehouse,
  config: ForkliftConfig,
  aggregates: readonly string[],
  name?: string,
  wait: { timeoutMs?: number } = {},
): Promise<Map<string, ExistingColumn[]>> {
  return (await read(warehouse, config, aggregates, false, name ? `${name}-aggregate-tables` : undefined, wait)).existing;
}

async function read(
  warehouse: Warehouse,
  config: ForkliftConfig,
  aggregates: readonly string[],
  withPending: boolean,
  name: string | undefined,
  wait: { timeoutMs?: number },
): Promise<AggregateWorkRead> {
  if (aggregates.length === 0) return { pending: [], existing: new Map() };
  const audit = config.warehouse.auditSchema;
  const ddl = [...renderAuditDdl(audit), renderAggregatedLoadsDdl(audit)];
  const pendingAt = withPending ? ddl.length : undefined;
  const columnsAt = ddl.length + (withPending ? 1 : 0);
  const groupsAt = withPending ? columnsAt + 1 : undefined;
  const groups = aggregates.flatMap((a) => config.aggregates[a]?.readOnlyGroups ?? []);
  const reads = [
    ...ddl,
    ...(withPending ? [renderPendingQuery(config, aggregates)] : []),
    renderAggregateColumnsQuery(config, aggregates),
    ...(withPending ? [renderExistingGroupsQuery(groups)] : []),
  ];
  // The aggregate tables are created here, after the catalog read, not in the aggregate batch: that
  // batch must start with its LOCK (Redshift's serializable isolation: a LOCK after another statement
  // does not serialize overlapping transactions, and a burst of first loads then aborts with 1023).
  const tables = aggregates.flatMap((a) => aggregateTables(config, a));
  const creates = [...new Set(tables.flatMap((t) => renderAggregateTableChanges(t, undefined, t.role === 'fact' ? config.aggregates[t.aggregate]!.sortKey : undefined)))];
  const inRead = creates.slice(0, Math.max(0, MAX_BATCH_STATEMENTS - reads.length));
  const label = name?.slice(0, 500);
  const id = await warehouse.batch([...reads, ...inRead], label);
  await warehouse.waitFor(id, { ...wait, pollMs: READ_POLL_MS });
  // Sub-statement ids are 1-based.
  const [pendingRows, columnRows, groupRows] = await Promise.all([
    pendingAt !== undefined ? warehouse.results(`${id}:${pendingAt + 1}`) : Promise.resolve([]),
    warehouse.results(`${id}:${columnsAt + 1}`),
    groupsAt !== undefined ? warehouse.results(`${id}:${groupsAt + 1}`) : Promise.resolve(undefined),
  ]);
  const existing = parseAggregateColumns(columnRows);
  const rest = creates.slice(inRead.length);
  if (rest.length > 0) {
    // Only when many aggregate tables are missing at once (a new config): one more batch, rarely.
    for (let i = 0; i < rest.length; i += MAX_BATCH_STATEMENTS) {
      const more = await warehouse.batch(rest.slice(i, i + MAX_BATCH_STATEMENTS), label);
      await warehouse.waitFor(more, { ...wait, pollMs: READ_POLL_MS });
    }
  }
  // What the read did not see now exists as configured.
  for (const t of tables) {
    const key = `${t.schema}.${t.name}`;
    if (!existing.has(key)) existing.set(key, t.columns.map((c) => ({ name: c.name, type: c.type })));
  }
  return { pending: parsePending(pendingRows), existing, ...(groupRows !== undefined ? { existingGroups: parseExistingGroups(groupRows) } : {}) };
}
