/**
 * Redshift column types Forklift accepts in config, parsed into one canonical
 * shape so that DDL rendering and schema-evolution checks compare like with like.
 */

/** Canonical base types (Redshift names). */
export type BaseType =
  | 'SMALLINT'
  | 'INTEGER'
  | 'BIGINT'
  | 'DECIMAL'
  | 'REAL'
  | 'DOUBLE PRECISION'
  | 'BOOLEAN'
  | 'CHAR'
  | 'VARCHAR'
  | 'DATE'
  | 'TIMESTAMP'
  | 'TIMESTAMPTZ';

/** A parsed column type. `length` for CHAR/VARCHAR, `precision`/`scale` for DECIMAL. */
export interface ColumnType {
  base: BaseType;
  length?: number;
  precision?: number;
  scale?: number;
}

const ALIASES: Record<string, BaseType> = {
  SMALLINT: 'SMALLINT',
  INT2: 'SMALLINT',
  INTEGER: 'INTEGER',
  INT: 'INTEGER',
  INT4: 'INTEGER',
  BIGINT: 'BIGINT',
  INT8: 'BIGINT',
  DECIMAL: 'DECIMAL',
  NUMERIC: 'DECIMAL',
  REAL: 'REAL',
  FLOAT4: 'REAL',
  'DOUBLE PRECISION': 'DOUBLE PRECISION',
  FLOAT8: 'DOUBLE PRECISION',
  FLOAT: 'DOUBLE PRECISION',
  BOOLEAN: 'BOOLEAN',
  BOOL: 'BOOLEAN',
  CHAR: 'CHAR',
  CHARACTER: 'CHAR',
  VARCHAR: 'VARCHAR',
  'CHARACTER VARYING': 'VARCHAR',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMP',
  'TIMESTAMP WITHOUT TIME ZONE': 'TIMESTAMP',
  TIMESTAMPTZ: 'TIMESTAMPTZ',
  'TIMESTAMP WITH TIME ZONE': 'TIMESTAMPTZ',
};

const MAX_VARCHAR = 65535;
const MAX_CHAR = 4096;

/** Parse `varchar(64)`, `DECIMAL(12,2)`, `bigint`...; returns an error message instead of throwing. */
export function parseColumnType(text: string): ColumnType | { error: string } {
  const match = /^\s*([a-zA-Z][a-zA-Z0-9 ]*?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$/.exec(text);
  const name = match?.[1]?.toUpperCase().replace(/\s+/g, ' ');
  const base = name ? ALIASES[name] : undefined;
  if (!match || !base) return { error: `unknown type '${text}'` };
  const a = match[2] === undefined ? undefined : Number(match[2]);
  const b = match[3] === undefined ? undefined : Number(match[3]);
  switch (base) {
    case 'VARCHAR':
    case 'CHAR': {
      if (b !== undefined) return { error: `type '${text}' takes one length` };
      const max = base === 'VARCHAR' ? MAX_VARCHAR : MAX_CHAR;
      const length = a ?? (base === 'VARCHAR' ? 256 : 1);
      if (length < 1 || length > max) return { error: `type '${text}': length must be 1..${max}` };
      return { base, length };
    }
    case 'DECIMAL': {
      const precision = a ?? 18;
      const scale = b ?? 0;
      if (precision < 1 || precision > 38) return { error: `type '${text}': precision must be 1..38` };
      if (scale > precision) return { error: `type '${text}': scale must not exceed precision` };
      return { base, precision, scale };
    }
    default:
      if (a !== undefined) return { error: `type '${text}' takes no length or precision` };
      return { base };
  }
}

/** The Redshift spelling of a type, as used in DDL. */
export function renderColumnType(type: ColumnType): string {
  switch (type.base) {
    case 'VARCHAR':
    case 'CHAR':
      return `${type.base}(${type.length})`;
    case 'DECIMAL':
      return `DECIMAL(${type.precision},${type.scale})`;
    default:
      return type.base;
  }
}

/** True for types whose values order in time (usable as a data-date or aggregate time column). */
export function isTemporal(type: ColumnType): boolean {
  return type.base === 'DATE' || type.base === 'TIMESTAMP' || type.base === 'TIMESTAMPTZ';
}

/** True for types that SUM/AVG accept. */
export function isNumeric(type: ColumnType): boolean {
  return ['SMALLINT', 'INTEGER', 'BIGINT', 'DECIMAL', 'REAL', 'DOUBLE PRECISION'].includes(type.base);
}
