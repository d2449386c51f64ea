/**
 * COPY value checks: every input value is validated against its target column
 * the way Redshift does (integer ranges, decimal precision, VARCHAR length in
 * bytes, boolean forms, dates and timestamps, NOT NULL) and turned into the
 * Postgres text that PGlite's COPY loads.
 */

/** A target column as information_schema describes it. */
export interface ColumnInfo {
  name: string;
  dataType: string;
  maxLength: number | null;
  precision: number | null;
  scale: number | null;
  notNull: boolean;
}

/** COPY options that change how values are read. */
export interface ValueOptions {
  timeFormat: string;
  dateFormat: string;
  truncateColumns: boolean;
  blanksAsNull: boolean;
  emptyAsNull: boolean;
}

/** Why a value was refused, with Redshift's stl_load_errors code. */
export class ValueProblem extends Error {
  constructor(
    readonly reason: string,
    readonly errCode: number,
    readonly position = 0,
  ) {
    super(reason);
    this.name = 'ValueProblem';
  }
}

const INT_RANGES: Record<string, [bigint, bigint, string]> = {
  smallint: [-32768n, 32767n, 'Short'],
  integer: [-2147483648n, 2147483647n, 'Integer'],
  bigint: [-9223372036854775808n, 9223372036854775807n, 'Long'],
};
const TRUE_FORMS = new Set(['t', 'true', 'y', 'yes', '1', 'on']);
const FALSE_FORMS = new Set(['f', 'false', 'n', 'no', '0', 'off']);

/** The label Redshift prints after `Type:` for a column. */
export function typeLabel(c: ColumnInfo): string {
  const int = INT_RANGES[c.dataType];
  if (int) return int[2];
  if (c.dataType === 'numeric') return 'Decimal';
  if (c.dataType === 'real' || c.dataType === 'double precision') return 'Double';
  if (c.dataType === 'boolean') return 'Boolean';
  if (c.dataType === 'character varying' || c.dataType === 'text') return 'Varchar';
  if (c.dataType === 'character') return 'Char';
  if (c.dataType === 'date') return 'Date';
  if (c.dataType.startsWith('timestamp')) return 'Timestamp';
  return c.dataType;
}

/** Raw input (text, JSON or Parquet value) → Postgres text for the column, or null; throws ValueProblem. */
export function convertValue(raw: unknown, c: ColumnInfo, o: ValueOptions): string | null {
  let value = normalize(raw);
  // A typed timestamp of a columnar file (Parquet) needs no TIMEFORMAT: it is an instant, rendered as ISO 8601.
  const typedTime = Object.prototype.toString.call(raw) === '[object Date]';
  const isChar = c.dataType === 'character varying' || c.dataType === 'character' || c.dataType === 'text';
  if (value !== null && o.blanksAsNull && value.length > 0 && value.trim() === '') value = null;
  if (value !== null && value === '' && (o.emptyAsNull || !isChar)) value = null;
  if (value === null) {
    if (c.notNull) throw new ValueProblem('Missing data for not-null field', 1213);
    return null;
  }
  const int = INT_RANGES[c.dataType];
  if (int) return checkInteger(value, int[0], int[1]);
  switch (c.dataType) {
    case 'numeric':
      return checkDecimal(value, c.precision, c.scale);
    case 'real':
    case 'double precision':
      return checkFloat(value);
    case 'boolean':
      return checkBoolean(value);
    case 'character varying':
    case 'character':
    case 'text':
      return checkString(value, c.maxLength, o.truncateColumns);
    case 'date':
      return parseDateTime(value, typedTime ? 'auto' : o.dateFormat, 'date');
    case 'timestamp without time zone':
    case 'timestamp with time zone':
      return parseDateTime(value, typedTime ? 'auto' : o.timeFormat, 'timestamp');
    default:
      return value;
  }
}

function normalize(raw: unknown): string | null {
  if (raw === null || raw === undefined) return null;
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' || typeof raw === 'bigint' || typeof raw === 'boolean') return String(raw);
  // Tag, not instanceof: Parquet Dates come from a worker thread (another realm under jest's VM context).
  if (Object.prototype.toString.call(raw) === '[object Date]') return (raw as Date).toISOString();
  if (raw instanceof Uint8Array) return Buffer.from(raw).toString('utf8');
  return JSON.stringify(raw, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

function firstBad(value: string, ok: RegExp): number {
  for (let i = 0; i < value.length; i++) if (!ok.test(value[i] as string)) return i;
  return 0;
}

function checkInteger(value: string, min: bigint, max: bigint): string {
  const v = value.trim();
  if (!/^[+-]?\d+$/.test(v)) {
    throw new ValueProblem('Invalid digit', 1207, firstBad(v, /[0-9+-]/));
  }
  const n = BigInt(v);
  if (n < min || n > max) throw new ValueProblem(`Overflow (valid range ${min} to ${max})`, 1207);
  return n.toString();
}

function checkDecimal(value: string, precision: number | null, scale: number | null): string {
  const v = value.trim();
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(v);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new ValueProblem('Invalid digit', 1207, firstBad(v, /[0-9+.eE-]/));
  if (precision !== null && scale !== null) {
    const asNumber = m[4] ? Number(v) : undefined;
    const intPart = asNumber !== undefined ? Math.trunc(Math.abs(asNumber)).toString() : (m[2] as string);
    const digits = intPart.replace(/^0+/, '').length;
    if (digits > precision - scale) {
      throw new ValueProblem(`Numeric data overflow (result precision ${precision}, scale ${scale})`, 1209);
    }
  }
  return v;
}

function checkFloat(value: string): string {
  const v = value.trim();
  if (/^[+-]?(nan|inf|infinity)$/i.test(v)) return v;
  if (v === '' || !Number.isFinite(Number(v))) throw new ValueProblem('Invalid digit', 1207, firstBad(v, /[0-9+.eE-]/));
  return v;
}

function checkBoolean(value: string): string {
  const v = value.trim().toLowerCase();
  if (TRUE_FORMS.has(v)) return 'true';
  if (FALSE_FORMS.has(v)) return 'false';
  throw new ValueProblem('Invalid boolean value', 1210);
}

function checkString(value: string, maxLength: number | null, truncate: boolean): string {
  if (maxLength === null) return value;
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes <= maxLength) return value;
  if (!truncate) throw new ValueProblem('String length exceeds DDL length', 1204);
  let out = '';
  let used = 0;
  for (const ch of value) {
    const b = Buffer.byteLength(ch, 'utf8');
    if (used + b > maxLength) break;
    out += ch;
    used += b;
  }
  return out;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/**
 * Parses a date or timestamp by a Redshift format ('auto', 'epochsecs', 'epochmillisecs'
 * or a pattern of YYYY MM DD HH24 HH MI SS), converting offsets to UTC.
 */
export function parseDateTime(value: string, format: string, kind: 'date' | 'timestamp'): string {
  const v = value.trim();
  const code = kind === 'date' ? 1205 : 1206;
  const bad = (): ValueProblem =>
    new ValueProblem(kind === 'date' ? 'Invalid Date Format' : 'Invalid timestamp format or value', code);
  let y: number, mo: number, d: number, h: number, mi: number, s: number, frac: string, offsetMin: number;
  const f = format.toLowerCase();
  if (f === 'epochsecs' || f === 'epochmillisecs') {
    if (!/^-?\d+(\.\d+)?$/.test(v)) throw bad();
    const ms = f === 'epochsecs' ? Number(v) * 1000 : Number(v);
    return formatUtc(new Date(ms), '', kind);
  }
  let m: RegExpExecArray | null;
  if (f === 'auto') {
    m = /^(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2}):?(\d{2})(?::?(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?$/i.exec(v);
    if (!m) throw bad();
    [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    h = Number(m[4] ?? 0);
    mi = Number(m[5] ?? 0);
    s = Number(m[6] ?? 0);
    frac = m[7] ?? '';
    offsetMin = parseOffset(m[8]);
  } else {
    const parts: string[] = [];
    const pattern = format.replace(/YYYY|YY|MM|DD|HH24|HH12|HH|MI|SS|[^A-Za-z]/g, (tok) => {
      if (/^[^A-Za-z]$/.test(tok)) return tok.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      parts.push(tok);
      return tok === 'YYYY' ? '(\\d{4})' : '(\\d{1,2})';
    });
    m = new RegExp(`^${pattern}(?:[.,](\\d{1,9}))?\\s*(Z|[+-]\\d{2}(?::?\\d{2})?)?$`).exec(v);
    if (!m) throw bad();
    const got: Record<string, number> = {};
    parts.forEach((p, i) => (got[p] = Number(m?.[i + 1])));
    y = got.YYYY ?? (got.YY !== undefined ? 2000 + got.YY : 1970);
    mo = got.MM ?? 1;
    d = got.DD ?? 1;
    h = got.HH24 ?? got.HH12 ?? got.HH ?? 0;
    mi = got.MI ?? 0;
    s = got.SS ?? 0;
    frac = m[parts.length + 1] ?? '';
    offsetMin = parseOffset(m[parts.length + 2]);
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) throw bad();
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(ms);
  if (check.getUTCDate() !== d || check.getUTCMonth() !== mo - 1) throw bad();
  return formatUtc(new Date(ms - offsetMin * 60000), frac.slice(0, 6), kind);
}

function parseOffset(text: string | undefined): number {
  if (!text || /^(z|utc)$/i.test(text)) return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(text) as RegExpExecArray;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  return m[1] === '-' ? -minutes : minutes;
}

function formatUtc(t: Date, frac: string, kind: 'date' | 'timestamp'): string {
  if (Number.isNaN(t.getTime())) throw new ValueProblem('Invalid timestamp format or value', 1206);
  const date = `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
  if (kind === 'date') return date;
  const ms = t.getUTCMilliseconds();
  const fraction = frac || (ms ? pad(ms, 3) : '');
  return `${date} ${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}${fraction ? `.${fraction}` : ''}`;
}
