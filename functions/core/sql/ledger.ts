/**
 * The per-table file ledger the in-transaction guard reads (ARCHITECTURE.md, "Concurrency
 * on Redshift"). Redshift checks serializability per TABLE: a load that reads the shared
 * `load_files`/`loads` and writes them conflicts (ERROR 1023) with any overlapping load of
 * another table that does the same. So a load reads only its own table's ledger
 * (`<audit>.ledger__<table>`, written by loads of that table only, which LOCK it first and so
 * never overlap) and writes the shared audit tables blindly (INSERT ... SELECT from its own
 * temp tables, no read of them): loads of different tables then never form a cycle.
 */
import { createHash } from 'node:crypto';
import { MAX_IDENTIFIER_BYTES, qualified } from '../identifiers';

const PREFIX = 'ledger__';

/**
 * The ledger table's name: `ledger__<schema>__<table>` (schema-qualified, like the audit's identity of a
 * table, so that two tenants' `events` never share a ledger), or a hashed form beyond the identifier limit.
 */
export function ledgerName(schema: string, table: string): string {
  const name = `${PREFIX}${schema}__${table}`;
  if (Buffer.byteLength(name, 'utf8') <= MAX_IDENTIFIER_BYTES) return name;
  const hash = createHash('sha256').update(`${schema}.${table}`, 'utf8').digest('hex').slice(0, 8);
  return `${name.slice(0, MAX_IDENTIFIER_BYTES - hash.length - 1)}_${hash}`;
}

/** `"audit"."ledger__<schema>__<table>"`. */
export function ledgerTable(auditSchema: string, schema: string, table: string): string {
  return qualified(auditSchema, ledgerName(schema, table));
}

/**
 * CREATE TABLE IF NOT EXISTS of the ledger: one row per loaded file, plus one row with a NULL
 * `file_key` per load (a load of a partition without files still marks it loaded).
 */
export function renderLedgerDdl(auditSchema: string, schema: string, table: string): string {
  return (
    `CREATE TABLE IF NOT EXISTS ${ledgerTable(auditSchema, schema, table)} (` +
    'load_id VARCHAR(80) NOT NULL, partition_date TIMESTAMP NOT NULL, file_key VARCHAR(1024), bytes BIGINT, etag VARCHAR(128)' +
    ') DISTSTYLE EVEN SORTKEY (partition_date)'
  );
}
