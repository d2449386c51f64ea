/**
 * What an S3 key means: which table it belongs to, which partition, whether it
 * is the completeness marker, or why it is ignored or rejected. Keys reach SQL
 * (manifests, audit rows), so anything outside a small safe set is refused here.
 */
import type { ForkliftConfig, TableConfig } from './config/schema';
import { compilePartitionPattern, type CompiledPattern } from './dates';
import { ForkliftError, KeyParseError } from './errors';
import type { KeyMatch } from './types';

/** S3 keys longer than this (UTF-8 bytes) are refused; it is also S3's own limit. */
export const MAX_KEY_BYTES = 1024;

/** Characters a loadable key may contain. */
const SAFE_KEY = /^[A-Za-z0-9!\-_.*()=+/ ,:@&$]*$/;

const compiled = new Map<string, CompiledPattern>();

/** The compiled partition pattern of a table (memoized per pattern text). */
export function tablePattern(table: Pick<TableConfig, 'partition'>): CompiledPattern {
  let pattern = compiled.get(table.partition);
  if (!pattern) {
    pattern = compilePartitionPattern(table.partition);
    compiled.set(table.partition, pattern);
  }
  return pattern;
}

/** Why `key` is unsafe to load (and to write into SQL or a manifest), or undefined when it is safe. */
export function unsafeKeyReason(key: string): string | undefined {
  if (key.length === 0) return 'key is empty';
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `key is longer than ${MAX_KEY_BYTES} bytes`;
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f\u007f-\u009f]/.test(key)) return 'key contains a control character';
  if (key.includes("'") || key.includes('"')) return 'key contains a quote';
  if (key.includes('\\')) return 'key contains a backslash';
  if (key.includes(';')) return 'key contains a semicolon';
  if (/%00/i.test(key)) return 'key contains an encoded NUL (%00)';
  if (key.split('/').some((s) => s === '..' || s === '.')) return "key contains a '.' or '..' path segment";
  if (!SAFE_KEY.test(key)) {
    const bad = [...key].find((c) => !SAFE_KEY.test(c)) ?? '';
    return `key contains the character '${bad}' (U+${(bad.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}), outside the safe set A-Z a-z 0-9 ! - _ . * ( ) = + / space , : @ & $`;
  }
  return undefined;
}

/**
 * Decode a key as S3 event notifications carry it: URL-encoded, with '+' for space.
 * Throws KeyParseError on malformed encoding (a lone '%', invalid UTF-8).
 */
export function decodeEventKey(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch (err) {
    throw new KeyParseError(raw, 'malformed URL encoding in the event key', undefined, { cause: err });
  }
}

/**
 * The table prefixes to watch and grant, each once: a prefix that another one starts (a flat
 * layout: several tables in one folder, or `api_page_` and `api_page_views_`) is covered by it.
 * S3 refuses two notification configurations whose prefixes overlap for the same event type.
 */
export function watchedPrefixes(config: ForkliftConfig): string[] {
  const prefixes = [...new Set(Object.values(config.tables).map((t) => t.prefix))];
  return prefixes.filter((p) => !prefixes.some((q) => q !== p && p.startsWith(q)));
}

/**
 * The table `key` belongs to: the one whose prefix it starts with, or, when prefixes overlap (flat
 * layouts: several tables in one folder), the one whose partition pattern matches it too (else the
 * table with the longest prefix, for the rejection). See {@link tablesForKey}.
 */
export function tableForKey(config: ForkliftConfig, key: string): string | undefined {
  const { matching, under } = tablesForKey(config, key);
  return matching[0] ?? under[0];
}

/**
 * The tables whose prefix `key` starts with (`under`, longest prefix first), and those of them
 * whose partition pattern also matches it (`matching`). The config refuses overlapping prefixes
 * whose patterns can match one key; more than one `matching` table rejects the key.
 */
export function tablesForKey(config: ForkliftConfig, key: string): { under: string[]; matching: string[] } {
  const under = Object.entries(config.tables)
    .filter(([, t]) => key.startsWith(t.prefix))
    .sort(([, a], [, b]) => b.prefix.length - a.prefix.length)
    .map(([name]) => name);
  if (under.length < 2) return { under, matching: under };
  const matching = under.filter((name) => {
    const t = config.tables[name]!;
    return tablePattern(t).match(key.slice(t.prefix.length)) !== undefined;
  });
  return { under, matching };
}

/**
 * Side files of Hadoop, Spark and the S3 console, never data: names starting with `.` or `_`
 * (`_SUCCESS`, `.part-0.crc`, `_temporary/`), checksums, folder placeholders.
 */
export const DEFAULT_IGNORE: readonly string[] = ['_SUCCESS', '*.crc', '*_$folder$', '_temporary/', '.*', '_*'];

const globs = new Map<string, RegExp>();
function globRegExp(glob: string): RegExp {
  let re = globs.get(glob);
  if (!re) {
    const body = glob.replace(/\/$/, '').split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*');
    globs.set(glob, (re = new RegExp(`^${body}$`)));
  }
  return re;
}

/**
 * Why a path inside a partition (or an object's base name) is ignored by the table's `ignore`
 * globs (default {@link DEFAULT_IGNORE}), or undefined. A glob matches one segment; one ending
 * in `/` matches folders only. The completeness marker directly in the partition is never
 * ignored: it still counts for completeness (it is never loaded either).
 */
export function ignoredReason(table: Pick<TableConfig, 'ignore' | 'completeness'>, path: string): string | undefined {
  const segments = path.split('/');
  const marker = 'marker' in table.completeness ? table.completeness.marker : undefined;
  for (const [i, segment] of segments.entries()) {
    const last = i === segments.length - 1;
    if (last && segments.length === 1 && segment === marker) return undefined;
    const hit = (table.ignore ?? DEFAULT_IGNORE).find((g) => (g.endsWith('/') ? !last : true) && globRegExp(g).test(segment));
    if (hit !== undefined) return `side file: '${segment}' matches the table's ignore pattern '${hit}'`;
  }
  return undefined;
}

/** Why a key's date is outside the table's `keyDates` bounds at `now`, or undefined. */
export function keyDateProblem(table: Pick<TableConfig, 'keyDates'>, date: Date, now: Date): string | undefined {
  const earliest = new Date(`${table.keyDates.earliest}T00:00:00Z`);
  const latest = new Date(now.getTime() + table.keyDates.aheadHours * 3_600_000);
  if (date.getTime() < earliest.getTime()) {
    return `key date ${date.toISOString()} is before ${table.keyDates.earliest} (the table's keyDates.earliest)`;
  }
  if (date.getTime() > latest.getTime()) {
    return `key date ${date.toISOString()} is more than ${table.keyDates.aheadHours} hours ahead of now (the table's keyDates.aheadHours)`;
  }
  return undefined;
}

/**
 * Classify one (decoded) key: a file or marker of a table's partition, ignored (no table's
 * prefix, the manifest prefix, a folder placeholder, a side file matching the table's `ignore`
 * globs), or rejected (under a table's prefix but hostile, not matching the partition pattern,
 * with an impossible date, or a date outside the table's `keyDates` bounds at `now`).
 */
export function matchKey(config: ForkliftConfig, key: string, now: Date = new Date()): KeyMatch {
  if (key.startsWith(config.landing.manifestPrefix)) {
    return { kind: 'ignored', key, reason: `under the manifest prefix '${config.landing.manifestPrefix}'` };
  }
  if (key.endsWith('/')) return { kind: 'ignored', key, reason: 'folder placeholder (key ends with /)' };
  const { under, matching } = tablesForKey(config, key);
  const table = matching[0] ?? under[0];
  if (table === undefined) return { kind: 'ignored', key, reason: 'not under the prefix of any table' };
  const t = config.tables[table]!;
  if (!t.enabled && matching.length === 1) return { kind: 'ignored', key, table, reason: `table '${table}' is disabled (enabled: false)` };
  const reject = (reason: string): KeyMatch => ({ kind: 'rejected', key, table, reason });
  if (matching.length === 0 && under.length > 1) {
    return reject(`matches none of the partition patterns of the tables under its prefix: ${under.map((n) => `'${n}' (${config.tables[n]!.prefix}${config.tables[n]!.partition})`).join(', ')}`);
  }
  if (matching.length > 1) {
    return reject(`matches the partition patterns of ${matching.length} tables (${matching.map((n) => `'${n}'`).join(', ')}): give them prefixes or patterns that cannot match one key`);
  }

  const unsafe = unsafeKeyReason(key);
  if (unsafe) return reject(unsafe);
  const pattern = tablePattern(t);
  const relative = key.slice(t.prefix.length);
  const m = pattern.match(relative);
  const baseName = relative.slice(relative.lastIndexOf('/') + 1);
  if (m === undefined || 'error' in m || pattern.kind === 'object') {
    // A side file next to single-object partitions, or beside the partition folders.
    const ignored = ignoredReason(t, baseName);
    if (ignored) return { kind: 'ignored', key, table, reason: ignored };
  }
  if (m === undefined) return reject(`does not match the partition pattern '${t.prefix}${t.partition}'`);
  if ('error' in m) return reject(m.error);
  const outside = keyDateProblem(t, m.date, now);
  if (outside) return reject(outside);

  if (pattern.kind === 'object') {
    return { kind: 'partition', table, partitionDate: m.date, partitionKey: key, key, isMarker: false };
  }
  const fileName = relative.slice(m.matched.length);
  const ignored = ignoredReason(t, fileName);
  if (ignored) return { kind: 'ignored', key, table, reason: ignored };
  const marker = 'marker' in t.completeness ? t.completeness.marker : undefined;
  return {
    kind: 'partition',
    table,
    partitionDate: m.date,
    partitionKey: t.prefix + m.matched,
    key,
    isMarker: fileName === marker,
  };
}

/**
 * The key of a table's partition for `date`: prefix + rendered pattern (a folder ending in '/',
 * or the object key; rfc3339 renders as `2026-11-20T13:00:00Z`). Throws ForkliftError for an unknown table.
 */
export function renderPartitionKey(config: ForkliftConfig, tableName: string, date: Date): string {
  const t = config.tables[tableName];
  if (!t) throw new ForkliftError(`unknown table '${tableName}'`);
  return t.prefix + tablePattern(t).render(date);
}
