/**
 * The in-transaction re-check (ARCHITECTURE.md): after the target is LOCKed, a
 * temp table holds `load` or `skip` and a reason. The full rules run in TS
 * before (decide.ts); this only closes the race between concurrent executions.
 */
import { isoSecond } from '../dates';
import { integerLiteral, literal, quoteIdent, timestampLiteral } from '../identifiers';
import { ledgerTable } from './ledger';

/** The guard's temp table. */
export const GUARD_TABLE = 'forklift_guard';
/** The temp table holding this load's file list (written before the guard, copied to load_files after it). */
export const FILES_TABLE = 'forklift_files';

/** The predicate every DML of a load is conditioned on. */
export function guardAllows(): string {
  return `EXISTS (SELECT 1 FROM ${quoteIdent(GUARD_TABLE)} WHERE decision = 'load')`;
}

/** What the guard re-checks. */
export interface GuardArgs {
  auditSchema: string;
  table: string;
  /** The table's schema: with the table, it names the table's ledger (tenants' tables of one name never share it). */
  schema: string;
  partitionDate: Date;
  /** Effective mode: `truncate` (a snapshot) also skips when a newer partition is loaded. */
  mode: string;
  force: boolean;
  /** This load's id: a resubmitted batch that finds its own load committed decides `done`. */
  loadId: string;
  /** True when the load replaces the partition's rows (an append reload uses the partition rule, not the per-file one). */
  reload?: boolean;
}

const isoText = (expr: string): string => `TO_CHAR(${expr}, 'YYYY-MM-DD') || 'T' || TO_CHAR(${expr}, 'HH24:MI:SS') || 'Z'`;

/** The ledger holds this version of a listed file: same key, and the same ETag unless either is unknown. */
const sameFile = (lf: string, f: string): string =>
  `${lf}.file_key = ${f}.file_key AND (${lf}.etag IS NULL OR ${f}.etag IS NULL OR ${lf}.etag = ${f}.etag)`;

/**
 * `CREATE TEMP TABLE forklift_guard AS SELECT decision, reason`, after {@link FILES_TABLE}
 * holds this load's files (the table's own ledger, ledger.ts, is the source of truth; the
 * shared audit tables are not read, so loads of different tables never conflict). First, a
 * batch resubmitted after its first submission committed finds its own ledger row: `done`
 * (nothing runs again, the outcome stays `loaded`, the aggregates still run). Then, forced:
 * `load`. Otherwise, exactly once per file version (key and ETag):
 * - append (not a reload): `skip` when ANY file of this load is in the table's ledger; the
 *   reason names the file and the load that loaded it;
 * - replace, merge, truncate, and append reloads: `skip` when the partition was loaded AND
 *   every file of this load is in the partition's ledger (new or changed files run);
 * - snapshots (truncate) also skip when a newer partition is loaded.
 */
export function renderGuard(args: GuardArgs): string {
  const create = `CREATE TEMP TABLE ${quoteIdent(GUARD_TABLE)} AS SELECT `;
  const ledger = ledgerTable(args.auditSchema, args.schema, args.table);
  const date = timestampLiteral(args.partitionDate);
  const prefix = `table '${args.table}': partition ${isoSecond(args.partitionDate)}`;
  const files = quoteIdent(FILES_TABLE);
  // Every ledger row of a load carries its partition: the sort-key range finds it without a scan of the whole ledger.
  const done = `(SELECT MAX(load_id) FROM ${ledger} WHERE partition_date = ${date} AND load_id = ${literal(args.loadId)})`;
  let blocked: string;
  let blockedReason: string;
  if (args.force) {
    blocked = 'CAST(NULL AS VARCHAR(1024))';
    blockedReason = 'NULL';
  } else if (args.mode === 'append' && args.reload !== true) {
    blocked =
      `(SELECT MIN(lf.file_key || ' is already loaded (by ' || lf.load_id || ')') FROM ${ledger} lf ` +
      `JOIN ${files} f ON ${sameFile('lf', 'f')} WHERE lf.partition_date = ${date})`;
    blockedReason = `${literal(`${prefix}: file `)} || g.blocked || ${literal('; use --force to reload the partition')}`;
  } else {
    const loadedBy = `(SELECT MAX(load_id) FROM ${ledger} WHERE partition_date = ${date})`;
    const unknownFiles =
      `(SELECT COUNT(*) FROM ${files} f LEFT JOIN ${ledger} lf ` +
      `ON ${sameFile('lf', 'f')} AND lf.partition_date = ${date} WHERE lf.file_key IS NULL)`;
    blocked = `CASE WHEN ${unknownFiles} = 0 THEN ${loadedBy} ELSE CAST(NULL AS VARCHAR(80)) END`;
    blockedReason = `${literal(`${prefix} is already loaded (by `)} || g.blocked || ${literal('); use --force to reload it')}`;
  }
  const newer =
    args.mode === 'truncate' && !args.force
      ? `(SELECT MAX(partition_date) FROM ${ledger} WHERE partition_date > ${date})`
      : 'CAST(NULL AS TIMESTAMP)';
  const reason =
    `CASE WHEN g.done IS NOT NULL THEN ${literal(`${prefix}: this load (`)} || g.done || ${literal(') already committed; its outcome stands')}` +
    ` WHEN g.blocked IS NOT NULL THEN ${blockedReason}` +
    ` WHEN g.newer IS NOT NULL THEN ${literal(`${prefix} is older than the newest loaded snapshot `)} || ${isoText('g.newer')} || ${literal('; use --force to load it anyway')}` +
    ' ELSE NULL END';
  return (
    `${create}CAST(CASE WHEN g.done IS NOT NULL THEN 'done' WHEN g.blocked IS NULL AND g.newer IS NULL THEN 'load' ELSE 'skip' END AS VARCHAR(8)) AS decision, ` +
    `CAST(${reason} AS VARCHAR(1024)) AS reason FROM (SELECT ${done} AS done, ${blocked} AS blocked, ${newer} AS newer) g`
  );
}

/**
 * After the COPY: a snapshot (truncate mode, unforced) with fewer than `minRows` rows is refused:
 * the guard turns to `skip` with the reason, so an empty or truncated export never wipes the table.
 */
export function renderSnapshotCheck(args: { table: string; partitionDate: Date; staging: string; minRows: number }): string {
  const reason =
    `table '${args.table}': snapshot ${isoSecond(args.partitionDate)} refused: it holds fewer than ${args.minRows} row${args.minRows === 1 ? '' : 's'} ` +
    "(the table's minSnapshotRows), which would wipe the table; use --force to load it anyway";
  return (
    `UPDATE ${quoteIdent(GUARD_TABLE)} SET decision = 'skip', reason = ${literal(reason)} ` +
    `WHERE decision = 'load' AND (SELECT COUNT(*) FROM ${quoteIdent(args.staging)}) < ${integerLiteral(args.minRows)}`
  );
}
