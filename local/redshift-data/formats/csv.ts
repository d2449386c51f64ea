/**
 * COPY ... CSV (RFC 4180 quoting, any one-character delimiter, IGNOREHEADER)
 * and Redshift's default delimited text format (pipe, backslash escapes, \N).
 */
import { RecordProblem, type SourceRecord } from './types';

/** How to split delimited records. */
export interface DelimitedOptions {
  delimiter: string;
  quote: string;
  ignoreHeader: number;
  nullAs: string | undefined;
  columnCount: number;
}

function fieldCountProblem(got: number, want: number, line: number, raw: string): RecordProblem {
  return got < want
    ? new RecordProblem('Delimiter not found', line, raw, 1214)
    : new RecordProblem('Extra column(s) found', line, raw, 1214);
}

/** CSV records; an unquoted empty field is `''` (the type check turns it into NULL where Redshift does). */
export function* csvRecords(text: string, o: DelimitedOptions): Generator<SourceRecord> {
  let i = 0;
  let line = 1;
  const n = text.length;
  let skipped = 0;
  while (i < n) {
    const startLine = line;
    const start = i;
    const fields: Array<string | null> = [];
    let field = '';
    let quoted = false;
    let inQuotes = false;
    let ended = false;
    while (i < n && !ended) {
      const c = text[i] as string;
      if (inQuotes) {
        if (c === o.quote) {
          if (text[i + 1] === o.quote) {
            field += c;
            i += 2;
            continue;
          }
          inQuotes = false;
        } else {
          if (c === '\n') line++;
          field += c;
        }
        i++;
      } else if (c === o.quote && field === '' && !quoted) {
        inQuotes = true;
        quoted = true;
        i++;
      } else if (c === o.delimiter) {
        fields.push(quoted || o.nullAs === undefined || field !== o.nullAs ? field : null);
        field = '';
        quoted = false;
        i++;
      } else if (c === '\n' || c === '\r') {
        i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
        line++;
        ended = true;
      } else {
        field += c;
        i++;
      }
    }
    fields.push(quoted || o.nullAs === undefined || field !== o.nullAs ? field : null);
    const raw = text.slice(start, i).replace(/\r?\n$/, '');
    if (skipped < o.ignoreHeader) {
      skipped++;
      continue;
    }
    if (raw === '' && fields.length === 1) continue;
    if (inQuotes) throw new RecordProblem('Unterminated quoted field', startLine, raw, 1216);
    if (fields.length !== o.columnCount) throw fieldCountProblem(fields.length, o.columnCount, startLine, raw);
    yield { line: startLine, raw, values: fields };
  }
}

/** Redshift's default text format: one record per line, backslash escapes, `\N` (or NULL AS) for NULL. */
export function* textRecords(text: string, o: DelimitedOptions): Generator<SourceRecord> {
  const lines = text.split('\n');
  const nullAs = o.nullAs ?? '\\N';
  for (let idx = o.ignoreHeader; idx < lines.length; idx++) {
    const raw = (lines[idx] as string).replace(/\r$/, '');
    if (raw === '' && idx === lines.length - 1) continue;
    const fields: Array<string | null> = [];
    let field = '';
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i] as string;
      if (c === '\\' && i + 1 < raw.length && raw[i + 1] !== 'N') {
        field += raw[++i];
      } else if (c === o.delimiter) {
        fields.push(field === nullAs ? null : field);
        field = '';
      } else field += c;
    }
    fields.push(field === nullAs ? null : field);
    if (fields.length !== o.columnCount) throw fieldCountProblem(fields.length, o.columnCount, idx + 1, raw);
    yield { line: idx + 1, raw, values: fields };
  }
}
