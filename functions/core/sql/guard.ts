/**
 * The in-transaction re-check (ARCHITECTURE.md): after the target is LOCKed, a
 * temp table holds `load` or `skip` and a reason. The full rules run in TS
 * before (decide.ts); this only closes the race between concurrent executions.
 */
import { isoSecond } from '../dates';
import { literal, quoteIdent, timestampLiteral } from '../identifiers';
import { auditTable } from './audit';

/** The guard's temp table. */
export const GUARD_TABLE = 'forklift_guard';

/** The predicate every DML of a load is conditioned on. */
export function guardAllows(): string {
  return `EXISTS (SELECT 1 FROM ${quoteIdent(GUARD_TABLE)} WHERE decision = 'load')`;
}

/** What the guard re-checks. */
export interface GuardArgs {
  auditSchema: string;
  table: string;
  partitionDate: Date;
  /** Effective mode: `truncate` (a snapshot) also skips when a newer partition is loaded. */
  mode: string;
  force: boolean;
}

const isoText = (expr: string): string => `TO_CHAR(${expr}, 'YYYY-MM-DD') || 'T' || TO_CHAR(${expr}, 'HH24:MI:SS') || 'Z'`;

/**
 * `CREATE TEMP TABLE forklift_guard AS SELECT decision, reason`. Forced: always `load`.
 * Otherwise `skip` when this partition has a `loaded` row, or (snapshots) when a newer
 * partition does; the reason names the load or the newer date.
 */
export function renderGuard(args: GuardArgs): string {
  const create = `CREATE TEMP TABLE ${quoteIdent(GUARD_TABLE)} AS SELECT `;
  if (args.force) return `${create}CAST('load' AS VARCHAR(8)) AS decision, CAST(NULL AS VARCHAR(1024)) AS reason`;
  const loads = auditTable(args.auditSchema, 'loads');
  const table = literal(args.table);
  const date = timestampLiteral(args.partitionDate);
  const prefix = `table '${args.table}': partition ${isoSecond(args.partitionDate)}`;
  const loadedBy = `(SELECT MAX(load_id) FROM ${loads} WHERE table_name = ${table} AND partition_date = ${date} AND status = 'loaded')`;
  const newer =
    args.mode === 'truncate'
      ? `(SELECT MAX(partition_date) FROM ${loads} WHERE table_name = ${table} AND partition_date > ${date} AND status = 'loaded')`
      : 'CAST(NULL AS TIMESTAMP)';
  const reason =
    `CASE WHEN g.loaded_by IS NOT NULL THEN ${literal(`${prefix} is already loaded (by `)} || g.loaded_by || ${literal('); use --force to reload it')}` +
    ` WHEN g.newer IS NOT NULL THEN ${literal(`${prefix} is older than the newest loaded snapshot `)} || ${isoText('g.newer')} || ${literal('; use --force to load it anyway')}` +
    ' ELSE NULL END';
  return (
    `${create}CAST(CASE WHEN g.loaded_by IS NULL AND g.newer IS NULL THEN 'load' ELSE 'skip' END AS VARCHAR(8)) AS decision, ` +
    `CAST(${reason} AS VARCHAR(1024)) AS reason FROM (SELECT ${loadedBy} AS loaded_by, ${newer} AS newer) g`
  );
}
