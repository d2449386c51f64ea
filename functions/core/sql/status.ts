/** Queries behind the CLI `status` command and the freshness Lambda. */
import { integerLiteral, literal } from '../identifiers';
import { auditTable } from './audit';

/** Columns of {@link renderRecentLoads}' rows, in order. */
export const RECENT_LOADS_COLUMNS = [
  'load_id',
  'table_name',
  'partition_date',
  'partition_key',
  'mode',
  'status',
  'reason',
  'files',
  'rows_loaded',
  'started_at',
  'finished_at',
  'error',
] as const;

/** The newest `limit` rows of `loads` (newest first), optionally of one table. */
export function renderRecentLoads(auditSchema: string, options: { limit: number; table?: string }): string {
  const where = options.table === undefined ? '' : ` WHERE table_name = ${literal(options.table)}`;
  return (
    `SELECT ${RECENT_LOADS_COLUMNS.join(', ')} FROM ${auditTable(auditSchema, 'loads')}${where} ` +
    `ORDER BY started_at DESC, load_id DESC LIMIT ${integerLiteral(options.limit)}`
  );
}

/** Columns of {@link renderFreshness}' rows, in order. */
export const FRESHNESS_COLUMNS = ['table_name', 'newest_partition', 'last_success'] as const;

/** Per table (optionally only `tables`): newest loaded partition_date and the last successful finished_at. */
export function renderFreshness(auditSchema: string, tables?: readonly string[]): string {
  const only = tables?.length ? ` AND table_name IN (${tables.map(literal).join(', ')})` : '';
  return (
    `SELECT table_name, MAX(partition_date) AS newest_partition, MAX(finished_at) AS last_success ` +
    `FROM ${auditTable(auditSchema, 'loads')} WHERE status = 'loaded'${only} GROUP BY table_name ORDER BY table_name`
  );
}
