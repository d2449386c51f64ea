/**
 * `forklift init --from <dir | s3://bucket/prefix>`: a config written from the data itself.
 * Lists the keys (a local directory, S3, or with --local the local stack's bucket), reads
 * tables and partitions from them, samples a bounded number of objects and bytes per table
 * for format, compression and columns (functions/core/infer), writes the YAML with every
 * guess commented, checks it with the config loader and prints the next command.
 */
import { existsSync, readdirSync, statSync, writeFileSync, openSync, readSync, closeSync } from 'node:fs';
import { join, relative } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Command } from 'commander';
import { listObjects } from '../../functions/adapters/s3';
import { parseConfigText } from '../../functions/core/config/load';
import { ConfigError } from '../../functions/core/errors';
import { inferColumns, type RowSample } from '../../functions/core/infer/columns';
import { layoutSummary, renderInitConfig, type FormatGuess, type TableDraft } from '../../functions/core/infer/document';
import { inferLayout, type ListedKey, type TableLayout } from '../../functions/core/infer/layout';
import { csvRows, detectTextFormat, formatFromName, jsonRows, magicHex, sampleText, sniffContainer } from '../../functions/core/infer/sniff';
import type { CommandContext } from '../context';
import { ExitCode, UsageError } from '../errors';
import { positiveInteger } from '../options';
import { formatBytes, println } from '../format';
import { DEFAULT_DATA_DIR } from '../target';

/** Sampling bounds (flags). */
interface Bounds {
  maxObjects: number;
  maxBytes: number;
  maxRows: number;
  /** Largest Parquet object read whole (its footer is at the end). */
  maxParquetBytes: number;
}

interface InitOptions {
  from: string;
  table?: string;
  out: string;
  aggregate?: 'hour' | 'day';
  force?: boolean;
  maxObjects: string;
  maxBytes: string;
  maxRows: string;
}

/** Where the keys come from. */
interface Source {
  describe: string;
  bucketName: string;
  existingBucket: boolean;
  list(progress: (n: number) => void): Promise<ListedKey[]>;
  /** The first `maxBytes` bytes of an object (all of it when it is smaller). */
  read(key: string, maxBytes: number): Promise<Buffer>;
  close(): Promise<void>;
}

/** Register the command. */
export function registerInit(program: Command, ctx: CommandContext, done: (code: number) => void): void {
  program
    .command('init')
    .description('write a config from the data: tables and partitions from the keys, format and columns from a sample')
    .requiredOption('--from <source>', 'a local directory (keys are paths under it, as npm start -- --data reads them) or s3://bucket/prefix (with --local: the local stack\'s bucket)')
    .option('--table <name>', 'name the table (when the keys hold one), or keep only this table')
    .option('--out <file>', 'where to write the config', 'forklift.config.yaml')
    .option('--aggregate <grain>', 'also write an aggregate per table: hour or day (otherwise it is proposed in a comment)')
    .option('--force', 'overwrite --out if it exists')
    .option('--max-objects <n>', 'objects sampled per table', '8')
    .option('--max-bytes <n>', 'bytes read per sampled object', String(1024 * 1024))
    .option('--max-rows <n>', 'rows sampled per table', '20000')
    .action(async (options: InitOptions) => {
      const out = (line = '') => println(ctx.io.stdout, line);
      const err = (line = '') => println(ctx.io.stderr, line);
      if (options.aggregate !== undefined && options.aggregate !== 'hour' && options.aggregate !== 'day') {
        throw new UsageError(`--aggregate must be hour or day, not '${options.aggregate}'`);
      }
      if (existsSync(options.out) && !options.force) throw new UsageError(`${options.out} exists: pass --force to overwrite it, or --out another file`);
      const bounds: Bounds = {
        maxObjects: positiveInteger(options.maxObjects, '--max-objects'),
        maxBytes: positiveInteger(options.maxBytes, '--max-bytes'),
        maxRows: positiveInteger(options.maxRows, '--max-rows'),
        maxParquetBytes: 64 * 1024 * 1024,
      };
      const source = await openSource(options.from, ctx.globals());
      try {
        let lastReport = 0;
        const keys = await source.list((n) => {
          if (n - lastReport >= 10_000) {
            lastReport = n;
            err(`  … ${n.toLocaleString('en-US')} keys listed`);
          }
        });
        err(`listed ${keys.length.toLocaleString('en-US')} keys in ${source.describe}`);
        const layout = inferLayout(keys);
        let layouts = layout.tables;
        if (options.table !== undefined) {
          if (layouts.length === 1) layouts = [{ ...layouts[0]!, name: options.table }];
          else {
            layouts = layouts.filter((t) => t.name === options.table);
            if (layouts.length === 0) throw new UsageError(`no table '${options.table}' among: ${layout.tables.map((t) => t.name).join(', ') || '(none)'}`);
          }
        }
        for (const p of layout.problems) err(`note: ${p}`);
        if (layouts.length === 0) {
          throw new UsageError(`no table found in ${source.describe}: ${keys.length === 0 ? 'no keys' : `no date in the keys, e.g. ${keys[0]!.key}`}`);
        }
        const drafts: TableDraft[] = [];
        for (const [i, t] of layouts.entries()) {
          err(`sampling ${t.name} (${i + 1}/${layouts.length}): ${t.matched.length.toLocaleString('en-US')} keys`);
          drafts.push(await sampleTable(source, t, bounds));
        }
        const yaml = renderInitConfig({
          source: options.from,
          bucketName: source.bucketName,
          existingBucket: source.existingBucket,
          tables: drafts,
          ...(options.aggregate ? { aggregate: options.aggregate } : {}),
          now: ctx.now(),
        });
        for (const d of drafts) {
          out(`${d.layout.name}: ${layoutSummary(d.layout)}`);
          if (d.format) out(`  ${d.format.type}${d.format.compression !== 'none' ? ` (${d.format.compression})` : ''}: ${d.format.evidence}`);
          if (d.guess) out(`  ${d.guess.columns.length} columns from ${d.guess.rows.toLocaleString('en-US')} sampled rows of ${d.sampledObjects} objects (${formatBytes(d.sampledBytes)}); data date: ${d.guess.dataDateColumn ?? '-'}${d.guess.primaryKey ? `; snapshot-like, key ${d.guess.primaryKey}` : ''}`);
          if (d.unsampled) out(`  NOT CONFIGURED: ${d.unsampled}`);
          else if (d.guess && !d.guess.dataDateColumn) out(`  NOT CONFIGURED: ${d.guess.dataDateEvidence}`);
        }
        const unassigned = layout.unassigned.length;
        if (unassigned) out(`${unassigned.toLocaleString('en-US')} key${unassigned === 1 ? '' : 's'} in no table, e.g. ${layout.unassigned[0]!.key} (${layout.unassigned[0]!.reason})`);
        try {
          parseConfigText(yaml, options.out);
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
          writeFileSync(options.out, yaml);
          out(`wrote ${options.out}, but it does not validate yet (fill in what the comments say):`);
          out(e.message);
          return done(ExitCode.Failed);
        }
        writeFileSync(options.out, yaml);
        out(`wrote ${options.out}`);
        out('next:');
        out(`  npm run forklift -- --config ${options.out} validate`);
        if (!options.from.startsWith('s3://')) out(`  npm start -- --config ${options.out} --data ${options.from}`);
        else out(`  npm run forklift -- --config ${options.out}${ctx.globals().local ? ' --local' : ''} validate --check-sources`);
        done(ExitCode.Ok);
      } finally {
        await source.close();
      }
    });
}

/** Objects to sample: spread over the partitions (first, last and between), data files only. */
function pickSamples(layout: TableLayout, max: number): TableLayout['matched'] {
  const data = layout.matched.filter((m) => m.size > 0 && !(layout.marker && m.key.endsWith(`/${layout.marker}`)));
  if (data.length <= max) return data;
  const picked: TableLayout['matched'] = [];
  for (let i = 0; i < max; i++) picked.push(data[Math.round((i * (data.length - 1)) / (max - 1 || 1))]!);
  return [...new Set(picked)];
}

/** Sample one table's objects: container, format, rows → columns. */
async function sampleTable(source: Source, layout: TableLayout, bounds: Bounds): Promise<TableDraft> {
  const picks = pickSamples(layout, bounds.maxObjects);
  const draft: TableDraft = { layout, sampledObjects: 0, sampledBytes: 0 };
  if (picks.length === 0) return { ...draft, unsampled: 'no non-empty data file to sample' };
  const samples: RowSample[] = [];
  let format: FormatGuess | undefined;
  let fields: string[] | undefined;
  let rows = 0;
  const evidence: string[] = [];
  for (const pick of picks) {
    if (rows >= bounds.maxRows) break;
    const parquet = format?.type === 'parquet' || (format === undefined && pick.key.toLowerCase().endsWith('.parquet'));
    const limit = parquet ? bounds.maxParquetBytes : bounds.maxBytes;
    if (parquet && pick.size > limit) {
      evidence.push(`${pick.key} is larger than ${formatBytes(limit)}: not sampled`);
      continue;
    }
    const bytes = await source.read(pick.key, limit);
    draft.sampledObjects++;
    draft.sampledBytes += bytes.length;
    const container = sniffContainer(bytes);
    if (container.kind === 'opaque') {
      const guessed = formatFromName(pick.key);
      return {
        ...draft,
        format: { type: guessed ?? 'json', compression: container.compression, evidence: `magic number ${magicHex(bytes)} is ${container.compression}` },
        unsampled: `${pick.key} is ${container.compression}-compressed (magic number ${magicHex(bytes)}) and the CLI has no ${container.compression} decoder, so its rows could not be sampled${guessed ? `; the file name suggests ${guessed}` : ''}: write the columns by hand (the local stack cannot load ${container.compression} either)`,
      };
    }
    if (container.kind === 'parquet') {
      if (format && format.type !== 'parquet') return { ...draft, unsampled: `${pick.key} is Parquet while other objects are ${format.type}` };
      format ??= { type: 'parquet', compression: 'none', evidence: 'magic number PAR1 (Parquet); schema and rows read with hyparquet' };
      // hyparquet is read the way the local stack's COPY reads Parquet (a worker thread: it is an ES module).
      const { readParquet } = await import('../../local/redshift-data/formats/parquet');
      const file = await readParquet(bytes);
      fields ??= file.columns;
      if (file.columns.join('\u0000') !== fields.join('\u0000')) return { ...draft, format, unsampled: `${pick.key} has columns ${file.columns.join(', ')}, another object ${fields.join(', ')}` };
      const take = file.rows.slice(0, bounds.maxRows - rows);
      samples.push({ partitionDate: pick.partitionDate, rows: take.map((r) => Object.fromEntries(fields!.map((f, i) => [f, r[i]]))) });
      rows += take.length;
      continue;
    }
    let text: string;
    try {
      text = sampleText(bytes, container.compression, bytes.length < pick.size);
    } catch (e) {
      return { ...draft, unsampled: `${pick.key}: cannot inflate gzip (${(e as Error).message})` };
    }
    const detected = detectTextFormat(text);
    if (detected.type === 'unknown') return { ...draft, unsampled: `${pick.key}: ${detected.reason}` };
    if (format && (format.type !== detected.type || format.compression !== container.compression)) {
      return { ...draft, unsampled: `${pick.key} is ${detected.type}/${container.compression} while other objects are ${format.type}/${format.compression}` };
    }
    if (detected.type === 'json') {
      format ??= { type: 'json', compression: container.compression, evidence: 'every sampled line is one JSON object' };
      const parsed = jsonRows(text);
      const take = parsed.rows.slice(0, bounds.maxRows - rows);
      samples.push({ partitionDate: pick.partitionDate, rows: take });
      rows += take.length;
    } else {
      format ??= { type: 'csv', delimiter: detected.delimiter, header: detected.header, compression: container.compression, evidence: detected.evidence };
      const parsed = csvRows(text, format.delimiter!, format.header!);
      fields ??= parsed.names;
      const take = parsed.rows.slice(0, bounds.maxRows - rows);
      samples.push({ partitionDate: pick.partitionDate, rows: take });
      rows += take.length;
    }
  }
  if (!format) return { ...draft, unsampled: evidence.join('; ') || 'nothing sampled' };
  const guess = inferColumns(samples, {
    mapping: format.type === 'json' ? 'name' : 'position',
    granularity: layout.granularity,
    ...(fields ? { fields } : {}),
  });
  if (guess.columns.length === 0) return { ...draft, format, guess, unsampled: 'no columns in the sampled rows' };
  return { ...draft, format, guess };
}

/** A local directory, S3, or (--local) the local stack's S3 on --data-dir. */
async function openSource(from: string, globals: { local?: boolean; dataDir?: string; region?: string }): Promise<Source> {
  const url = /^s3:\/\/([^/]+)\/?(.*)$/.exec(from);
  if (!url) {
    if (!existsSync(from) || !statSync(from).isDirectory()) throw new UsageError(`--from '${from}' is neither a directory nor s3://bucket/prefix`);
    return dirSource(from);
  }
  const [, bucket, prefix] = url as unknown as [string, string, string];
  let client: S3Client;
  let stop: () => Promise<void>;
  if (globals.local) {
    // The local stack's bucket: the s3rver data of --data-dir, as `--local` commands reach it.
    const { startLocalS3 } = await import('../../local/s3');
    const s3 = await startLocalS3({ dataDir: join(globals.dataDir ?? DEFAULT_DATA_DIR, 's3'), buckets: [bucket] });
    client = s3.client;
    stop = () => s3.stop();
  } else {
    client = new S3Client(globals.region ? { region: globals.region } : {});
    stop = async () => client.destroy();
  }
  return {
    describe: `s3://${bucket}/${prefix}${globals.local ? ' (local stack)' : ''}`,
    bucketName: bucket,
    existingBucket: !globals.local,
    list: async (progress) => (await listObjects(client, bucket, prefix, progress)).map((o) => ({ key: o.key, size: o.size })),
    async read(key, maxBytes) {
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${maxBytes - 1}` }));
      return Buffer.from((await res.Body?.transformToByteArray()) ?? new Uint8Array());
    },
    close: stop,
  };
}

function dirSource(dir: string): Source {
  return {
    describe: dir,
    bucketName: 'forklift-landing',
    existingBucket: false,
    async list(progress) {
      const keys: ListedKey[] = [];
      const walk = (path: string) => {
        for (const name of readdirSync(path).sort()) {
          const full = join(path, name);
          const st = statSync(full);
          if (st.isDirectory()) walk(full);
          else {
            keys.push({ key: relative(dir, full).split('\\').join('/'), size: st.size });
            if (keys.length % 1000 === 0) progress(keys.length);
          }
        }
      };
      walk(dir);
      return keys;
    },
    async read(key, maxBytes) {
      const fd = openSync(join(dir, key), 'r');
      try {
        const buf = Buffer.alloc(Math.min(maxBytes, statSync(join(dir, key)).size));
        const n = readSync(fd, buf, 0, buf.length, 0);
        return buf.subarray(0, n);
      } finally {
        closeSync(fd);
      }
    },
    close: async () => {},
  };
}
