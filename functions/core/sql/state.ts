/**
 * The warehouse-state read: one batch (audit DDL unless known to exist, then four SELECTs, then
 * the load prerequisites of tables not known to exist) telling, per table, its columns, its newest
 * loaded partition, which candidate partitions are already loaded and which files of them the
 * ledger holds, as rows tagged by a `kind` column. The catalog SELECT also tells which audit
 * tables and ledgers exist, so a read that took them as existing can check that they still do.
 */
import type { ForkliftConfig } from '../config/schema';
import { isoSecond, truncateDate } from '../dates';
import { fileIdentity } from '../decide';
import { ForkliftError } from '../errors';
import { literal, qualified, quoteIdent, timestampLiteral } from '../identifiers';
import { tablePattern } from '../keys';
import type { ExistingColumn } from '../types';
import { AUDIT_DDL_STATEMENTS, AUDIT_TABLES, auditMatch, auditTable, renderAuditDdl } from './audit';
import { parseInformationSchemaType } from './evolve';
import { groupsCondition } from './grants';
import { ledgerName } from './ledger';
import { renderLoadPrerequisites } from './load';
import { PARTITION_COLUMN } from './relations';

/**
 * 1-based indexes of the SELECTs in the batch of {@link renderWarehouseStateBatch} when it starts
 * with the audit DDL (nothing known; {@link stateSelectStatements} gives them for any read):
 * the columns (from information_schema), the ledger of loads (from the audit table) and
 * the files of the candidate partitions (from `load_files`). The catalog SELECT is a
 * statement of its own because Redshift runs catalog views on the leader node only and
 * refuses a query that mixes them with user tables. Their rows together are what
 * {@link parseWarehouseState} reads.
 */
export const STATE_COLUMNS_STATEMENT = AUDIT_DDL_STATEMENTS + 1;
export const STATE_LEDGER_STATEMENT = AUDIT_DDL_STATEMENTS + 2;
export const STATE_FILES_STATEMENT = AUDIT_DDL_STATEMENTS + 3;
/**
 * The groups among the requested tables' `readOnlyGroups` that exist (from `pg_group`, a
 * leader-node catalog table: a statement of its own). The load batch grants only to them
 * (Redshift fails a GRANT to a missing group: `group "x" does not exist`).
 */
export const STATE_GROUPS_STATEMENT = AUDIT_DDL_STATEMENTS + 4;
export const STATE_SELECT_STATEMENTS = [STATE_COLUMNS_STATEMENT, STATE_LEDGER_STATEMENT, STATE_FILES_STATEMENT, STATE_GROUPS_STATEMENT] as const;

/**
 * What a warehouse-state read may take as existing, because an earlier read (of the same Lambda
 * container) created or saw it: the audit tables, and tables with their ledgers. Its batch then
 * renders no DDL for them; its catalog SELECT still tells whether they exist
 * ({@link missingKnownRelations}).
 */
export interface KnownRelations {
  /** The audit schema and its tables (`AUDIT_TABLES`) exist. */
  audit: boolean;
  /** Config names of tables that exist, with their schema and ledger. */
  tables: ReadonlySet<string>;
}

/** Nothing known: the read renders every CREATE ... IF NOT EXISTS (the default). */
export const NOTHING_KNOWN: KnownRelations = Object.freeze({ audit: false, tables: new Set<string>() });

/** The 1-based indexes of the SELECTs of a batch rendered with `known` (the DDL-free batch starts with them). */
export function stateSelectStatements(known: KnownRelations = NOTHING_KNOWN): number[] {
  const first = known.audit ? 1 : STATE_COLUMNS_STATEMENT;
  return STATE_SELECT_STATEMENTS.map((_, i) => first + i);
}

/** A table and the partition dates the caller is deciding about. */
export interface StateRequest {
  table: string;
  candidates: Date[];
}

/** Column positions of the SELECTs' rows (`file` rows carry the file key in the `column_name` position). */
export const STATE_COLUMNS = [
  'kind',
  'table_name',
  'column_name',
  'data_type',
  'character_maximum_length',
  'numeric_precision',
  'numeric_scale',
  'ordinal_position',
  'partition_date',
] as const;

/** The column-only positions as NULLs, named so positional readers see every column. */
const NAMED_NULL_COLUMNS = STATE_COLUMNS.slice(2, 8)
  .map((name, i) => `CAST(NULL AS ${i < 2 ? (i === 0 ? 'VARCHAR(127)' : 'VARCHAR(128)') : 'INTEGER'}) AS ${name}`)
  .join(', ');
/** What GETDATE()'s whole seconds drop on average: a recent load's duration is read as DATEDIFF(millisecond) plus this. */
const GETDATE_HALF_SECOND_MS = 500;
const NULL_COLUMN = 'CAST(NULL AS VARCHAR(127)), CAST(NULL AS VARCHAR(128)), CAST(NULL AS INTEGER), CAST(NULL AS INTEGER), CAST(NULL AS INTEGER), CAST(NULL AS INTEGER)';

/**
 * The batch: audit DDL IF NOT EXISTS, the four SELECTs at {@link stateSelectStatements}, then
 * each table's load prerequisites IF NOT EXISTS (schema, table, ledger: the load batch LOCKs the
 * table and its ledger as its first statement, so they must exist before any load; a table
 * created here has exactly the config's columns, as the SELECT's "no such table" implies).
 * What `known` holds gets no DDL: with everything known the batch is the four SELECTs alone.
 */
export function renderWarehouseStateBatch(config: ForkliftConfig, requests: readonly StateRequest[], known: KnownRelations = NOTHING_KNOWN): string[] {
  if (requests.length === 0) throw new ForkliftError('a warehouse-state read needs at least one table');
  const audit = config.warehouse.auditSchema;
  const loads = auditTable(audit, 'loads');
  const loadFiles = auditTable(audit, 'load_files');
  const tableOf = (name: string) => {
    const t = config.tables[name];
    if (!t) throw new ForkliftError(`unknown table '${name}'`);
    return t;
  };
  const inSchema = requests
    .map((r) => `(table_schema = ${literal(tableOf(r.table).schema)} AND table_name = ${literal(r.table)})`)
    .join(' OR ');
  // Audit rows are matched by identity (schema-qualified) or legacy bare name, and reported under the config name.
  const owner = `CASE ${requests.map((r) => `WHEN ${auditMatch('table_name', config, r.table)} THEN ${literal(r.table)}`).join(' ')} END`;
  const ofRequests = requests.map((r) => auditMatch('table_name', config, r.table)).join(' OR ');
  const columns =
    "SELECT CAST('column' AS VARCHAR(16)) AS kind, CAST(table_name AS VARCHAR(127)) AS table_name, " +
      'CAST(column_name AS VARCHAR(127)) AS column_name, CAST(data_type AS VARCHAR(128)) AS data_type, ' +
      'CAST(character_maximum_length AS INTEGER) AS character_maximum_length, CAST(numeric_precision AS INTEGER) AS numeric_precision, ' +
      'CAST(numeric_scale AS INTEGER) AS numeric_scale, CAST(ordinal_position AS INTEGER) AS ordinal_position, ' +
      `CAST(NULL AS TIMESTAMP) AS partition_date FROM information_schema.columns WHERE ${inSchema} UNION ALL ` +
    // Which of the audit tables and the tables' ledgers exist (one `relation` row each): what missingKnownRelations checks.
    `SELECT DISTINCT CAST('relation' AS VARCHAR(16)), CAST(table_name AS VARCHAR(127)), ${NULL_COLUMN}, CAST(NULL AS TIMESTAMP) ` +
    `FROM information_schema.columns WHERE table_schema = ${literal(audit)} AND table_name IN (${auditRelations(config, requests).map(literal).join(', ')}) ORDER BY 1, 2, 8`;
  const branches = [
    `SELECT CAST('newest' AS VARCHAR(16)) AS kind, CAST(${owner} AS VARCHAR(127)) AS table_name, ${NAMED_NULL_COLUMNS}, MAX(partition_date) AS partition_date ` +
      `FROM ${loads} WHERE status = 'loaded' AND (${ofRequests}) GROUP BY 2`,
  ];
  // The durations of each table's last 5 load batches of the past 30 days (milliseconds, in the ordinal_position column):
  // the polling schedule's estimate, from Prepare's planning of the batch (planned_at; the execution start for rows
  // written before it existed) to its audit row. finished_at is GETDATE(), whole seconds on Redshift (GETDATE function), so
  // on average half a second before the audit row: DATEDIFF in milliseconds plus that half (EXTRACT(EPOCH) of a
  // TIMESTAMP is whole seconds too).
  branches.push(
    `SELECT CAST('load_ms' AS VARCHAR(16)), CAST(t AS VARCHAR(127)), ${NULL_COLUMN.split(', ').slice(0, 5).join(', ')}, CAST(ms AS INTEGER), CAST(NULL AS TIMESTAMP) ` +
      `FROM (SELECT ${owner} AS t, DATEDIFF(millisecond, COALESCE(planned_at, started_at), finished_at) + ${GETDATE_HALF_SECOND_MS} AS ms, ROW_NUMBER() OVER (PARTITION BY ${owner} ORDER BY finished_at DESC, load_id DESC) AS n ` +
      `FROM ${loads} WHERE status = 'loaded' AND (${ofRequests}) AND started_at IS NOT NULL AND finished_at >= GETDATE() - INTERVAL '30 days') r WHERE n <= 5`,
  );
  const candidates = requests
    .filter((r) => r.candidates.length > 0)
    .map((r) => `(${auditMatch('table_name', config, r.table)} AND partition_date IN (${r.candidates.map(timestampLiteral).join(', ')}))`);
  if (candidates.length) {
    branches.push(
      `SELECT DISTINCT CAST('loaded' AS VARCHAR(16)), CAST(${owner} AS VARCHAR(127)), ${NULL_COLUMN}, partition_date ` +
        `FROM ${loads} WHERE status = 'loaded' AND (${candidates.join(' OR ')})`,
    );
    // Failed loads of the candidates (load id in the column_name position): a retry is named after them.
    branches.push(
      `SELECT DISTINCT CAST('failed' AS VARCHAR(16)), CAST(${owner} AS VARCHAR(127)), CAST(load_id AS VARCHAR(127)), ${NULL_COLUMN.split(', ').slice(1).join(', ')}, partition_date ` +
        `FROM ${loads} WHERE status = 'failed' AND (${candidates.join(' OR ')})`,
    );
  }
  // The ledger's files of the candidate partitions (key and ETag): what a top-up compares the listing with.
  const files =
    `SELECT DISTINCT CAST('file' AS VARCHAR(16)) AS kind, CAST(${owner} AS VARCHAR(127)) AS table_name, ` +
    `CAST(file_key AS VARCHAR(1024)) AS file_key, CAST(etag AS VARCHAR(128)) AS etag, ${NAMED_NULL_COLUMNS.split(', ').slice(2).join(', ')}, partition_date ` +
    `FROM ${loadFiles} WHERE ${candidates.length ? `(${candidates.join(' OR ')})` : '1 = 0'} ORDER BY 2, 9, 3, 4`;
  const prerequisites = [...new Set(requests.map((r) => r.table))].filter((t) => !known.tables.has(t)).flatMap((t) => renderLoadPrerequisites(config, t));
  const groupNames = [...new Set(requests.flatMap((r) => tableOf(r.table).readOnlyGroups))];
  const groups =
    `SELECT CAST('group' AS VARCHAR(16)) AS kind, CAST(NULL AS VARCHAR(127)) AS table_name, CAST(groname AS VARCHAR(127)) AS column_name, ` +
    `${NAMED_NULL_COLUMNS.split(', ').slice(1).join(', ')}, CAST(NULL AS TIMESTAMP) AS partition_date ` +
    `FROM pg_group WHERE ${groupsCondition(groupNames)} ORDER BY 3`;
  return [...(known.audit ? [] : renderAuditDdl(audit)), columns, `${branches.join(' UNION ALL ')} ORDER BY 1, 2, 9`, files, groups, ...new Set(prerequisites)];
}

/** The names, in the audit schema, of the audit tables and of the requested tables' ledgers. */
function auditRelations(config: ForkliftConfig, requests: readonly StateRequest[]): string[] {
  const ledgers = requests.map((r) => {
    const t = config.tables[r.table];
    if (!t) throw new ForkliftError(`unknown table '${r.table}'`);
    return ledgerName(t.schema, r.table);
  });
  return [...new Set([...AUDIT_TABLES, ...ledgers])];
}

/**
 * What a read rendered with `known` took as existing and its catalog rows (of the batch's SELECTs,
 * in {@link STATE_COLUMNS} order) show missing: dropped since it was seen. `schema.table` names;
 * empty when the knowledge holds. The caller then reads again with nothing known (the DDL).
 */
export function missingKnownRelations(
  config: ForkliftConfig,
  requests: readonly StateRequest[],
  known: KnownRelations,
  records: ReadonlyArray<ReadonlyArray<StateValue>>,
): string[] {
  const audit = config.warehouse.auditSchema;
  const relations = new Set(records.filter((r) => r[0] === 'relation').map((r) => String(r[1])));
  const withColumns = new Set(records.filter((r) => r[0] === 'column').map((r) => String(r[1])));
  const missing: string[] = [];
  if (known.audit) for (const t of AUDIT_TABLES) if (!relations.has(t)) missing.push(`${audit}.${t}`);
  for (const name of new Set(requests.map((r) => r.table))) {
    const t = config.tables[name];
    if (!t || !known.tables.has(name)) continue;
    if (!withColumns.has(name)) missing.push(`${t.schema}.${name}`);
    if (!relations.has(ledgerName(t.schema, name))) missing.push(`${audit}.${ledgerName(t.schema, name)}`);
  }
  return missing;
}

/** A value of a result row, as the Data API adapter returns it. */
export type StateValue = string | number | boolean | null;

/** What the warehouse holds for one table. */
export interface TableState {
  newestLoaded?: Date;
  /** isoSecond() of every candidate partition with a `loaded` row. */
  loadedPartitions: Set<string>;
  /** The ledger's file identities (`fileIdentity`: key#etag) by isoSecond() of candidate partition (only partitions with files). */
  loadedFiles: Map<string, Set<string>>;
  /** Load ids of failed loads by isoSecond() of candidate partition (only partitions with failures). */
  failedLoads: Map<string, Set<string>>;
  /** The table's columns in ordinal order; undefined when the table does not exist. */
  columns?: ExistingColumn[];
  /** The groups of the batch's `readOnlyGroups` that exist in the warehouse (the same set for every table of a read). */
  existingGroups: Set<string>;
  /** Seconds each of the table's last load batches took (at most 5, of the past 30 days; from Prepare's planning to the audit row). */
  recentLoadSeconds?: number[];
  /**
   * An adopted table (it exists, and the audit has no loaded partition of it): the start of the
   * partition period holding the newest value of its data-date column. See {@link renderNewestDataQuery}.
   */
  newestData?: Date;
}

/**
 * The tables of `states` that already exist with their data-date column but have no loaded
 * partition in the audit: tables Forklift adopts, whose newest data stands in for the newest
 * loaded partition (as s3-to-redshift compared a key's date with the table's own data).
 */
export function tablesToAdopt(config: ForkliftConfig, states: ReadonlyMap<string, TableState>): string[] {
  return [...states]
    .filter(([name, s]) => s.newestLoaded === undefined && s.columns?.some((c) => c.name === config.tables[name]?.dataDateColumn))
    .map(([name]) => name);
}

/**
 * One SELECT: the MAX of each table's data-date column over the rows Forklift did not load, as `data` rows in
 * {@link STATE_COLUMNS} order. Forklift's own rows carry `_forklift_partition` (a table that has the column, per
 * `states`): a load that commits between the state read and this one is not data the table held before Forklift,
 * which would make the partitions being discovered beside it look older than the table's data.
 */
export function renderNewestDataQuery(config: ForkliftConfig, tables: readonly string[], states: ReadonlyMap<string, TableState>): string {
  if (tables.length === 0) throw new ForkliftError('a newest-data read needs at least one table');
  return tables
    .map((name) => {
      const t = config.tables[name];
      if (!t) throw new ForkliftError(`unknown table '${name}'`);
      const forkliftRows = states.get(name)?.columns?.some((c) => c.name === PARTITION_COLUMN) ?? false;
      return (
        `SELECT CAST('data' AS VARCHAR(16)) AS kind, CAST(${literal(name)} AS VARCHAR(127)) AS table_name, ${NAMED_NULL_COLUMNS}, ` +
        `CAST(MAX(${quoteIdent(t.dataDateColumn)}) AS TIMESTAMP) AS partition_date FROM ${qualified(t.schema, name)}` +
        (forkliftRows ? ` WHERE ${quoteIdent(PARTITION_COLUMN)} IS NULL` : '')
      );
    })
    .join(' UNION ALL ');
}

/** Fold the rows of {@link renderNewestDataQuery} into `states` (newestData, at the table's partition granularity). */
export function applyNewestData(config: ForkliftConfig, states: Map<string, TableState>, records: ReadonlyArray<ReadonlyArray<StateValue>>): void {
  for (const row of records) {
    const name = String(row[1]);
    const newest = parseTimestamp(row[8]);
    const t = config.tables[name];
    const s = states.get(name);
    if (row[0] !== 'data' || !t || !s) throw new ForkliftError(`unexpected newest-data row for '${name}'`);
    if (newest) s.newestData = truncateDate(newest, tablePattern(t).granularity);
  }
}

/**
 * The SELECTs' rows (positional, in {@link STATE_COLUMNS} order) as a map by table.
 * Every table in `tables` gets an entry, even without rows. Columns of types Forklift
 * never creates are left out (they are kept in the warehouse and never touched).
 */
export function parseWarehouseState(records: ReadonlyArray<ReadonlyArray<StateValue>>, tables: readonly string[] = []): Map<string, TableState> {
  const out = new Map<string, TableState>();
  const existingGroups = new Set<string>();
  const entry = (table: string): TableState => {
    let s = out.get(table);
    if (!s) out.set(table, (s = { loadedPartitions: new Set(), loadedFiles: new Map(), failedLoads: new Map(), existingGroups }));
    return s;
  };
  tables.forEach(entry);
  const columns = new Map<string, Array<{ ordinal: number; column: ExistingColumn }>>();
  for (const row of records) {
    const [kind, table, columnName, dataType, charLen, precision, scale, ordinal, partitionDate] = row;
    if (kind === 'group') {
      existingGroups.add(String(columnName));
      continue;
    }
    if (kind === 'relation') continue; // an audit table or ledger that exists (missingKnownRelations)
    const name = String(table);
    const s = entry(name);
    if (kind === 'column') {
      const list = columns.get(name) ?? [];
      columns.set(name, list);
      const type = parseInformationSchemaType(String(dataType), num(charLen), num(precision), num(scale));
      if (type) list.push({ ordinal: num(ordinal) ?? list.length, column: { name: String(columnName), type } });
    } else if (kind === 'newest') {
      const d = parseTimestamp(partitionDate);
      if (d) s.newestLoaded = d;
    } else if (kind === 'load_ms') {
      const ms = num(ordinal);
      if (ms !== undefined) (s.recentLoadSeconds ??= []).push(ms / 1000);
    } else if (kind === 'loaded') {
      const d = parseTimestamp(partitionDate);
      if (d) s.loadedPartitions.add(isoSecond(d));
    } else if (kind === 'file') {
      const d = parseTimestamp(partitionDate);
      if (d) {
        const key = isoSecond(d);
        const set = s.loadedFiles.get(key) ?? new Set<string>();
        const etag = dataType === null || dataType === undefined || dataType === '' ? undefined : String(dataType);
        s.loadedFiles.set(key, set.add(fileIdentity(etag === undefined ? { key: String(columnName) } : { key: String(columnName), etag })));
      }
    } else if (kind === 'failed') {
      const d = parseTimestamp(partitionDate);
      if (d) {
        const key = isoSecond(d);
        s.failedLoads.set(key, (s.failedLoads.get(key) ?? new Set<string>()).add(String(columnName)));
      }
    } else {
      throw new ForkliftError(`unexpected warehouse-state row kind '${String(kind)}'`);
    }
  }
  for (const [name, list] of columns) entry(name).columns = list.sort((a, b) => a.ordinal - b.ordinal).map((c) => c.column);
  return out;
}

function num(v: StateValue | undefined): number | undefined {
  if (v === null || v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** `2026-11-20 13:00:00[.ffffff]` (the Data API's TIMESTAMP text, UTC) or ISO 8601. */
export function parseTimestamp(v: StateValue | undefined): Date | undefined {
  if (v === null || v === undefined || typeof v === 'boolean') return undefined;
  if (typeof v === 'number') return new Date(v);
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]00(?::?00)?)?$/.exec(v.trim());
  if (!m) throw new ForkliftError(`cannot read timestamp '${v}'`);
  const ms = m[7] ? Math.floor(Number(m[7]) * 1000) : 0;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, ms));
}
