/**
 * `forklift init`, part 2: format and compression from an object's first bytes. The
 * compression comes from the magic number (gzip 1f 8b, bzip2 `BZh`, zstd 28 b5 2f fd),
 * Parquet from `PAR1`; text is JSON lines when its lines are JSON objects, else CSV with
 * the delimiter that splits every line into the same number of fields, and a header when
 * the first row reads as names. Pure functions over bytes and text.
 */
import { constants, gunzipSync } from 'node:zlib';

export type Compression = 'none' | 'gzip' | 'bzip2' | 'zstd';

/** What the first bytes say. */
export type Container =
  | { kind: 'parquet' }
  | { kind: 'text'; compression: 'none' | 'gzip' }
  /** Compressed with a codec the CLI has no decoder for: the content cannot be sampled. */
  | { kind: 'opaque'; compression: 'bzip2' | 'zstd' };

/** The container of an object from its first bytes. */
export function sniffContainer(bytes: Uint8Array): Container {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return { kind: 'text', compression: 'gzip' };
  if (bytes[0] === 0x42 && bytes[1] === 0x5a && bytes[2] === 0x68) return { kind: 'opaque', compression: 'bzip2' };
  if (bytes[0] === 0x28 && bytes[1] === 0xb5 && bytes[2] === 0x2f && bytes[3] === 0xfd) return { kind: 'opaque', compression: 'zstd' };
  if (Buffer.from(bytes.subarray(0, 4)).toString('latin1') === 'PAR1') return { kind: 'parquet' };
  return { kind: 'text', compression: 'none' };
}

/** The magic number in hex, for evidence comments. */
export function magicHex(bytes: Uint8Array, n = 4): string {
  return Buffer.from(bytes.subarray(0, n)).toString('hex').replace(/(..)/g, '$1 ').trim();
}

/**
 * The complete lines of a text sample. `truncated`: the bytes are the start of a longer
 * object (a ranged read), so the last line may be cut and is dropped. gzip is inflated as
 * far as the bytes go.
 */
export function sampleText(bytes: Uint8Array, compression: 'none' | 'gzip', truncated: boolean): string {
  let text: string;
  if (compression === 'gzip') {
    const inflated = gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH });
    text = inflated.toString('utf8');
  } else {
    text = Buffer.from(bytes).toString('utf8');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (truncated && !text.endsWith('\n')) {
    const last = text.lastIndexOf('\n');
    text = last >= 0 ? text.slice(0, last + 1) : '';
  }
  return text;
}

/** The text format of a sample. */
export type TextFormat =
  | { type: 'json'; lines: number }
  | { type: 'csv'; delimiter: string; header: boolean; fields: number; evidence: string }
  | { type: 'unknown'; reason: string };

const DELIMITERS = [',', '\t', ';', '|'];
const delimiterName = (d: string): string => (d === '\t' ? 'tab' : `'${d}'`);

/** Non-empty lines of a sample. */
function lines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l.trim() !== '');
}

/** Parse one JSON line into an object, or undefined. */
function jsonObject(line: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(line);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** JSON lines or CSV (delimiter, header), or why neither. */
export function detectTextFormat(text: string): TextFormat {
  const all = lines(text);
  if (all.length === 0) return { type: 'unknown', reason: 'no complete line in the sample' };
  const first = all[0]!.trim();
  if (first.startsWith('{')) {
    const head = all.slice(0, 50);
    const ok = head.filter((l) => jsonObject(l) !== undefined).length;
    if (ok === head.length) return { type: 'json', lines: all.length };
    return { type: 'unknown', reason: `${head.length - ok} of the first ${head.length} lines are not one JSON object each (pretty-printed JSON is not supported; write one object a line)` };
  }
  if (first.startsWith('[')) return { type: 'unknown', reason: 'the sample is a JSON array: COPY reads one JSON object per record; write one object a line' };
  const body = all.slice(0, 200).join('\n') + '\n';
  let best: { delimiter: string; fields: number } | undefined;
  for (const d of DELIMITERS) {
    const parsed = parseCsv(body, d);
    const counts = new Set(parsed.map((r) => r.length));
    const fields = parsed[0]?.length ?? 0;
    if (counts.size === 1 && fields > 1 && (!best || fields > best.fields)) best = { delimiter: d, fields };
  }
  if (!best) return { type: 'unknown', reason: 'no delimiter among , tab ; | splits every line into the same number (2 or more) of fields' };
  const parsed = parseCsv(body, best.delimiter);
  const header = looksLikeHeader(parsed);
  return {
    type: 'csv',
    delimiter: best.delimiter,
    header,
    fields: best.fields,
    evidence: `${parsed.length} sampled lines all split into ${best.fields} fields by ${delimiterName(best.delimiter)}; ${header ? 'the first line reads as column names' : 'no header line (the first line reads as data)'}`,
  };
}

/** RFC 4180 CSV: quoted fields with doubled quotes, any line ending. Returns rows of fields. */
export function parseCsv(text: string, delimiter: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  let any = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      any = true;
    } else if (c === delimiter) {
      row.push(field);
      field = '';
      any = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      if (any || field !== '') {
        row.push(field);
        rows.push(row);
      }
      row = [];
      field = '';
      any = false;
    } else {
      field += c;
      any = true;
    }
    i++;
  }
  if (any || field !== '') {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_ .$-]*$/;

/** The first row is a header when its cells read as distinct names and no later row repeats them. */
export function looksLikeHeader(rows: string[][]): boolean {
  const first = rows[0];
  if (!first || rows.length < 2) return first !== undefined && first.every((c) => NAME.test(c.trim()));
  if (!first.every((c) => NAME.test(c.trim()))) return false;
  if (new Set(first.map((c) => c.trim().toLowerCase())).size !== first.length) return false;
  // A column whose later values are numbers, dates or booleans while the first is a name: a header.
  const rest = rows.slice(1);
  const typed = first.some((_, i) => rest.every((r) => /^-?\d|^(true|false)$/i.test((r[i] ?? '').trim()) || (r[i] ?? '') === ''));
  const repeated = first.some((c, i) => rest.some((r) => (r[i] ?? '').trim() === c.trim()));
  return typed || !repeated;
}

/** Rows of a JSON-lines sample (lines that are not an object are counted apart). */
export function jsonRows(text: string): { rows: Array<Record<string, unknown>>; bad: number } {
  const rows: Array<Record<string, unknown>> = [];
  let bad = 0;
  for (const l of lines(text)) {
    const o = jsonObject(l);
    if (o) rows.push(o);
    else bad++;
  }
  return { rows, bad };
}

/** Rows of a CSV sample as records by column name (header or col_1..n); `names` maps positions to names. */
export function csvRows(text: string, delimiter: string, header: boolean): { names: string[]; rows: Array<Record<string, unknown>> } {
  const parsed = parseCsv(text, delimiter);
  const width = Math.max(0, ...parsed.map((r) => r.length));
  const names = header && parsed[0] ? parsed[0].map((c) => c.trim()) : Array.from({ length: width }, (_, i) => `col_${i + 1}`);
  const body = header ? parsed.slice(1) : parsed;
  return { names, rows: body.map((r) => Object.fromEntries(names.map((n, i) => [n, r[i] ?? '']))) };
}

/** The format a file name suggests (`.json.bz2`, `.csv.zst`), for content that cannot be read. */
export function formatFromName(key: string): 'json' | 'csv' | 'parquet' | undefined {
  const name = key.toLowerCase();
  if (/\.(json|jsonl|ndjson)(\.|$)/.test(name)) return 'json';
  if (/\.(csv|tsv|txt)(\.|$)/.test(name)) return 'csv';
  if (/\.parquet(\.|$)/.test(name)) return 'parquet';
  return undefined;
}
