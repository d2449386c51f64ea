/**
 * Postgres result sets in the Data API's shape: typed `Field` unions and
 * `ColumnMetadata`, as GetStatementResult returns them.
 */

/** A Data API `Field` union member, JSON-encoded as the service sends it. */
export type Field =
  | { isNull: true }
  | { booleanValue: boolean }
  | { longValue: number }
  | { doubleValue: number }
  | { stringValue: string };

/** A Data API `ColumnMetadata`. */
export interface ColumnMetadata {
  name: string;
  label: string;
  typeName: string;
  isCaseSensitive: boolean;
  isCurrency: boolean;
  isSigned: boolean;
  nullable: number;
  precision: number;
  scale: number;
  length: number;
  schemaName: string;
  tableName: string;
}

/** A finished statement's rows, kept until the statement is forgotten. */
export interface ResultSet {
  columns: ColumnMetadata[];
  records: Field[][];
}

const TYPE_NAMES: Record<number, string> = {
  16: 'bool',
  18: 'char',
  19: 'name',
  20: 'int8',
  21: 'int2',
  23: 'int4',
  25: 'varchar',
  26: 'oid',
  700: 'float4',
  701: 'float8',
  1042: 'bpchar',
  1043: 'varchar',
  1082: 'date',
  1083: 'time',
  1114: 'timestamp',
  1184: 'timestamptz',
  1266: 'timetz',
  1700: 'numeric',
};
const LONG = new Set([20, 21, 23, 26]);
const DOUBLE = new Set([700, 701]);
const SIGNED = new Set([20, 21, 23, 700, 701, 1700]);

const PARSED_TYPES = [16, 17, 20, 21, 23, 26, 114, 700, 701, 1082, 1083, 1114, 1184, 1186, 1266, 1700, 3802];
/** The types PGlite would parse, kept as Postgres text instead (its `textTypes` option), so conversion happens once, here. */
export const TEXT_TYPES: readonly number[] = PARSED_TYPES;

/** Column metadata for PGlite's field descriptions. */
export function columnMetadata(fields: ReadonlyArray<{ name: string; dataTypeID: number }>): ColumnMetadata[] {
  return fields.map((f) => ({
    name: f.name,
    label: f.name,
    typeName: TYPE_NAMES[f.dataTypeID] ?? 'varchar',
    isCaseSensitive: [25, 1042, 1043, 18, 19].includes(f.dataTypeID),
    isCurrency: false,
    isSigned: SIGNED.has(f.dataTypeID),
    nullable: 1,
    precision: 0,
    scale: 0,
    length: 0,
    schemaName: '',
    tableName: '',
  }));
}

/** Converts one Postgres text value into the Field the Data API would return. */
export function toField(value: unknown, dataTypeID: number): Field {
  if (value === null || value === undefined) return { isNull: true };
  const text = String(value);
  if (dataTypeID === 16) return { booleanValue: text === 't' || text === 'true' };
  if (LONG.has(dataTypeID)) return { longValue: Number(text) };
  if (DOUBLE.has(dataTypeID)) return { doubleValue: Number(text) };
  return { stringValue: text };
}

/** A whole result set from PGlite's array-mode rows. */
export function toResultSet(fields: ReadonlyArray<{ name: string; dataTypeID: number }>, rows: unknown[][]): ResultSet {
  const types = fields.map((f) => f.dataTypeID);
  return {
    columns: columnMetadata(fields),
    records: rows.map((row) => row.map((v, i) => toField(v, types[i] ?? 25))),
  };
}
