/**
 * `forklift init`, part 1: tables and partitions from a key listing. Each key is searched
 * for a date (rfc3339, compact, hourly or daily folders, `yyyy/MM/dd/HH`, Hive-style
 * `dt=2026-11-20/hour=13/`, `year=2026/month=11/...`); keys are grouped into tables by the
 * text before the date and the shape of the date, and each table gets a `prefix` and a
 * `partition` pattern in the language of dates.ts. Counting which keys match uses the
 * pipeline's own matcher (keys.ts), so what init reports is what discover will do.
 */
import { compilePartitionPattern, type CompiledPattern } from '../dates';
import { identifierProblem } from '../identifiers';
import { tablePattern, unsafeKeyReason } from '../keys';
import type { Granularity } from '../types';

/** A listed object. */
export interface ListedKey {
  key: string;
  size: number;
}

/** A table found in the listing. */
export interface TableLayout {
  name: string;
  prefix: string;
  partition: string;
  kind: 'folder' | 'object';
  granularity: Granularity;
  /** Keys under the prefix that the pattern matches (with a valid date), oldest partition first. */
  matched: Array<ListedKey & { partitionDate: Date; partitionKey: string }>;
  /** Keys under the prefix that the pattern does not match, and why. */
  unmatched: Array<{ key: string; reason: string }>;
  partitions: number;
  first?: Date;
  last?: Date;
  /** A file name present in every partition folder (`_SUCCESS`): the completeness marker. */
  marker?: string;
}

/** The whole listing, read. */
export interface LayoutResult {
  tables: TableLayout[];
  /** Keys in which no date was found, or which belong to no table. */
  unassigned: Array<{ key: string; reason: string }>;
  /** Groups of keys that could not become a table, and why. */
  problems: string[];
}

interface Candidate {
  re: RegExp;
  /** The `{date:...}` pattern text for the matched region, or undefined when the text is no date. */
  pattern(m: RegExpExecArray): string | undefined;
  /** True when a separate hour folder may follow (day-only dates). */
  dayOnly?: boolean;
}

const KV = '([A-Za-z_][A-Za-z0-9_]*=)?';
const EPOCH_MIN = 946_684_800; // 2000-01-01
const EPOCH_MAX = 4_102_444_800; // 2100-01-01

/** Date shapes tried at each position where a digit run starts, most specific first. */
const CANDIDATES: Candidate[] = [
  { re: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})/, pattern: () => '{date:rfc3339}' },
  { re: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?![\d.])/, pattern: () => "{date:yyyy-MM-dd'T'HH:mm:ss}" },
  { re: /^\d{8}T\d{6}Z/, pattern: () => "{date:yyyyMMdd'T'HHmmss'Z'}" },
  { re: /^\d{8}T\d{6}(?!\d)/, pattern: () => "{date:yyyyMMdd'T'HHmmss}" },
  { re: /^\d{4}-\d{2}-\d{2}T\d{2}(?![\d:])/, pattern: () => "{date:yyyy-MM-dd'T'HH}" },
  { re: /^\d{4}-\d{2}-\d{2}-\d{2}(?![\d-])/, pattern: () => '{date:yyyy-MM-dd-HH}' },
  { re: /^\d{4}-\d{2}-\d{2}(?!\d)/, pattern: () => '{date:yyyy-MM-dd}', dayOnly: true },
  {
    re: new RegExp(`^\\d{4}/${KV}\\d{2}/${KV}\\d{2}(?:/${KV}\\d{2}(?=/))?`),
    pattern: (m) => {
      const parts = m[0].split('/');
      const names = [undefined, m[1], m[2], m[3]];
      if (!names.some(Boolean)) return parts.length === 4 ? '{date:yyyy/MM/dd/HH}' : '{date:yyyy/MM/dd}';
      const letters = ['yyyy', 'MM', 'dd', 'HH'];
      return parts.map((_, i) => `${names[i] ?? ''}{date:${letters[i]}}`).join('/');
    },
    dayOnly: true,
  },
  { re: /^\d{14}(?!\d)/, pattern: () => '{date:yyyyMMddHHmmss}' },
  {
    re: /^\d{10}(?!\d)/,
    pattern: (m) => {
      if (validDate('{date:yyyyMMddHH}', m[0])) return '{date:yyyyMMddHH}';
      const n = Number(m[0]);
      return n >= EPOCH_MIN && n < EPOCH_MAX ? '{date:epoch}' : undefined;
    },
  },
  { re: /^\d{8}(?!\d)/, pattern: () => '{date:yyyyMMdd}', dayOnly: true },
];

/** An hour folder after a day-only date: `/13/` or `/hour=13/`. */
const HOUR_FOLDER = new RegExp(`^/${KV}(\\d{2})(?=/)`);

const cache = new Map<string, CompiledPattern>();
function compiled(pattern: string): CompiledPattern {
  let c = cache.get(pattern);
  if (!c) {
    c = compilePartitionPattern(pattern);
    cache.set(pattern, c);
  }
  return c;
}

/** The date region of a key: where it starts and ends, and its pattern text. */
export interface DateRegion {
  start: number;
  end: number;
  pattern: string;
}

/** True when `text` is exactly a valid date for `pattern`. */
function validDate(pattern: string, text: string): boolean {
  const m = compiled(pattern).match(text);
  return m !== undefined && !('error' in m) && m.matched === text;
}

/** The first date in `key` (the earliest position where a known date shape holds a real date). */
export function findDate(key: string): DateRegion | undefined {
  for (let i = 0; i < key.length; i++) {
    if (!/\d/.test(key[i]!) || (i > 0 && /\d/.test(key[i - 1]!))) continue;
    const rest = key.slice(i);
    for (const c of CANDIDATES) {
      const m = c.re.exec(rest);
      if (!m) continue;
      const pattern = c.pattern(m);
      if (pattern === undefined || !validDate(pattern, m[0])) continue;
      let end = i + m[0].length;
      let full = pattern;
      const hour = c.dayOnly && !pattern.includes('HH') ? HOUR_FOLDER.exec(key.slice(end)) : null;
      if (hour && Number(hour[2]) < 24) {
        full = `${pattern}/${hour[1] ?? ''}{date:HH}`;
        end += hour[0].length;
      }
      return { start: i, end, pattern: full };
    }
  }
  return undefined;
}

/** Words of a prefix that name partitioning, not the data. */
const PARTITION_WORDS = new Set(['dt', 'date', 'day', 'year', 'month', 'hour', 'hr', 'ds', 'partition', 'part', 'data', 'raw']);

/** A table name from the text before the date: its last meaningful word, as a valid identifier. */
export function tableNameFrom(text: string): string {
  const words = text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '' && !PARTITION_WORDS.has(w));
  let name = words.at(-1) ?? 'data';
  if (/^\d/.test(name)) name = `t_${name}`;
  if (identifierProblem(name)) name = `${name}_data`;
  return identifierProblem(name) ? 'data' : name;
}

interface Group {
  dir: string;
  head: string;
  /** The date pattern plus what follows it up to the partition's end (a folder's '/', an object's suffix). */
  shape: string;
  kind: 'folder' | 'object';
  keys: ListedKey[];
}

/**
 * Read a listing into tables. Keys are grouped by folder, the text before the date and the
 * date's shape; a folder with one group becomes the prefix (the head goes into the pattern,
 * as in `campaigns_{date:rfc3339}.csv`), a folder with several gives each group the prefix
 * folder + head. Every key is then matched against its table's pattern by the pipeline's
 * matcher: that count, not the grouping, is what the result reports.
 */
export function inferLayout(keys: ListedKey[]): LayoutResult {
  const groups = new Map<string, Group>();
  const unassigned: LayoutResult['unassigned'] = [];
  const problems: string[] = [];
  for (const k of keys) {
    if (k.key.endsWith('/')) continue;
    const region = findDate(k.key);
    if (!region) {
      unassigned.push({ key: k.key, reason: 'no date found in the key' });
      continue;
    }
    const segStart = k.key.lastIndexOf('/', region.start - 1) + 1;
    const dir = k.key.slice(0, segStart);
    const head = k.key.slice(segStart, region.start);
    const after = k.key.slice(region.end);
    const slash = after.indexOf('/');
    const kind = slash >= 0 ? 'folder' : 'object';
    const shape = region.pattern + (slash >= 0 ? after.slice(0, slash + 1) : after);
    const id = `${dir}\u0000${head}\u0000${shape}`;
    let g = groups.get(id);
    if (!g) {
      g = { dir, head, shape, kind, keys: [] };
      groups.set(id, g);
    }
    g.keys.push(k);
  }

  // Small groups of a folder beside a big one are usually stray files: keep the groups that hold most keys.
  const byDir = new Map<string, Group[]>();
  for (const g of groups.values()) byDir.set(g.dir, [...(byDir.get(g.dir) ?? []), g]);
  const drafts: Array<{ prefix: string; partition: string; group: Group }> = [];
  for (const [dir, list] of byDir) {
    const heads = new Set(list.map((g) => g.head));
    for (const g of list) {
      const sameHead = list.filter((o) => o.head === g.head);
      if (sameHead.length > 1 && sameHead.some((o) => o.keys.length > g.keys.length)) {
        for (const k of g.keys) unassigned.push({ key: k.key, reason: `date shaped '${g.shape}' beside more keys shaped otherwise in '${dir || '(root)'}'` });
        continue;
      }
      const prefix = heads.size === 1 && dir !== '' ? dir : dir + g.head;
      const partition = heads.size === 1 && dir !== '' ? g.head + g.shape : g.shape;
      if (prefix === '') {
        problems.push(`${g.keys.length} key${g.keys.length === 1 ? '' : 's'} such as '${g.keys[0]!.key}' start with their date: a table needs a prefix (put them under a folder)`);
        for (const k of g.keys) unassigned.push({ key: k.key, reason: 'no prefix before the date' });
        continue;
      }
      drafts.push({ prefix, partition, group: g });
    }
  }
  // Prefixes must not overlap: a folder prefix that contains another table's prefix takes its head.
  for (const d of drafts) {
    if (drafts.some((o) => o !== d && o.prefix !== d.prefix && o.prefix.startsWith(d.prefix)) && d.group.head !== '' && d.prefix === d.group.dir) {
      d.prefix = d.group.dir + d.group.head;
      d.partition = d.group.shape;
    }
  }

  const names = new Set<string>();
  const tables: TableLayout[] = [];
  for (const d of drafts.sort((a, b) => a.prefix.localeCompare(b.prefix))) {
    const overlap = drafts.find((o) => o !== d && (o.prefix.startsWith(d.prefix) || d.prefix.startsWith(o.prefix)));
    if (overlap) {
      problems.push(`prefixes '${d.prefix}' and '${overlap.prefix}' overlap: keys shaped '${d.partition}' are left out (give them a folder of their own)`);
      for (const k of d.group.keys) unassigned.push({ key: k.key, reason: `prefix '${d.prefix}' overlaps '${overlap.prefix}'` });
      continue;
    }
    let name = tableNameFrom(d.group.dir + d.group.head);
    for (let n = 2; names.has(name); n++) name = `${tableNameFrom(d.group.dir + d.group.head)}_${n}`;
    names.add(name);
    tables.push(matchTable(name, d.prefix, d.partition, d.group.keys));
  }
  return { tables, unassigned, problems };
}

/** Match keys against a table's prefix and pattern with the pipeline's matcher; find a marker. */
export function matchTable(name: string, prefix: string, partition: string, keys: ListedKey[]): TableLayout {
  const pattern = tablePattern({ partition });
  const matched: TableLayout['matched'] = [];
  const unmatched: TableLayout['unmatched'] = [];
  for (const k of keys) {
    if (!k.key.startsWith(prefix)) continue;
    const unsafe = unsafeKeyReason(k.key);
    const m = unsafe ? undefined : pattern.match(k.key.slice(prefix.length));
    if (unsafe || m === undefined || 'error' in m) {
      unmatched.push({ key: k.key, reason: unsafe ?? (m && 'error' in m ? m.error : `does not match '${prefix}${partition}'`) });
      continue;
    }
    matched.push({ ...k, partitionDate: m.date, partitionKey: prefix + m.matched });
  }
  matched.sort((a, b) => a.partitionDate.getTime() - b.partitionDate.getTime() || a.key.localeCompare(b.key));
  const partitionKeys = new Set(matched.map((m) => m.partitionKey));
  let marker: string | undefined;
  if (pattern.kind === 'folder' && partitionKeys.size > 0) {
    const namesByPartition = new Map<string, Set<string>>();
    for (const m of matched) {
      const file = m.key.slice(m.partitionKey.length);
      if (/^[_.][A-Za-z0-9._-]*$/.test(file)) namesByPartition.set(file, new Set([...(namesByPartition.get(file) ?? []), m.partitionKey]));
    }
    marker = [...namesByPartition].find(([file, ps]) => ps.size === partitionKeys.size && /^[A-Za-z0-9._-]+$/.test(file))?.[0];
  }
  return {
    name,
    prefix,
    partition,
    kind: pattern.kind,
    granularity: pattern.granularity,
    matched,
    unmatched,
    partitions: partitionKeys.size,
    ...(matched.length ? { first: matched[0]!.partitionDate, last: matched.at(-1)!.partitionDate } : {}),
    ...(marker ? { marker } : {}),
  };
}
