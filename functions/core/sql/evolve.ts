/**
 * Schema evolution of a raw table: what the config adds or widens compared with
 * the warehouse, and a SchemaChangeError listing every change Redshift cannot make.
 */
import { renderColumnType, type ColumnType } from '../config/columnTypes';
import type { TableConfig } from '../config/schema';
import { SchemaChangeError } from '../errors';
import { qualified, quoteIdent } from '../identifiers';
import type { ExistingColumn } from '../types';
import { rawTableColumns, renderColumnDefinition } from './ddl';

/**
 * Encodings under which Redshift cannot widen a VARCHAR (Database Developer Guide, ALTER TABLE,
 * ALTER COLUMN … TYPE). The config's encoding stands for the column's: Forklift created it so.
 */
export const NOT_WIDENABLE = ['bytedict', 'runlength', 'text255', 'text32k'] as const;

/** The statements that bring an existing table to its config. */
export interface SchemaChanges {
  /** `ALTER TABLE ... ADD COLUMN`: safe inside the load transaction. New columns are always nullable. */
  addColumns: string[];
  /** `ALTER TABLE ... ALTER COLUMN ... TYPE VARCHAR(n)`: Redshift refuses these in a transaction; run them before the batch. */
  widenVarchar: string[];
}

/**
 * Compare the config with the warehouse columns (undefined: the table does not exist yet,
 * so CREATE TABLE covers everything). Columns only in the warehouse are kept. A new column
 * is added nullable even when the config says NOT NULL: Redshift needs a DEFAULT to add a
 * NOT NULL column to a table with rows, and inventing one would be a guess. VARCHAR growth
 * widens; a shorter VARCHAR in config keeps the wider column. Any other type difference is
 * refused, all of them in one SchemaChangeError.
 */
export function planSchemaChanges(tableName: string, tableConfig: TableConfig, existing: ExistingColumn[] | undefined): SchemaChanges {
  const changes: SchemaChanges = { addColumns: [], widenVarchar: [] };
  if (existing === undefined) return changes;
  const target = qualified(tableConfig.schema, tableName);
  const current = new Map(existing.map((c) => [c.name, c.type]));
  const problems: string[] = [];
  for (const column of rawTableColumns(tableConfig)) {
    const have = current.get(column.name);
    if (!have) {
      changes.addColumns.push(`ALTER TABLE ${target} ADD COLUMN ${renderColumnDefinition({ ...column, nullable: true })}`);
      continue;
    }
    const want = column.type;
    if (sameType(have, want)) continue;
    if (have.base === 'VARCHAR' && want.base === 'VARCHAR') {
      const encoding = column.encoding?.toLowerCase();
      if ((want.length ?? 0) > (have.length ?? 0) && encoding !== undefined && (NOT_WIDENABLE as readonly string[]).includes(encoding)) {
        problems.push(
          `column '${column.name}': ${renderColumnType(have)} -> ${renderColumnType(want)} cannot be widened on a ${encoding.toUpperCase()} column ` +
            '(Redshift refuses ALTER COLUMN TYPE on BYTEDICT, RUNLENGTH, TEXT255 and TEXT32K columns); fix: run ' +
            `ALTER TABLE ${target} ALTER COLUMN ${quoteIdent(column.name)} ENCODE ZSTD and set its encoding to zstd in the config, then load again`,
        );
        continue;
      }
      if ((want.length ?? 0) > (have.length ?? 0)) {
        changes.widenVarchar.push(`ALTER TABLE ${target} ALTER COLUMN ${quoteIdent(column.name)} TYPE ${renderColumnType(want)}`);
      }
      continue;
    }
    problems.push(
      `column '${column.name}': ${renderColumnType(have)} -> ${renderColumnType(want)} is not supported by Redshift ALTER TABLE; ` +
        'create a new column or reload into a new table',
    );
  }
  if (problems.length) throw new SchemaChangeError(tableName, problems);
  return changes;
}

function sameType(a: ColumnType, b: ColumnType): boolean {
  return renderColumnType(a) === renderColumnType(b);
}

const INFORMATION_SCHEMA_TYPES: Record<string, ColumnType['base']> = {
  smallint: 'SMALLINT',
  integer: 'INTEGER',
  bigint: 'BIGINT',
  numeric: 'DECIMAL',
  real: 'REAL',
  'double precision': 'DOUBLE PRECISION',
  boolean: 'BOOLEAN',
  character: 'CHAR',
  'character varying': 'VARCHAR',
  date: 'DATE',
  'timestamp without time zone': 'TIMESTAMP',
  'timestamp with time zone': 'TIMESTAMPTZ',
};

/**
 * An information_schema.columns type (`data_type`, `character_maximum_length`,
 * `numeric_precision`, `numeric_scale`) as a ColumnType; undefined for types Forklift
 * never creates (SUPER, GEOMETRY, TIME...), which callers leave alone.
 */
export function parseInformationSchemaType(
  dataType: string,
  charMaxLength: number | null | undefined,
  numericPrecision: number | null | undefined,
  numericScale: number | null | undefined,
): ColumnType | undefined {
  const base = INFORMATION_SCHEMA_TYPES[dataType.trim().toLowerCase()];
  switch (base) {
    case undefined:
      return undefined;
    case 'VARCHAR':
      return { base, length: charMaxLength ?? 256 };
    case 'CHAR':
      return { base, length: charMaxLength ?? 1 };
    case 'DECIMAL':
      return { base, precision: numericPrecision ?? 18, scale: numericScale ?? 0 };
    default:
      return { base };
  }
}
