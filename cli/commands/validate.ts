/**
 * `forklift validate [--check-sources]`: the config (every problem by path), and with
 * --check-sources a dry run of every table's source: its partitions and objects, the
 * latest partition by key date, the keys that do not parse, and a sample object's
 * first lines checked against the configured format and columns.
 */
import { constants, gunzipSync } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Command } from 'commander';
import { listObjects } from '../../functions/adapters/s3';
import type { ForkliftConfig, TableConfig } from '../../functions/core/config/schema';
import { groupPartitions, latestPartition } from '../../functions/core/partitions';
import type { CommandContext } from '../context';
import { ExitCode } from '../errors';
import { formatBytes, formatDate, println } from '../format';
import { configPath } from '../target';

/** Bytes read from the sample object (enough for its first lines). */
const SAMPLE_BYTES = 256 * 1024;
const SAMPLE_LINES = 5;

/** Register the command. */
export function registerValidate(program: Command, ctx: CommandContext, done: (code: number) => void): void {
  program
    .command('validate')
    .description('validate the config; with --check-sources, dry-run every table\'s source in S3')
    .option('--check-sources', 'list each table\'s prefix and parse a sample object')
    .action(async (options: { checkSources?: boolean }) => {
      const out = (line = '') => println(ctx.io.stdout, line);
      const config = ctx.config();
      const tables = Object.keys(config.tables);
      const aggregates = Object.keys(config.aggregates);
      out(`config OK: ${configPath(ctx.globals())} (${tables.length} table${tables.length === 1 ? '' : 's'}: ${tables.join(', ')}; ${aggregates.length} aggregate${aggregates.length === 1 ? '' : 's'}${aggregates.length ? `: ${aggregates.join(', ')}` : ''})`);
      if (!options.checkSources) return done(ExitCode.Ok);
      const target = await ctx.target();
      let problems = 0;
      for (const name of tables) problems += await checkSource(target.s3, config, name, out);
      out();
      out(problems === 0 ? 'sources OK' : `${problems} problem${problems === 1 ? '' : 's'} in the sources`);
      done(problems === 0 ? ExitCode.Ok : ExitCode.Failed);
    });
}

/** Check one table's source; prints its report and returns the number of problems. */
async function checkSource(s3: S3Client, config: ForkliftConfig, name: string, out: (line?: string) => void): Promise<number> {
  const table = config.tables[name]!;
  const bucket = config.landing.bucketName;
  out();
  out(`${name}: s3://${bucket}/${table.prefix} (${table.partition})`);
  const objects = await listObjects(s3, bucket, table.prefix);
  const { partitions, rejected } = groupPartitions(config, name, objects);
  const files = partitions.reduce((n, p) => n + p.files.length, 0);
  const bytes = objects.reduce((n, o) => n + o.size, 0);
  out(`  ${partitions.length} partition${partitions.length === 1 ? '' : 's'}, ${files} data file${files === 1 ? '' : 's'}, ${objects.length} object${objects.length === 1 ? '' : 's'} (${formatBytes(bytes)})`);
  const latest = latestPartition(partitions);
  out(`  latest partition: ${latest ? `${formatDate(latest.date)} (${latest.key}, ${latest.files.length} file${latest.files.length === 1 ? '' : 's'}${latest.marker ? ', marker present' : ''})` : '-'}`);
  let problems = 0;
  if (rejected.length) {
    out(`  keys that do not parse (${rejected.length}):`);
    for (const r of rejected.slice(0, 20)) out(`    ${r.key}: ${r.reason}`);
    if (rejected.length > 20) out(`    ... and ${rejected.length - 20} more`);
    problems += rejected.length;
  }
  const sample = latest?.files[0];
  if (!sample) {
    out('  sample: no data file to parse');
    return problems;
  }
  const result = await checkSample(s3, bucket, sample.key, table);
  out(`  sample ${sample.key}: ${result.ok ? 'OK' : 'PROBLEM'}: ${result.message}`);
  return problems + (result.ok ? 0 : 1);
}

/** Read the start of an object and check its first lines against the table's format. */
async function checkSample(s3: S3Client, bucket: string, key: string, table: TableConfig): Promise<{ ok: boolean; message: string }> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${SAMPLE_BYTES - 1}` }));
  let bytes = Buffer.from((await res.Body?.transformToByteArray()) ?? new Uint8Array());
  if (table.format.type === 'parquet') {
    const magic = bytes.subarray(0, 4).toString('latin1');
    return magic === 'PAR1' ? { ok: true, message: 'Parquet magic bytes present (columns not checked)' } : { ok: false, message: `not a Parquet file (starts with '${magic}')` };
  }
  if (table.compression === 'gzip') {
    try {
      bytes = gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH });
    } catch (err) {
      return { ok: false, message: `not gzip (${(err as Error).message})` };
    }
  } else if (table.compression !== 'none') {
    return { ok: true, message: `${table.compression} content not checked by the CLI` };
  }
  const text = bytes.toString('utf8');
  const complete = text.length >= SAMPLE_BYTES ? text.slice(0, text.lastIndexOf('\n') + 1) : text;
  const lines = complete.split(/\r?\n/).filter((l) => l.trim() !== '').slice(0, SAMPLE_LINES + 1);
  if (lines.length === 0) return { ok: false, message: 'no lines' };
  const columns = Object.keys(table.columns);
  if (table.format.type === 'csv') {
    const delimiter = table.format.delimiter;
    if (table.format.header) {
      const header = lines[0]!.split(delimiter).map((h) => h.trim().replace(/^"|"$/g, ''));
      const same = header.length === columns.length && header.every((h, i) => h.toLowerCase() === columns[i]!.toLowerCase());
      return same
        ? { ok: true, message: `CSV header matches the ${columns.length} columns` }
        : { ok: false, message: `CSV header '${header.join(delimiter)}' does not match the columns '${columns.join(delimiter)}'` };
    }
    const bad = lines.findIndex((l) => l.split(delimiter).length !== columns.length);
    return bad < 0
      ? { ok: true, message: `${lines.length} CSV lines with ${columns.length} fields` }
      : { ok: false, message: `line ${bad + 1} has ${lines[bad]!.split(delimiter).length} fields, the table has ${columns.length} columns` };
  }
  // JSON: each line an object; with jsonpaths 'auto' its keys are the column names.
  const required = Object.entries(table.columns).filter(([, c]) => !c.nullable).map(([n]) => n);
  const checked = lines.slice(0, SAMPLE_LINES);
  for (const [i, line] of checked.entries()) {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      return { ok: false, message: `line ${i + 1} is not JSON (${(err as Error).message})` };
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, message: `line ${i + 1} is not a JSON object` };
    if (table.format.jsonpaths !== 'auto') continue;
    const keys = new Set(Object.keys(value).map((k) => k.toLowerCase()));
    const missing = required.filter((c) => !keys.has(c.toLowerCase()));
    if (missing.length) return { ok: false, message: `line ${i + 1} lacks the non-nullable column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}` };
  }
  const first = JSON.parse(checked[0]!) as Record<string, unknown>;
  const known = columns.filter((c) => Object.keys(first).some((k) => k.toLowerCase() === c.toLowerCase()));
  const extra = Object.keys(first).filter((k) => !columns.some((c) => c.toLowerCase() === k.toLowerCase()));
  return {
    ok: true,
    message: `${checked.length} JSON object line${checked.length === 1 ? '' : 's'}; ${known.length} of ${columns.length} columns present${extra.length ? `; keys not loaded: ${extra.join(', ')}` : ''}`,
  };
}
