/**
 * CREATE SCHEMA/TABLE IF NOT EXISTS for raw tables and fact tables, with the
 * Redshift physical clauses (ENCODE, DISTSTYLE, DISTKEY, SORTKEY).
 */
import { renderColumnType, type ColumnType } from '../config/columnTypes';
import type { ForkliftConfig, TableConfig } from '../config/schema';
import { ForkliftError } from '../errors';
import { qualified, quoteIdent } from '../identifiers';
import { PARTITION_COLUMN, PARTITION_COLUMN_TYPE, relationColumns } from './relations';

/** One column of a CREATE TABLE or ADD COLUMN. */
export interface ColumnSpec {
  name: string;
  type: ColumnType;
  nullable: boolean;
  encoding?: string | undefined;
}

/** `"name" TYPE [NOT NULL] [ENCODE e]`. */
export function renderColumnDefinition(c: ColumnSpec): string {
  return [quoteIdent(c.name), renderColumnType(c.type), c.nullable ? '' : 'NOT NULL', c.encoding ? `ENCODE ${c.encoding}` : '']
    .filter(Boolean)
    .join(' ');
}

/** `CREATE SCHEMA IF NOT EXISTS "schema"`. */
export function renderCreateSchema(schema: string): string {
  return `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`;
}

function renderCreateTable(schema: string, name: string, columns: ColumnSpec[], physical: string[]): string {
  const body = columns.map(renderColumnDefinition).join(', ');
  return `CREATE TABLE IF NOT EXISTS ${qualified(schema, name)} (${body})${physical.map((p) => ` ${p}`).join('')}`;
}

const sortKey = (columns: readonly string[]): string => `SORTKEY (${columns.map(quoteIdent).join(', ')})`;

/** The columns of a raw table as created: config columns in config order, then `_forklift_partition`. */
export function rawTableColumns(table: TableConfig): ColumnSpec[] {
  return [
    ...Object.entries(table.columns).map(([name, c]) => ({ name, type: c.type, nullable: c.nullable, encoding: c.encoding })),
    { name: PARTITION_COLUMN, type: PARTITION_COLUMN_TYPE, nullable: true },
  ];
}

/**
 * Schema and raw table, IF NOT EXISTS. `_forklift_partition` is nullable because
 * staging tables are `LIKE` the target and COPY does not fill it.
 */
export function renderRawTableDdl(tableName: string, table: TableConfig): string[] {
  const physical = [`DISTSTYLE ${table.distStyle.toUpperCase()}`];
  if (table.distKey) physical.push(`DISTKEY (${quoteIdent(table.distKey)})`);
  physical.push(sortKey(table.sortKey?.length ? table.sortKey : [table.dataDateColumn]));
  return [renderCreateSchema(table.schema), renderCreateTable(table.schema, tableName, rawTableColumns(table), physical)];
}

/**
 * The columns of a fact table as created: `bucket TIMESTAMP NOT NULL` first, then the
 * dimensions and measures (`factColumns`), or the `columns` of a raw-SQL aggregate.
 */
export function factTableColumns(config: ForkliftConfig, aggregateName: string): ColumnSpec[] {
  const a = config.aggregates[aggregateName];
  if (!a) throw new ForkliftError(`unknown aggregate '${aggregateName}'`);
  const bucket: ColumnSpec = { name: 'bucket', type: { base: 'TIMESTAMP' }, nullable: false };
  if (a.sql !== undefined) {
    const rest = Object.entries(a.columns ?? {})
      .filter(([name]) => name !== 'bucket')
      .map(([name, c]) => ({ name, type: c.type, nullable: c.nullable, encoding: c.encoding }));
    return [{ ...bucket, type: a.columns?.['bucket']?.type ?? bucket.type, encoding: a.columns?.['bucket']?.encoding }, ...rest];
  }
  return [...relationColumns(config, aggregateName)].map(([name, type]) => (name === 'bucket' ? bucket : { name, type, nullable: true }));
}

/** Schema and fact table, IF NOT EXISTS; SORTKEY (bucket) unless the aggregate configures one. */
export function renderFactTableDdl(config: ForkliftConfig, aggregateName: string): string[] {
  const a = config.aggregates[aggregateName];
  if (!a) throw new ForkliftError(`unknown aggregate '${aggregateName}'`);
  const physical = ['DISTSTYLE AUTO', sortKey(a.sortKey?.length ? a.sortKey : ['bucket'])];
  return [renderCreateSchema(a.schema), renderCreateTable(a.schema, aggregateName, factTableColumns(config, aggregateName), physical)];
}
