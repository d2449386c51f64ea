/**
 * Dates in S3 keys: the partition pattern language (`{date:yyyy-MM-dd'T'HH}/`,
 * `campaigns_{date:rfc3339}.csv`...), compiled once into a matcher and a renderer,
 * plus the date forms an operator may type. Every date here is UTC.
 */
import { ForkliftError } from './errors';
import type { Granularity } from './types';

/** The date fields a pattern can carry, coarsest first. */
const FIELDS = ['year', 'month', 'day', 'hour', 'minute', 'second'] as const;
type Field = (typeof FIELDS)[number];

/** Format letters → field and digit count. */
const LETTERS: Record<string, { field: Field; digits: number }> = {
  yyyy: { field: 'year', digits: 4 },
  MM: { field: 'month', digits: 2 },
  dd: { field: 'day', digits: 2 },
  HH: { field: 'hour', digits: 2 },
  mm: { field: 'minute', digits: 2 },
  ss: { field: 'second', digits: 2 },
};

/** Characters a pattern's literal text may contain (the safe key set, minus quotes and braces). */
const LITERAL_TEXT = /^[A-Za-z0-9!\-_.*()=+/ ,:@&$]*$/;

const RFC3339 = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})/;
const EPOCH = /\d{1,11}/;

type Piece =
  | { kind: 'literal'; text: string }
  | { kind: 'field'; field: Field; digits: number }
  | { kind: 'rfc3339' }
  | { kind: 'epoch' };

/** A partition pattern, compiled: what it matches, what it renders, how fine its dates are. */
export interface CompiledPattern {
  /** The pattern as written in the config. */
  readonly source: string;
  /** `folder`: the pattern ends in '/' and files live under it; `object`: the pattern matches one whole object key. */
  readonly kind: 'folder' | 'object';
  /** The finest date field of the pattern. */
  readonly granularity: Granularity;
  /**
   * Match the start of `relativeKey` (the key without the table prefix). Returns the partition date and
   * the matched text (the partition folder, or the whole key for object patterns); `undefined` when the
   * text does not have the pattern's shape; `{ error }` when it does but the date is impossible.
   */
  match(relativeKey: string): { date: Date; matched: string } | { error: string } | undefined;
  /** The pattern with `date` filled in (fields finer than the granularity are dropped). */
  render(date: Date): string;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Split the inside of a `{date:...}` token into pieces; throws on unknown letters or bad quoting. */
function parseFormat(format: string, pattern: string): Piece[] {
  if (format === 'rfc3339') return [{ kind: 'rfc3339' }];
  if (format === 'epoch') return [{ kind: 'epoch' }];
  if (format === '') throw new Error(`partition pattern '${pattern}': empty date token {date:}`);
  const pieces: Piece[] = [];
  let i = 0;
  while (i < format.length) {
    const c = format[i]!;
    if (c === "'") {
      const close = format.indexOf("'", i + 1);
      if (close < 0) throw new Error(`partition pattern '${pattern}': unterminated quoted literal in {date:${format}}`);
      const text = format.slice(i + 1, close);
      if (text === '') throw new Error(`partition pattern '${pattern}': quotes cannot appear in keys ('' in {date:${format}})`);
      pieces.push({ kind: 'literal', text });
      i = close + 1;
    } else if (/[A-Za-z]/.test(c)) {
      let j = i;
      while (j < format.length && format[j] === c) j++;
      const run = format.slice(i, j);
      const letter = LETTERS[run];
      if (!letter) {
        throw new Error(
          `partition pattern '${pattern}': unknown date format '${run}' in {date:${format}} (use yyyy, MM, dd, HH, mm, ss, quoted 'literals', rfc3339 or epoch)`,
        );
      }
      pieces.push({ kind: 'field', ...letter });
      i = j;
    } else {
      pieces.push({ kind: 'literal', text: c });
      i++;
    }
  }
  return pieces;
}

function pieceRegExp(piece: Piece): string {
  switch (piece.kind) {
    case 'literal':
      return escapeRegExp(piece.text);
    case 'field':
      return `(\\d{${piece.digits}})`;
    case 'rfc3339':
      return `(${RFC3339.source})`;
    case 'epoch':
      return `(${EPOCH.source})`;
  }
}

/** A UTC date from fields, or undefined when the fields do not name a real instant (2026-02-30, hour 24...). */
export function utcDate(year: number, month = 1, day = 1, hour = 0, minute = 0, second = 0, millisecond = 0): Date | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second, millisecond));
  // Date.UTC maps years 0..99 to 1900..1999; set the year explicitly.
  date.setUTCFullYear(year, month - 1, day);
  return date.getUTCDate() === day && date.getUTCMonth() === month - 1 && date.getUTCFullYear() === year ? date : undefined;
}

/** Parse an RFC 3339 timestamp (Z or ±hh:mm offset, optional fraction) to a UTC Date; undefined when impossible. */
export function parseRfc3339(text: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|([+-])(\d{2}):(\d{2}))$/.exec(text);
  if (!m) return undefined;
  return fromMatchedParts(m.slice(1, 7), m[7], m[9], m[10], m[11]);
}

function fromMatchedParts(
  parts: ReadonlyArray<string | undefined>,
  fraction: string | undefined,
  sign: string | undefined,
  offsetHours: string | undefined,
  offsetMinutes: string | undefined,
): Date | undefined {
  const [y, mo, d, h, mi, s] = parts.map((p) => (p === undefined ? undefined : Number(p)));
  const ms = fraction === undefined ? 0 : Number(fraction.padEnd(3, '0').slice(0, 3));
  const local = utcDate(y!, mo, d, h, mi, s, ms);
  if (!local) return undefined;
  if (sign === undefined) return local;
  const oh = Number(offsetHours);
  const om = Number(offsetMinutes);
  if (oh > 23 || om > 59) return undefined;
  const offsetMs = (sign === '+' ? 1 : -1) * (oh * 60 + om) * 60_000;
  return new Date(local.getTime() - offsetMs);
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `2026-11-20T13:00:00Z`: the form every message and rendered rfc3339 key uses. */
export function isoSecond(date: Date): string {
  const iso = date.toISOString();
  // Milliseconds only when the date has some: partitions 0.5 s apart must never read (or key) the same.
  return iso.slice(20, 23) === '000' ? `${iso.slice(0, 19)}Z` : iso;
}

function fieldValue(date: Date, field: Field): number {
  switch (field) {
    case 'year':
      return date.getUTCFullYear();
    case 'month':
      return date.getUTCMonth() + 1;
    case 'day':
      return date.getUTCDate();
    case 'hour':
      return date.getUTCHours();
    case 'minute':
      return date.getUTCMinutes();
    case 'second':
      return date.getUTCSeconds();
  }
}

/**
 * Compile a partition pattern (relative to the table prefix). Literal text must match exactly;
 * `{date:...}` tokens use yyyy MM dd HH mm ss and 'quoted' literals, or are `rfc3339` / `epoch`.
 * Throws an Error naming the problem: unknown token, no date token, a field given twice, a day
 * without a month, rfc3339/epoch mixed with other date tokens, unsafe literal text.
 */
export function compilePartitionPattern(pattern: string): CompiledPattern {
  const pieces: Piece[] = [];
  const tokenRe = /\{([^{}]*)\}/g;
  let last = 0;
  const addLiteral = (text: string): void => {
    if (text.includes('{') || text.includes('}')) throw new Error(`partition pattern '${pattern}': unbalanced '{' or '}'`);
    if (!LITERAL_TEXT.test(text)) {
      throw new Error(`partition pattern '${pattern}': literal text '${text}' contains characters that are not safe in keys`);
    }
    if (text) pieces.push({ kind: 'literal', text });
  };
  for (let m = tokenRe.exec(pattern); m; m = tokenRe.exec(pattern)) {
    addLiteral(pattern.slice(last, m.index));
    const body = m[1]!;
    if (!body.startsWith('date:')) throw new Error(`partition pattern '${pattern}': unknown token '{${body}}' (only {date:...} is supported)`);
    const inner = parseFormat(body.slice('date:'.length), pattern);
    for (const p of inner) {
      if (p.kind === 'literal' && !LITERAL_TEXT.test(p.text)) {
        throw new Error(`partition pattern '${pattern}': literal '${p.text}' contains characters that are not safe in keys`);
      }
    }
    pieces.push(...inner);
    last = m.index + m[0].length;
  }
  addLiteral(pattern.slice(last));
  if (pattern.startsWith('/')) throw new Error(`partition pattern '${pattern}': must be relative to the prefix (no leading '/')`);
  if (pattern.split('/').some((s, i, all) => (s === '' && i < all.length - 1) || s === '.' || s === '..')) {
    throw new Error(`partition pattern '${pattern}': empty, '.' or '..' path segment`);
  }

  const whole = pieces.filter((p) => p.kind === 'rfc3339' || p.kind === 'epoch');
  const fields = pieces.filter((p): p is Extract<Piece, { kind: 'field' }> => p.kind === 'field');
  if (whole.length === 0 && fields.length === 0) throw new Error(`partition pattern '${pattern}': has no date token such as {date:yyyy-MM-dd}`);
  if (whole.length > 1 || (whole.length === 1 && fields.length > 0)) {
    throw new Error(`partition pattern '${pattern}': rfc3339 and epoch give a whole timestamp and cannot be combined with other date tokens`);
  }
  let granularity: Granularity = 'second';
  if (fields.length) {
    const seen = new Set<Field>();
    for (const f of fields) {
      if (seen.has(f.field)) throw new Error(`partition pattern '${pattern}': the ${f.field} appears more than once; the fields conflict`);
      seen.add(f.field);
    }
    const finest = FIELDS.reduce((acc, f, i) => (seen.has(f) ? i : acc), -1);
    for (let i = 0; i <= finest; i++) {
      if (!seen.has(FIELDS[i]!)) {
        throw new Error(`partition pattern '${pattern}': has a ${FIELDS[finest]} but no ${FIELDS[i]} (every coarser field is needed)`);
      }
    }
    granularity = FIELDS[finest]!;
  }

  const kind = pattern.endsWith('/') ? 'folder' : 'object';
  const regex = new RegExp(`^${pieces.map(pieceRegExp).join('')}${kind === 'object' ? '$' : ''}`);
  const captures = pieces.filter((p) => p.kind !== 'literal');

  const match: CompiledPattern['match'] = (relativeKey) => {
    const m = regex.exec(relativeKey);
    if (!m) return undefined;
    const values = m.slice(1);
    let date: Date | undefined;
    const first = captures[0]!;
    if (first.kind === 'rfc3339') {
      date = parseRfc3339(values[0]!);
    } else if (first.kind === 'epoch') {
      date = new Date(Number(values[0]) * 1000);
    } else {
      const byField = new Map<Field, number>();
      captures.forEach((c, i) => {
        if (c.kind === 'field') byField.set(c.field, Number(values[i]));
      });
      date = utcDate(byField.get('year')!, byField.get('month'), byField.get('day'), byField.get('hour'), byField.get('minute'), byField.get('second'));
    }
    if (!date) return { error: `'${m[0]}' does not hold a valid date for pattern '${pattern}'` };
    return { date, matched: m[0] };
  };

  const render = (date: Date): string =>
    pieces
      .map((p) => {
        switch (p.kind) {
          case 'literal':
            return p.text;
          case 'field':
            return pad(fieldValue(date, p.field), p.digits);
          case 'rfc3339':
            return isoSecond(date);
          case 'epoch':
            return String(Math.floor(date.getTime() / 1000));
        }
      })
      .join('');

  return { source: pattern, kind, granularity, match, render };
}

/** Why `pattern` is not a valid partition pattern, or undefined when it is (for config checks). */
export function partitionPatternProblem(pattern: string): string | undefined {
  try {
    compilePartitionPattern(pattern);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The start of the `granularity` period containing `date` (UTC). */
export function truncateDate(date: Date, granularity: Granularity): Date {
  const depth = FIELDS.indexOf(granularity);
  const v = FIELDS.map((f, i) => (i <= depth ? fieldValue(date, f) : i <= 2 ? 1 : 0));
  return utcDate(v[0]!, v[1], v[2], v[3], v[4], v[5])!;
}

/** End (exclusive) of the `granularity` period that starts at or contains `date`: its start plus one step. */
export function partitionEnd(date: Date, granularity: Granularity): Date {
  const start = truncateDate(date, granularity);
  const end = new Date(start.getTime());
  switch (granularity) {
    case 'year':
      end.setUTCFullYear(end.getUTCFullYear() + 1);
      break;
    case 'month':
      end.setUTCMonth(end.getUTCMonth() + 1);
      break;
    case 'day':
      end.setUTCDate(end.getUTCDate() + 1);
      break;
    case 'hour':
      end.setUTCHours(end.getUTCHours() + 1);
      break;
    case 'minute':
      end.setUTCMinutes(end.getUTCMinutes() + 1);
      break;
    case 'second':
      end.setUTCSeconds(end.getUTCSeconds() + 1);
      break;
  }
  return end;
}

const DATE_ARGUMENT =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(?:Z|([+-])(\d{2}):(\d{2}))?)?$/;

/**
 * A date typed by an operator (CLI `--date`, state machine input `date`): `2026-11-20`,
 * `2026-11-20T13`, `2026-11-20T13:00`, or an ISO 8601 timestamp with seconds, optional
 * fraction and `Z`/offset. Without an offset the time is UTC. Throws ForkliftError otherwise.
 */
export function parseDateArgument(text: string): Date {
  const m = DATE_ARGUMENT.exec(text.trim());
  const date = m ? fromMatchedParts(m.slice(1, 7), m[7], m[8], m[9], m[10]) : undefined;
  if (!date) {
    throw new ForkliftError(
      `invalid date '${text}': use 2026-11-20, 2026-11-20T13, 2026-11-20T13:00 or an ISO 8601 timestamp such as ` +
        `2026-11-20T13:00:00Z or 2026-11-20T14:00:00+01:00 (UTC unless an offset is given)`,
    );
  }
  return date;
}
