/**
 * COPY ... JSON: newline-delimited or concatenated objects, mapped to columns by
 * key ('auto', 'auto ignorecase') or by JSONPath expressions (a jsonpaths file).
 */
import { RecordProblem, type SourceRecord } from './types';

/** Every top-level JSON value in the text with the line it starts on. */
export function* jsonValues(text: string): Generator<{ line: number; raw: string; value: unknown }> {
  let i = 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const c = text[i] as string;
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const startLine = line;
    const start = i;
    if (c !== '{' && c !== '[') {
      const end = text.indexOf('\n', i);
      const raw = text.slice(i, end < 0 ? n : end);
      throw new RecordProblem('Invalid JSON object: a record must be a JSON object', startLine, raw, 1224);
    }
    let depth = 0;
    let inString = false;
    for (; i < n; i++) {
      const ch = text[i] as string;
      if (ch === '\n') line++;
      if (inString) {
        if (ch === '\\') i++;
        else if (ch === '"') inString = false;
      } else if (ch === '"') inString = true;
      else if (ch === '{' || ch === '[') depth++;
      else if ((ch === '}' || ch === ']') && --depth === 0) {
        i++;
        break;
      }
    }
    const raw = text.slice(start, i);
    let value: unknown;
    try {
      value = JSON.parse(raw) as unknown;
    } catch (e) {
      throw new RecordProblem(`Invalid JSON: ${(e as Error).message}`, startLine, raw, 1224);
    }
    // Redshift: "If you do not use NULL AS, null terminators will cause your COPY to fail"
    // (Preparing your input data); the record's file and line go to stl_load_errors.
    if (hasNul(value)) throw new RecordProblem('Invalid null terminator (NUL, \\u0000) in the data', startLine, raw, 1224);
    yield { line: startLine, raw, value };
  }
}

/** True when a string anywhere in a parsed JSON value holds a NUL character. */
function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (value !== null && typeof value === 'object') return Object.entries(value).some(([k, v]) => k.includes('\u0000') || hasNul(v));
  return false;
}

/** Records for JSON 'auto' (keys match column names exactly) or 'auto ignorecase' (keys lowercased). */
export function* jsonAutoRecords(text: string, columns: string[], ignoreCase: boolean): Generator<SourceRecord> {
  for (const { line, raw, value } of jsonValues(text)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new RecordProblem('Invalid JSONPath format: a record must be a JSON object', line, raw, 1224);
    }
    const obj = value as Record<string, unknown>;
    let lookup = obj;
    if (ignoreCase) {
      lookup = {};
      for (const [k, v] of Object.entries(obj)) lookup[k.toLowerCase()] = v;
    }
    yield { line, raw, values: columns.map((c) => (Object.prototype.hasOwnProperty.call(lookup, c) ? lookup[c] : undefined)) };
  }
}

type PathStep = string | number;

/** Parses `$.a.b`, `$['a']["b"]`, `$.a[0]` into steps; throws on anything else. */
export function parseJsonPath(path: string): PathStep[] {
  if (!path.startsWith('$')) throw new Error(`Invalid JSONPath expression '${path}'`);
  const steps: PathStep[] = [];
  let i = 1;
  while (i < path.length) {
    const rest = path.slice(i);
    let m: RegExpExecArray | null;
    if ((m = /^\.([A-Za-z0-9_$-]+)/.exec(rest))) steps.push(m[1] as string);
    else if ((m = /^\[\s*'((?:[^'\\]|\\.)*)'\s*\]/.exec(rest)) || (m = /^\[\s*"((?:[^"\\]|\\.)*)"\s*\]/.exec(rest))) {
      steps.push((m[1] as string).replace(/\\(.)/g, '$1'));
    } else if ((m = /^\[\s*(\d+)\s*\]/.exec(rest))) steps.push(Number(m[1]));
    else throw new Error(`Invalid JSONPath expression '${path}'`);
    i += m[0].length;
  }
  return steps;
}

/** Records mapped by a jsonpaths file's expressions, one per target column in order. */
export function* jsonPathRecords(text: string, paths: PathStep[][]): Generator<SourceRecord> {
  for (const { line, raw, value } of jsonValues(text)) {
    yield {
      line,
      raw,
      values: paths.map((steps) => {
        let cur: unknown = value;
        for (const step of steps) {
          if (cur === null || typeof cur !== 'object') return undefined;
          cur = (cur as Record<string | number, unknown>)[step];
        }
        return cur;
      }),
    };
  }
}
