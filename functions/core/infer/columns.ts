/**
 * `forklift init`, part 3: columns and types from a bounded sample of rows, each guess with
 * the evidence behind it. Integers are sized to the observed range (with room for 10x),
 * decimals to the observed digits, VARCHAR to the longest value (x2); ISO strings are
 * timestamps or dates, integers in the epoch range are epoch seconds or milliseconds when
 * their name or the key dates say so. Nested objects and arrays are kept as their JSON
 * text in a VARCHAR: SUPER is not a Forklift column type (config/columnTypes.ts), and
 * COPY loads an object or array value as its JSON text. Also: the data-date column (the
 * temporal column agreeing with the key dates), and for snapshot-like tables (every
 * partition repeats the same key values) a likely primary key.
 */
import { partitionEnd, truncateDate } from '../dates';
import { identifierProblem } from '../identifiers';
import type { Granularity } from '../types';

/** Rows read from one object, with its partition's date. */
export interface RowSample {
  partitionDate: Date;
  rows: Array<Record<string, unknown>>;
}

/** How values are matched to columns: by name (JSON), by position (CSV, Parquet). */
export type Mapping = 'name' | 'position';

/** One column's guess. */
export interface ColumnGuess {
  /** The column name in the config. */
  name: string;
  /** The key or header the values came from. */
  source: string;
  type: string;
  nullable: boolean;
  evidence: string;
  /** Set for low-cardinality text columns: how many distinct values the sample has. */
  distinct?: number;
}

/** A source field left out, and why (JSON keys that COPY 'auto' cannot map to a valid column). */
export interface SkippedField {
  source: string;
  reason: string;
}

/** Everything inferred about a table's rows. */
export interface TableGuess {
  columns: ColumnGuess[];
  skipped: SkippedField[];
  /** JSON: 'auto ignorecase' when some keys are not lowercase. */
  jsonpaths: 'auto' | 'auto ignorecase';
  timeFormat: 'auto' | 'epochsecs' | 'epochmillisecs';
  timeFormatEvidence?: string;
  dataDateColumn?: string;
  dataDateEvidence: string;
  /** Snapshot-like (every partition repeats the same key values): the likely primary key. */
  primaryKey?: string;
  snapshotEvidence?: string;
  rows: number;
}

type Kind = 'null' | 'bool' | 'int' | 'dec' | 'float' | 'ts' | 'date' | 'nested' | 'text';

interface Stats {
  source: string;
  rows: number;
  nulls: number;
  kinds: Map<Kind, number>;
  min?: bigint;
  max?: bigint;
  intDigits: number;
  scale: number;
  maxBytes: number;
  distinct: Set<string>;
  /** Timestamps of ts/date values, and (for ints) the partition date of each value. */
  times: Array<{ value: Date; partition: Date }>;
  ints: Array<{ value: number; partition: Date }>;
  perPartition: Map<number, string[]>;
}

const ISO_TS = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const EPOCH_S: [number, number] = [946_684_800, 4_102_444_800]; // 2000..2100
const EPOCH_MS: [number, number] = [EPOCH_S[0] * 1000, EPOCH_S[1] * 1000];
const TIME_NAME = /(^|_)(ts|time|timestamp|epoch|date|at)$|time|_at$|At$|Time/;
const MAX_DISTINCT = 1000;

/** A Date from an ISO-looking string (no zone = UTC), or undefined. */
export function parseIsoTimestamp(text: string): Date | undefined {
  const m = ISO_TS.exec(text.trim());
  if (!m) return undefined;
  let zone = m[8] ?? 'Z';
  if (/^[+-]\d{2}$/.test(zone)) zone += ':00';
  else if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const d = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}${m[7] ? `.${m[7].slice(0, 3)}` : ''}${zone.toUpperCase()}`);
  return Number.isNaN(d.getTime()) || d.getUTCDate() === undefined ? undefined : d;
}

function validIsoDate(text: string): Date | undefined {
  const m = ISO_DATE.exec(text);
  if (!m) return undefined;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.getUTCDate() === Number(m[3]) ? d : undefined;
}

/** The kind of one value (CSV cells arrive as text; `typedText` says whether text may be a number). */
function classify(value: unknown): { kind: Kind; text?: string; date?: Date; int?: bigint; scale?: number; intDigits?: number } {
  if (value === null || value === undefined) return { kind: 'null' };
  if (typeof value === 'boolean') return { kind: 'bool' };
  if (typeof value === 'bigint') return { kind: 'int', int: value, intDigits: value.toString().replace('-', '').length };
  // Dates from another realm (a worker thread, a VM context) fail instanceof: ask their tag.
  if (isDate(value)) return Number.isNaN(value.getTime()) ? { kind: 'null' } : { kind: 'ts', date: new Date(value.getTime()) };
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { kind: 'float' };
    if (Number.isInteger(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER) return { kind: 'int', int: BigInt(value), intDigits: String(Math.abs(value)).length };
    return numberText(String(value));
  }
  if (typeof value === 'object') return { kind: 'nested', text: JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) };
  const text = String(value);
  if (text === '') return { kind: 'null' };
  const t = text.trim();
  if (/^(true|false)$/i.test(t)) return { kind: 'bool' };
  if (/^-?(0|[1-9]\d{0,18})$/.test(t)) return { kind: 'int', int: BigInt(t), intDigits: t.replace('-', '').length };
  if (/^-?(0|[1-9]\d*)\.\d+$/.test(t)) return numberText(t);
  const date = validIsoDate(t);
  if (date) return { kind: 'date', date, text };
  const ts = parseIsoTimestamp(t);
  if (ts) return { kind: 'ts', date: ts, text };
  return { kind: 'text', text };
}

function numberText(t: string): ReturnType<typeof classify> {
  const m = /^-?(\d+)\.(\d+)$/.exec(t);
  if (!m) return { kind: 'float' };
  return { kind: 'dec', intDigits: m[1]!.replace(/^0+/, '').length, scale: m[2]!.length };
}

function isDate(value: unknown): value is Date {
  return Object.prototype.toString.call(value) === '[object Date]';
}

const plural = (n: number, word: string) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

/** A column name for a source field: the field itself when valid; otherwise lowercased or cleaned. */
export function columnName(source: string, mapping: Mapping): { name: string } | { skip: string } {
  if (!identifierProblem(source)) return { name: source };
  const lower = source.toLowerCase();
  if (mapping === 'name') {
    // COPY JSON 'auto' maps a key to the column of the same name: only case can differ ('auto ignorecase').
    const problem = identifierProblem(lower);
    return problem ? { skip: `key '${source}' ${problem}, so JSON 'auto' cannot map it to a column (a jsonpaths file can)` } : { name: lower };
  }
  let name = lower.replace(/[^a-z0-9_$]+/g, '_').replace(/^_+|_+$/g, '') || 'column';
  if (/^[0-9$]/.test(name)) name = `c_${name}`;
  if (identifierProblem(name)) name = `${name}_`;
  return identifierProblem(name) ? { name: 'column' } : { name };
}

function varcharLength(maxBytes: number): number {
  return Math.min(65535, Math.max(16, Math.ceil((maxBytes * 2) / 16) * 16));
}

function integerType(min: bigint, max: bigint): string {
  const m = (min < 0n ? -min : min) > max ? (min < 0n ? -min : min) : max;
  const room = m * 10n;
  if (room <= 32767n) return 'smallint';
  if (room <= 2147483647n) return 'integer';
  if (m <= 9223372036854775807n) return 'bigint';
  return 'decimal(38,0)';
}

/** Share of values within their row's partition period (the key date, at the pattern's granularity). */
function agreement(times: Array<{ value: Date; partition: Date }>, granularity: Granularity): number {
  if (times.length === 0) return 0;
  const inside = times.filter(({ value, partition }) => {
    const start = truncateDate(partition, granularity).getTime();
    return value.getTime() >= start && value.getTime() < partitionEnd(partition, granularity).getTime();
  }).length;
  return inside / times.length;
}

/** Share of epoch-range integers within a day of their partition date. */
function nearKeyDates(ints: Array<{ value: number; partition: Date }>, unitMs: number): number {
  if (ints.length === 0) return 0;
  return ints.filter(({ value, partition }) => Math.abs(value * unitMs - partition.getTime()) <= 86_400_000 * 2).length / ints.length;
}

/**
 * Infer the columns of a table from sampled rows. `fields` fixes the column order (CSV header,
 * Parquet schema); otherwise keys in order of first appearance.
 */
export function inferColumns(samples: RowSample[], options: { mapping: Mapping; granularity: Granularity; fields?: string[] }): TableGuess {
  const stats = new Map<string, Stats>();
  const order: string[] = [...(options.fields ?? [])];
  let rows = 0;
  const stat = (source: string): Stats => {
    let s = stats.get(source);
    if (!s) {
      s = { source, rows: 0, nulls: 0, kinds: new Map(), intDigits: 0, scale: 0, maxBytes: 0, distinct: new Set(), times: [], ints: [], perPartition: new Map() };
      stats.set(source, s);
      if (!order.includes(source)) order.push(source);
    }
    return s;
  };
  for (const f of order) stat(f);
  for (const sample of samples) {
    for (const row of sample.rows) {
      rows++;
      const seen = new Set<string>();
      for (const [source, value] of Object.entries(row)) {
        seen.add(source);
        const s = stat(source);
        s.rows++;
        const c = classify(value);
        s.kinds.set(c.kind, (s.kinds.get(c.kind) ?? 0) + 1);
        if (c.kind === 'null') {
          s.nulls++;
          continue;
        }
        const text = c.text ?? (typeof value === 'bigint' ? value.toString() : typeof value === 'object' && !isDate(value) ? JSON.stringify(value) : String(value));
        s.maxBytes = Math.max(s.maxBytes, Buffer.byteLength(text, 'utf8'));
        if (s.distinct.size <= MAX_DISTINCT) s.distinct.add(text);
        const pk = sample.partitionDate.getTime();
        const list = s.perPartition.get(pk) ?? [];
        if (list.length < 100_000) list.push(text);
        s.perPartition.set(pk, list);
        if (c.int !== undefined) {
          s.min = s.min === undefined || c.int < s.min ? c.int : s.min;
          s.max = s.max === undefined || c.int > s.max ? c.int : s.max;
          s.ints.push({ value: Number(c.int), partition: sample.partitionDate });
        }
        if (c.intDigits !== undefined) s.intDigits = Math.max(s.intDigits, c.intDigits);
        if (c.scale !== undefined) s.scale = Math.max(s.scale, c.scale);
        if (c.date) s.times.push({ value: c.date, partition: sample.partitionDate });
      }
      for (const f of order) {
        if (!seen.has(f)) {
          const s = stat(f);
          s.rows++;
          s.nulls++;
          s.kinds.set('null', (s.kinds.get('null') ?? 0) + 1);
        }
      }
    }
  }

  // Epoch columns: integers in the epoch range, named like a time or agreeing with the key dates.
  const epoch = new Map<string, { unit: 'epochsecs' | 'epochmillisecs'; why: string }>();
  for (const s of stats.values()) {
    const valued = s.rows - s.nulls;
    if (valued === 0 || (s.kinds.get('int') ?? 0) !== valued || s.min === undefined || s.max === undefined) continue;
    for (const [unit, [lo, hi], ms] of [['epochsecs', EPOCH_S, 1000], ['epochmillisecs', EPOCH_MS, 1]] as const) {
      if (s.min < BigInt(lo) || s.max >= BigInt(hi)) continue;
      const near = nearKeyDates(s.ints, ms);
      if (TIME_NAME.test(s.source) || near >= 0.9) {
        epoch.set(s.source, { unit, why: `${plural(valued, 'sampled value')} are integers in the ${unit === 'epochsecs' ? 'epoch-seconds' : 'epoch-milliseconds'} range (${new Date(Number(s.min) * ms).toISOString()} .. ${new Date(Number(s.max) * ms).toISOString()}), ${Math.round(near * 100)}% within 2 days of their key date` });
      }
    }
  }
  const isoColumns = [...stats.values()].filter((s) => (s.kinds.get('ts') ?? 0) > 0 && (s.kinds.get('ts') ?? 0) === s.rows - s.nulls).map((s) => s.source);
  const units = new Set([...epoch.values()].map((e) => e.unit));
  let timeFormat: TableGuess['timeFormat'] = 'auto';
  let timeFormatEvidence: string | undefined;
  if (epoch.size > 0 && isoColumns.length === 0 && units.size === 1) {
    timeFormat = [...units][0]!;
    timeFormatEvidence = `every timestamp column (${[...epoch.keys()].join(', ')}) holds ${timeFormat === 'epochsecs' ? 'epoch seconds' : 'epoch milliseconds'}`;
  }

  const columns: ColumnGuess[] = [];
  const skipped: SkippedField[] = [];
  const used = new Set<string>();
  let ignorecase = false;
  for (const source of order) {
    const s = stats.get(source)!;
    const named = columnName(source, options.mapping);
    if ('skip' in named) {
      skipped.push({ source, reason: named.skip });
      continue;
    }
    let name = named.name;
    if (used.has(name)) {
      if (options.mapping === 'name') {
        skipped.push({ source, reason: `key '${source}' differs from another key only in case` });
        continue;
      }
      for (let n = 2; used.has(name); n++) name = `${named.name}_${n}`;
    }
    used.add(name);
    if (options.mapping === 'name' && name !== source) ignorecase = true;
    const valued = s.rows - s.nulls;
    const nullable = s.nulls > 0;
    const nullText = nullable ? `; ${plural(s.nulls, 'null or missing value')} of ${s.rows.toLocaleString('en-US')}` : `; no nulls in ${plural(s.rows, 'row')}`;
    const kinds = [...s.kinds.keys()].filter((k) => k !== 'null');
    const only = (...ks: Kind[]) => kinds.length > 0 && kinds.every((k) => ks.includes(k));
    let type: string;
    let evidence: string;
    const e = epoch.get(source);
    if (valued === 0) {
      type = 'varchar(256)';
      evidence = `all ${plural(s.rows, 'sampled value')} are null: type unknown, varchar(256) as a placeholder`;
    } else if (e && timeFormat !== 'auto') {
      type = 'timestamp';
      evidence = `${e.why}; loaded with TIMEFORMAT '${timeFormat}'`;
    } else if (e) {
      type = 'bigint';
      evidence = `${e.why}; kept as bigint because TIMEFORMAT is one per table and ${isoColumns.length ? `${isoColumns.join(', ')} hold${isoColumns.length === 1 ? 's' : ''} ISO text` : 'the epoch units differ between columns'} (in SQL: TIMESTAMP 'epoch' + ${name}${e.unit === 'epochmillisecs' ? ' / 1000' : ''} * INTERVAL '1 second')`;
    } else if (only('bool')) {
      type = 'boolean';
      evidence = `${plural(valued, 'sampled value')} are true/false`;
    } else if (only('int')) {
      type = integerType(s.min!, s.max!);
      evidence = `${valued.toLocaleString('en-US')} of ${plural(valued, 'sampled value')} are integers in [${s.min}, ${s.max}]; ${type} leaves room for 10x`;
    } else if (only('int', 'dec')) {
      const intDigits = Math.max(1, s.intDigits);
      if (s.scale > 9 || intDigits + s.scale > 30) {
        type = 'double precision';
        evidence = `${plural(valued, 'sampled value')} are numbers with up to ${s.scale} decimals: double precision`;
      } else {
        const precision = Math.min(38, intDigits + 4 + s.scale);
        type = `decimal(${precision},${s.scale})`;
        evidence = `${plural(valued, 'sampled value')} are decimals with up to ${intDigits} integer digit${intDigits === 1 ? '' : 's'} and ${s.scale} decimal${s.scale === 1 ? '' : 's'}; 4 digits of room`;
      }
    } else if (only('int', 'dec', 'float')) {
      type = 'double precision';
      evidence = `${plural(valued, 'sampled value')} are numbers, some in exponent form or not finite`;
    } else if (only('ts')) {
      type = 'timestamp';
      evidence = `${plural(valued, 'sampled value')} are timestamps (ISO 8601 text, offsets converted to UTC, or Parquet timestamp values)`;
    } else if (only('date')) {
      type = 'date';
      evidence = `${plural(valued, 'sampled value')} are ISO dates (yyyy-MM-dd)`;
    } else if (only('date', 'ts')) {
      type = 'timestamp';
      evidence = `${plural(valued, 'sampled value')} are ISO dates or timestamps`;
    } else if (only('nested')) {
      type = `varchar(${varcharLength(s.maxBytes)})`;
      evidence = `${plural(valued, 'sampled value')} are nested objects/arrays: kept as JSON text (SUPER is not a Forklift column type; query with JSON_EXTRACT_PATH_TEXT); longest ${s.maxBytes} bytes, x2 room`;
    } else {
      type = `varchar(${varcharLength(s.maxBytes)})`;
      const mixed = kinds.length > 1 ? `mixed ${kinds.map((k) => ({ int: 'integers', dec: 'decimals', float: 'numbers', ts: 'timestamps', date: 'dates', bool: 'booleans', nested: 'objects', text: 'text' })[k]).join(' and ')}, loaded as text; ` : '';
      const epochIso = (s.kinds.get('int') ?? 0) > 0 && (s.kinds.get('ts') ?? 0) > 0 ? '(epoch numbers and ISO strings in one column) ' : '';
      evidence = `${epochIso}${mixed}longest of ${plural(valued, 'sampled value')} is ${s.maxBytes} bytes; x2 room`;
    }
    const distinct = type.startsWith('varchar') && !only('nested') && s.distinct.size <= 20 && s.distinct.size <= valued / 5 ? s.distinct.size : undefined;
    columns.push({ name, source, type, nullable, evidence: evidence + nullText, ...(distinct === undefined ? {} : { distinct }) });
  }

  // The data-date column: the temporal column whose values agree most with the key dates.
  const temporal = columns.filter((c) => c.type === 'timestamp' || c.type === 'date');
  let dataDateColumn: string | undefined;
  let dataDateEvidence = 'no DATE or TIMESTAMP column in the sample: add one and name it here';
  let bestScore = -1;
  for (const c of temporal) {
    const s = stats.get(c.source)!;
    const times = s.times.length ? s.times : s.ints.map((i) => ({ value: new Date(i.value * (epoch.get(c.source)?.unit === 'epochsecs' ? 1000 : 1)), partition: i.partition }));
    const score = agreement(times, options.granularity) - (c.nullable ? 0.001 : 0);
    if (score > bestScore) {
      bestScore = score;
      dataDateColumn = c.name;
      const inside = Math.round(agreement(times, options.granularity) * times.length);
      dataDateEvidence = `${inside.toLocaleString('en-US')} of ${plural(times.length, 'sampled value')} fall in their partition's ${options.granularity}${temporal.length > 1 ? ` (best of ${temporal.map((t) => t.name).join(', ')})` : ''}`;
    }
  }

  // Snapshot-like: a non-null column unique within each partition whose values recur across partitions.
  let primaryKey: string | undefined;
  let snapshotEvidence: string | undefined;
  const partitions = new Set(samples.map((s) => s.partitionDate.getTime()));
  if (partitions.size >= 2) {
    for (const c of columns) {
      const s = stats.get(c.source)!;
      if (c.nullable || c.evidence.includes('nested objects') || c.type.startsWith('decimal') || c.type === 'double precision' || c.type === 'timestamp' || c.type === 'date' || c.type === 'boolean') continue;
      const lists = [...s.perPartition.values()];
      if (!lists.every((l) => new Set(l).size === l.length)) continue;
      const counts = new Map<string, number>();
      for (const l of lists) for (const v of l) counts.set(v, (counts.get(v) ?? 0) + 1);
      const recurring = [...counts.values()].filter((n) => n >= 2).length;
      if (recurring / counts.size >= 0.8) {
        primaryKey = c.name;
        snapshotEvidence = `every one of ${plural(lists.length, 'sampled partition')} has each ${c.name} once, and ${Math.round((recurring / counts.size) * 100)}% of the ${plural(counts.size, 'value')} recur across partitions: each partition is a full snapshot`;
        break;
      }
    }
  }

  return {
    columns,
    skipped,
    jsonpaths: ignorecase ? 'auto ignorecase' : 'auto',
    timeFormat,
    ...(timeFormatEvidence ? { timeFormatEvidence } : {}),
    ...(dataDateColumn ? { dataDateColumn } : {}),
    dataDateEvidence,
    ...(primaryKey ? { primaryKey, snapshotEvidence: snapshotEvidence! } : {}),
    rows,
  };
}
