/** Queries behind the CLI `status` command and the freshness Lambda. */
import type { ForkliftConfig } from '../config/schema';
import { integerLiteral, literal } from '../identifiers';
import { auditMatch, auditTable } from './audit';

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

/** The newest `limit` rows of `loads` (newest first), optionally of one table (`table_name`: its audit identity). */
export function renderRecentLoads(config: ForkliftConfig, options: { limit: number; table?: string }): string {
  const auditSchema = config.warehouse.auditSchema;
  const where = options.table === undefined ? '' : ` WHERE ${auditMatch('table_name', config, options.table)}`;
  return (
    `SELECT ${RECENT_LOADS_COLUMNS.join(', ')} FROM ${auditTable(auditSchema, 'loads')}${where} ` +
    `ORDER BY started_at DESC, load_id DESC LIMIT ${integerLiteral(options.limit)}`
  );
}

/** Columns of {@link renderFreshness}' rows, in order. */
export const FRESHNESS_COLUMNS = ['table_name', 'newest_partition', 'last_success'] as const;

/**
 * Per table of `tables` (a config name each; audit rows matched by identity or legacy bare name):
 * newest loaded partition_date and the last successful finished_at, `table_name` being the config name.
 */
export function renderFreshness(config: ForkliftConfig, tables: readonly string[]): string {
  if (tables.length === 0) return 'SELECT CAST(NULL AS VARCHAR(127)) AS table_name, CAST(NULL AS TIMESTAMP) AS newest_partition, CAST(NULL AS TIMESTAMP) AS last_success WHERE 1 = 0';
  const owner = `CASE ${tables.map((t) => `WHEN ${auditMatch('table_name', config, t)} THEN ${literal(t)}`).join(' ')} END`;
  return (
    `SELECT CAST(${owner} AS VARCHAR(127)) AS table_name, MAX(partition_date) AS newest_partition, MAX(finished_at) AS last_success ` +
    `FROM ${auditTable(config.warehouse.auditSchema, 'loads')} WHERE status = 'loaded' AND (${tables.map((t) => auditMatch('table_name', config, t)).join(' OR ')}) ` +
    'GROUP BY 1 ORDER BY 1'
  );
}
