/**
 * The audit schema (ARCHITECTURE.md, "The warehouse contract"): `loads`,
 * `load_files` and `affected_hours`, created IF NOT EXISTS by every batch that
 * needs them (sql/failure.ts writes the row a failed load leaves behind).
 */
import type { ForkliftConfig } from '../config/schema';
import { literal, qualified, quoteIdent, textLiteral } from '../identifiers';

/**
 * The audit tables, in one list: the config refuses a table or aggregate of the same name in
 * the audit schema. A new audit table is added here first (auditTable() accepts only these).
 */
export const AUDIT_TABLES = ['loads', 'load_files', 'affected_hours'] as const;
export type AuditTable = (typeof AUDIT_TABLES)[number];

/**
 * The identity of a table (or aggregate) in the audit's `table_name`: its schema-qualified name,
 * so that configs sharing one audit schema (a schema per tenant) never read each other's rows.
 * Names the config does not know (a failure before the table was known) are kept as given.
 */
export function auditIdentity(config: ForkliftConfig, name: string): string {
  const schema = config.tables[name]?.schema ?? config.aggregates[name]?.schema;
  return schema === undefined ? name : `${schema}.${name}`;
}

/**
 * SQL matching the audit rows of `name` in `column`: its identity, or its bare name (rows written
 * before the identity was schema-qualified; see README, "A schema per tenant", to migrate them).
 */
export function auditMatch(column: string, config: ForkliftConfig, name: string): string {
  const identity = auditIdentity(config, name);
  return identity === name ? `${column} = ${literal(name)}` : `${column} IN (${literal(identity)}, ${literal(name)})`;
}

/** The config table or aggregate an audit row's `table_name` belongs to (identity, or legacy bare name). */
export function auditOwner(config: ForkliftConfig, tableName: string): string | undefined {
  const dot = tableName.indexOf('.');
  const name = dot < 0 ? tableName : tableName.slice(dot + 1);
  const known = Object.hasOwn(config.tables, name) || Object.hasOwn(config.aggregates, name);
  if (!known) return undefined;
  return dot < 0 || auditIdentity(config, name) === tableName ? name : undefined;
}

/** `"audit"."table"`. */
export function auditTable(auditSchema: string, table: AuditTable): string {
  return qualified(auditSchema, table);
}

/** Number of statements {@link renderAuditDdl} returns (the schema and three tables). */
export const AUDIT_DDL_STATEMENTS = 4;

/** `CREATE SCHEMA` and the three audit tables, all IF NOT EXISTS (safe in a transaction, idempotent). */
export function renderAuditDdl(auditSchema: string): string[] {
  return [
    `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(auditSchema)}`,
    `CREATE TABLE IF NOT EXISTS ${auditTable(auditSchema, 'loads')} (` +
      'load_id VARCHAR(80) NOT NULL, table_name VARCHAR(127) NOT NULL, partition_date TIMESTAMP, ' +
      'partition_key VARCHAR(1024), mode VARCHAR(16), status VARCHAR(16) NOT NULL, reason VARCHAR(1024), ' +
      'files INTEGER, rows_loaded BIGINT, started_at TIMESTAMP, finished_at TIMESTAMP, error VARCHAR(4096), ' +
      'error_file VARCHAR(1024), error_line INTEGER, error_column VARCHAR(127), planned_at TIMESTAMP' +
      ') DISTSTYLE EVEN SORTKEY (table_name, partition_date)',
    `CREATE TABLE IF NOT EXISTS ${auditTable(auditSchema, 'load_files')} (` +
      'load_id VARCHAR(80) NOT NULL, table_name VARCHAR(127) NOT NULL, partition_date TIMESTAMP, ' +
      'file_key VARCHAR(1024) NOT NULL, bytes BIGINT, etag VARCHAR(128)' +
      ') DISTSTYLE EVEN SORTKEY (table_name, partition_date)',
    `CREATE TABLE IF NOT EXISTS ${auditTable(auditSchema, 'affected_hours')} (` +
      'load_id VARCHAR(80) NOT NULL, table_name VARCHAR(127) NOT NULL, time_column VARCHAR(127) NOT NULL, hour TIMESTAMP NOT NULL' +
      ') DISTSTYLE EVEN SORTKEY (load_id)',
  ];
}

/**
 * Columns added to the audit tables after their first release. A table created by an older
 * version lacks them; {@link renderAuditEvolution} adds them (Redshift has no
 * `ADD COLUMN IF NOT EXISTS` and adds one column per ALTER TABLE, so each is its own statement).
 */
export const AUDIT_ADDED_COLUMNS: ReadonlyArray<{ table: AuditTable; column: string; type: string }> = [
  // The file ledger's identity of an object version: key AND ETag (a re-put with new content is a new file).
  { table: 'load_files', column: 'etag', type: 'VARCHAR(128)' },
  // When Prepare planned the load batch, moments before its submission: the polling schedule learns from planned → done.
  { table: 'loads', column: 'planned_at', type: 'TIMESTAMP' },
];

/** The SELECT of the audit tables' existing added columns: rows `(table_name, column_name)`. */
export function renderAuditColumnsQuery(auditSchema: string): string {
  const tables = [...new Set(AUDIT_ADDED_COLUMNS.map((c) => c.table))].map((t) => literal(t)).join(', ');
  return (
    'SELECT CAST(table_name AS VARCHAR(127)) AS table_name, CAST(column_name AS VARCHAR(127)) AS column_name ' +
    `FROM information_schema.columns WHERE table_schema = ${literal(auditSchema)} AND table_name IN (${tables})`
  );
}

/** `ALTER TABLE ... ADD COLUMN` for each added column missing from `existing` (`table.column` names), one per statement. */
export function renderAuditEvolution(auditSchema: string, existing: ReadonlySet<string>): string[] {
  return AUDIT_ADDED_COLUMNS.filter((c) => !existing.has(`${c.table}.${c.column}`)).map(
    (c) => `ALTER TABLE ${auditTable(auditSchema, c.table)} ADD COLUMN ${quoteIdent(c.column)} ${c.type}`,
  );
}

/** `text` cut to at most `bytes` UTF-8 bytes (Redshift VARCHAR lengths count bytes), on a character boundary. */
export function fitBytes(text: string, bytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= bytes) return text;
  let out = '';
  let used = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (used + size > bytes) break;
    out += ch;
    used += size;
  }
  return out;
}

/** A free-text literal that fits a VARCHAR(`bytes`) column. */
export function textFitting(text: string, bytes: number): string {
  return textLiteral(fitBytes(text, bytes), bytes);
}

/** What a failed execution records (status `failed`). */
export interface FailureRecord {
  loadId: string;
  table: string;
  partitionDate?: Date;
  partitionKey?: string;
  mode?: string;
  files?: number;
  startedAt?: Date;
  finishedAt: Date;
  /** The error message (free text: cleaned, not refused). */
  error: string;
  errorFile?: string;
  errorLine?: number;
  errorColumn?: string;
}
