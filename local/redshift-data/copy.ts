/**
 * Redshift COPY on PGlite: read the S3 objects, parse them by format, check every
 * value against its column, then load the rows with one PGlite `COPY ... FROM
 * '/dev/blob'`. A bad row fails the statement (and its transaction) with a
 * Redshift-style message and a row for stl_load_errors.
 */
import type { Database } from './database';
import type { S3Client } from '@aws-sdk/client-s3';
import { CopyError } from '../../functions/core/errors';
import { parseCopy, type CopyCommand } from './copyCommand';
import { SqlRejectedError } from './dialect';
import { csvRecords, textRecords } from './formats/csv';
import { jsonAutoRecords, jsonPathRecords, parseJsonPath } from './formats/json';
import { parquetRecords } from './formats/parquet';
import { RecordProblem, type SourceRecord } from './formats/types';
import type { LoadErrorRow } from './loadErrors';
import { decompress, readObject, resolveSources, type SourceObject } from './s3Source';
import type { Token } from './sqlText';
import { type ColumnInfo, ValueProblem, convertValue, typeLabel, type ValueOptions } from './values';

/** What one COPY needs from the statement running it. */
export interface CopyContext {
  db: Database;
  s3: S3Client;
  queryNumber: number;
  statementId: string;
  /** Rows for stl_load_errors, written by the executor after rollback. */
  loadErrors: LoadErrorRow[];
  /** Serverless names `sys_load_error_detail` in its COPY errors (it has no STL views). */
  serverless?: boolean;
}

interface Target {
  oid: number;
  schema: string;
  table: string;
  columns: ColumnInfo[];
  /** Columns of the table itself, whatever the COPY's column list (a columnar COPY fills them all). */
  tableColumns: number;
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Runs a COPY statement; returns the number of rows loaded. */
export async function runCopy(ctx: CopyContext, tokens: Token[]): Promise<number> {
  const cmd = parseCopy(tokens);
  const target = await resolveTarget(ctx.db, cmd);
  const sources = await resolveSources(ctx.s3, cmd.from, cmd.manifest);
  const jsonPaths = cmd.json?.startsWith('s3://') ? await loadJsonPaths(ctx.s3, cmd.json, target.columns.length) : undefined;
  const options: ValueOptions = {
    timeFormat: cmd.timeFormat,
    dateFormat: cmd.dateFormat,
    truncateColumns: cmd.truncateColumns,
    blanksAsNull: cmd.blanksAsNull,
    emptyAsNull: cmd.emptyAsNull,
  };
  const chunks: string[] = [];
  let loaded = 0;
  let rejected = 0;
  const bodies = readAhead(sources, PARALLEL_READS, (source) => readObject(ctx.s3, source.url));
  for (const [i, source] of sources.entries()) {
    const body = await bodies(i);
    if (!body) {
      if (source.mandatory) throw new SqlRejectedError(`Manifest entry '${source.url}' is mandatory but the object does not exist`);
      continue;
    }
    const records = recordsOf(cmd, source, body, target, jsonPaths);
    const lines: string[] = [];
    try {
      for await (const rec of records) {
        const row = convertRow(rec, target, options, source, ctx);
        if (row === undefined) {
          if (++rejected > cmd.maxError) throw loadFailure(target, ctx.loadErrors.at(-1) as LoadErrorRow, ctx.serverless === true);
          continue;
        }
        lines.push(row);
        loaded++;
      }
    } catch (e) {
      if (e instanceof CopyError) throw e;
      const problem =
        e instanceof RecordProblem ? e : new RecordProblem((e as Error).message, 1, '', 1216);
      const row = errorRow(ctx, target, source, problem.line, problem.raw, '', '', 0, problem.errCode, problem.reason, '');
      ctx.loadErrors.push(row);
      throw loadFailure(target, row, ctx.serverless === true);
    }
    if (lines.length > 0) chunks.push(lines.join(''));
  }
  if (loaded > 0) {
    const cols = target.columns.map((c) => quoteIdent(c.name)).join(', ');
    await ctx.db.query(`COPY ${quoteIdent(target.schema)}.${quoteIdent(target.table)} (${cols}) FROM '/dev/blob' WITH (FORMAT csv)`, [], {
      blob: new Blob(chunks),
    });
  }
  return loaded;
}

/**
 * Objects read at once: Redshift's COPY reads a load's files in parallel (a file per slice), so a
 * manifest of many small files does not cost one round trip after another. Rows are still taken
 * file by file in the source order.
 */
const PARALLEL_READS = 8;

/** `get(i)`: the read of items[i], started with up to `ahead` reads before it is asked for. */
function readAhead<T, R>(items: readonly T[], ahead: number, read: (item: T) => Promise<R>): (i: number) => Promise<R> {
  const started: Array<Promise<R>> = [];
  const start = (upTo: number) => {
    for (let j = started.length; j < Math.min(upTo, items.length); j++) {
      const promise = read(items[j]!);
      // Awaited in turn when asked for; a read left unasked (the COPY failed first) must not be an unhandled rejection.
      promise.catch(() => undefined);
      started.push(promise);
    }
  };
  return (i) => {
    start(i + 1 + ahead);
    return started[i]!;
  };
}

async function resolveTarget(db: Database, cmd: CopyCommand): Promise<Target> {
  const name = cmd.schema ? `${quoteIdent(cmd.schema)}.${quoteIdent(cmd.table)}` : quoteIdent(cmd.table);
  const rel = await db.query<{ oid: number; schema: string; table: string }>(
    `SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS table FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`,
    [name],
  );
  const found = rel.rows[0];
  if (!found) throw new SqlRejectedError(`relation "${cmd.schema ? `${cmd.schema}.` : ''}${cmd.table}" does not exist`);
  // COPY needs INSERT on the table (Database Developer Guide, "COPY"): checked first, as the column
  // lookup below sees only the columns the session user may use.
  const allowed = await db.query<{ ok: boolean }>(`SELECT has_table_privilege($1::oid, 'INSERT') AS ok`, [found.oid]);
  if (!allowed.rows[0]?.ok) throw new SqlRejectedError(`permission denied for table ${found.table}`);
  const cols = await db.query<{ name: string; data_type: string; maxlen: number | null; prec: number | null; scale: number | null; nullable: string }>(
    `SELECT column_name AS name, data_type, character_maximum_length AS maxlen, numeric_precision AS prec,
            numeric_scale AS scale, is_nullable AS nullable
       FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
    [found.schema, found.table],
  );
  const all: ColumnInfo[] = cols.rows.map((r) => ({
    name: r.name,
    dataType: r.data_type,
    maxLength: r.maxlen,
    precision: r.data_type === 'numeric' ? r.prec : null,
    scale: r.data_type === 'numeric' ? r.scale : null,
    notNull: r.nullable === 'NO',
  }));
  let columns = all;
  if (cmd.columns) {
    columns = cmd.columns.map((c) => {
      const col = all.find((x) => x.name === c);
      if (!col) throw new SqlRejectedError(`column "${c}" of relation "${found.table}" does not exist`);
      return col;
    });
  }
  return { oid: found.oid, schema: found.schema, table: found.table, columns, tableColumns: all.length };
}

async function loadJsonPaths(s3: S3Client, url: string, columnCount: number): Promise<Array<Array<string | number>>> {
  const body = await readObject(s3, url);
  if (!body) throw new SqlRejectedError(`jsonpaths file '${url}' not found`);
  let paths: unknown;
  try {
    paths = (JSON.parse(Buffer.from(body).toString('utf8')) as { jsonpaths?: unknown }).jsonpaths;
  } catch {
    throw new SqlRejectedError(`jsonpaths file '${url}' is not valid JSON`);
  }
  if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string')) {
    throw new SqlRejectedError(`jsonpaths file '${url}' must hold {"jsonpaths": ["$.a", ...]}`);
  }
  if (paths.length !== columnCount) {
    throw new SqlRejectedError(
      `Number of jsonpaths and the number of columns should match. JSONPath size: ${paths.length}, Number of columns in table or column list: ${columnCount}`,
    );
  }
  try {
    return (paths as string[]).map(parseJsonPath);
  } catch (e) {
    throw new SqlRejectedError((e as Error).message);
  }
}

function decodeText(bytes: Uint8Array, acceptInvChars: boolean): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    if (!acceptInvChars) throw new RecordProblem('Invalid UTF8 characters in the input (use ACCEPTINVCHARS)', 1, '', 1220);
    return new TextDecoder('utf-8').decode(bytes).replace(/\ufffd/g, '?');
  }
}

function recordsOf(
  cmd: CopyCommand,
  source: SourceObject,
  body: Uint8Array,
  target: Target,
  jsonPaths: Array<Array<string | number>> | undefined,
): Iterable<SourceRecord> | AsyncIterable<SourceRecord> {
  const names = target.columns.map((c) => c.name);
  // Columnar files map to the table's columns by position: the table must have exactly the file's columns.
  if (cmd.format === 'parquet') return parquetRecords(body, target.tableColumns, target.table);
  return (function* () {
    let bytes: Uint8Array;
    try {
      bytes = decompress(body, cmd.compression);
    } catch (e) {
      if (e instanceof SqlRejectedError) throw e;
      throw new RecordProblem(`${cmd.compression} decompression failed: ${(e as Error).message}`, 1, '', 1216);
    }
    const text = decodeText(bytes, cmd.acceptInvChars);
    const delimited = { delimiter: cmd.delimiter, quote: cmd.quote, ignoreHeader: cmd.ignoreHeader, nullAs: cmd.nullAs, columnCount: names.length };
    if (cmd.format === 'json') {
      yield* jsonPaths ? jsonPathRecords(text, jsonPaths) : jsonAutoRecords(text, names, cmd.json === 'auto ignorecase');
    } else if (cmd.format === 'csv') yield* csvRecords(text, delimited);
    else yield* textRecords(text, delimited);
    void source;
  })();
}

/** One checked row as a CSV line, or undefined after recording why it was rejected. */
function convertRow(rec: SourceRecord, target: Target, options: ValueOptions, source: SourceObject, ctx: CopyContext): string | undefined {
  let line = '';
  for (let i = 0; i < target.columns.length; i++) {
    const col = target.columns[i] as ColumnInfo;
    const raw = rec.values[i];
    let value: string | null;
    try {
      value = convertValue(raw, col, options);
    } catch (e) {
      if (!(e instanceof ValueProblem)) throw e;
      const rawValue = raw === undefined || raw === null ? '' : typeof raw === 'object' ? JSON.stringify(raw) : String(raw);
      ctx.loadErrors.push(
        errorRow(ctx, target, source, rec.line, rec.raw, col.name, typeLabel(col), e.position, e.errCode, e.reason, rawValue, col.maxLength),
      );
      return undefined;
    }
    if (i > 0) line += ',';
    if (value !== null) line += `"${value.replace(/"/g, '""')}"`;
  }
  return line + '\n';
}

function errorRow(
  ctx: CopyContext,
  target: Target,
  source: SourceObject,
  line: number,
  raw: string,
  column: string,
  type: string,
  position: number,
  errCode: number,
  reason: string,
  rawValue: string,
  maxLength?: number | null,
): LoadErrorRow {
  return {
    tableOid: target.oid,
    query: ctx.queryNumber,
    filename: source.url,
    lineNumber: line,
    colname: column,
    type,
    colLength: maxLength ? String(maxLength) : '0',
    position,
    rawLine: raw,
    rawFieldValue: rawValue,
    errCode,
    errReason: reason,
  };
}

/** The CopyError for a rejected row, with Redshift's message text. */
function loadFailure(target: Target, row: LoadErrorRow, serverless: boolean): CopyError {
  const err = new CopyError({ file: row.filename, line: row.lineNumber, column: row.colname, reason: row.errReason, rawLine: row.rawLine });
  const value = row.colname ? `, Value '${row.rawFieldValue}', Pos ${row.position}, Type: ${row.type}` : '';
  err.message =
    `Load into table '${target.table}' failed. Check '${serverless ? 'sys_load_error_detail' : 'stl_load_errors'}' system table for details. ` +
    `[file ${row.filename}, line ${row.lineNumber}, column ${row.colname || '-'}: ${row.errReason}${value}]`;
  return err;
}
