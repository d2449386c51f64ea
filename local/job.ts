/**
 * The main job on the local stack (what `npm start` runs). Generates the example's sample
 * data (or takes `--data <dir>`), puts it into the local landing bucket and lets
 * the pipeline do the rest through the real path (event → discover → execution
 * → load → aggregates), then prints what happened. The warehouse and bucket
 * persist in `.forklift/`, so a second run is incremental.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import Table from 'cli-table3';
import { loadConfigFile } from '../functions/core/config/load';
import type { ForkliftConfig } from '../functions/core/config/schema';
import { literal, qualified } from '../functions/core/identifiers';
import type { Log } from '../functions/runtime/observability';
import { DEFAULT_SAMPLE, generateSample, type SampleObject } from './sample';
import { DEFAULT_WAIT_SCALE, startLocalPipeline, type ExecutionResult, type LocalPipeline } from './pipeline';
import { DISCOVER_VISIBILITY_TIMEOUT_SECONDS } from '../functions/core/functionSettings';

/** A borderless table: one line a row, readable in any terminal or log. */
const COMPACT = {
  chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ' },
  style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
};

/** One line of the run's story: a partition loaded, skipped (with why), rejected or failed. */
interface Outcome {
  table: string;
  partition: string;
  status: string;
  rows?: number;
  seconds?: number;
  reason: string;
}

/** Captures discover's decisions (which never become executions when they skip). */
function decisionLog(outcomes: Outcome[], verbose: boolean): Log {
  const record = (message: string, a: Record<string, unknown> = {}) => {
    const table = String(a['table'] ?? '');
    const partition = String(a['partition'] ?? a['key'] ?? '');
    if (message === 'load skipped') outcomes.push({ table, partition, status: 'skipped', reason: String(a['reason']) });
    else if (message === 'key rejected') outcomes.push({ table, partition, status: 'rejected', reason: String(a['reason']) });
    else if (message.startsWith('partition not complete')) {
      outcomes.push({ table, partition, status: 'waiting', reason: String(a['reason']) });
    }
  };
  const print = (level: string) => (message: string, a?: Record<string, unknown>) => {
    record(message, a);
    if (verbose) process.stderr.write(`${level} ${message} ${a ? JSON.stringify(a) : ''}\n`);
  };
  return { debug: () => {}, info: print('INFO'), warn: print('WARN'), error: print('ERROR') };
}

function readDataDir(dir: string): SampleObject[] {
  const objects: SampleObject[] = [];
  const walk = (path: string) => {
    for (const name of readdirSync(path).sort()) {
      const full = join(path, name);
      if (statSync(full).isDirectory()) walk(full);
      else objects.push({ key: relative(dir, full).split('\\').join('/'), body: readFileSync(full) });
    }
  };
  walk(dir);
  return objects;
}

function executionOutcome(e: ExecutionResult): Outcome {
  const output = e.output ?? {};
  const seconds = e.startDate && e.stopDate ? (e.stopDate.getTime() - e.startDate.getTime()) / 1000 : undefined;
  const table = String(output['table'] ?? e.input['table'] ?? (e.input['aggregates'] as string[] | undefined)?.join(',') ?? '');
  const partition = String(output['partitionDate'] ?? e.input['date'] ?? '').replace(/\.000Z$/, 'Z');
  if (e.status !== 'SUCCEEDED') {
    return { table, partition, status: e.status.toLowerCase(), ...(seconds === undefined ? {} : { seconds }), reason: `${e.error ?? ''}: ${e.cause ?? ''}` };
  }
  return {
    table,
    partition,
    status: String(output['status'] ?? 'succeeded'),
    rows: Number(output['rows'] ?? 0),
    ...(seconds === undefined ? {} : { seconds }),
    reason: String(output['reason'] ?? ''),
  };
}

async function firstRows(pipeline: LocalPipeline, config: ForkliftConfig, limit: number): Promise<string[]> {
  const out: string[] = [];
  for (const [name, aggregate] of Object.entries(config.aggregates).slice(0, 1)) {
    const table = qualified(aggregate.schema, name);
    // No load ran (an empty --data folder): the fact table was never created.
    const exists = await pipeline.stack.redshiftData.server.query(
      `SELECT 1 FROM information_schema.tables WHERE table_schema = ${literal(aggregate.schema)} AND table_name = ${literal(name)}`,
    );
    if (!exists.length) {
      out.push(`${aggregate.schema}.${name}: not created yet (no load fed it)`);
      continue;
    }
    const rows = await pipeline.stack.redshiftData.server.query<Record<string, unknown>>(
      `SELECT * FROM ${table} ORDER BY bucket DESC, 2 LIMIT ${limit}`,
    );
    if (!rows.length) continue;
    const head = Object.keys(rows[0]!);
    const t = new Table({ head, ...COMPACT });
    for (const r of rows) {
      t.push(head.map((h) => {
        const v = r[h];
        // PGlite may build its Dates in another realm (its loader), where instanceof Date is false.
        if (Object.prototype.toString.call(v) === '[object Date]') return (v as Date).toISOString().slice(0, 16).replace('T', ' ');
        if (typeof v === 'number' && !Number.isInteger(v)) return v.toFixed(1);
        return v === null || v === undefined ? '' : String(v);
      }));
    }
    out.push(`${aggregate.schema}.${name}, newest ${limit} rows:`, t.toString());
  }
  return out;
}

/** A free port on 127.0.0.1 (the OS picks; pglite-socket needs a number up front). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Options of one local run (the flags of `npm start`). */
export interface LocalJobOptions {
  config: string;
  data?: string;
  dataDir: string;
  serve: boolean;
  fresh: boolean;
  verbose: boolean;
}

/** How a run ended, by partition decision. */
export interface LocalJobSummary {
  loaded: number;
  skipped: number;
  failed: number;
  rejected: number;
  rows: number;
}

/** Run the job once; `out` receives the summary lines, `progress` the progress lines. */
export async function runLocalJob(
  options: LocalJobOptions,
  out: (line?: string) => void = (line = '') => process.stdout.write(line + '\n'),
  progressOut: (line: string) => void = (line) => process.stderr.write(line + '\n'),
): Promise<LocalJobSummary> {
  const started = Date.now();
  const config = loadConfigFile(options.config);
  if (options.fresh) rmSync(options.dataDir, { recursive: true, force: true });
  mkdirSync(options.dataDir, { recursive: true });
  rmSync(join(options.dataDir, 'endpoints.json'), { force: true }); // left by a --serve run that was killed
  const outcomes: Outcome[] = [];

  out(`Forklift on the local stack: config ${options.config}, warehouse and bucket in ${options.dataDir}/`);
  // The deployed queue's visibility timeout, at the local scale: a partition whose load runs gets its
  // event back after it, as on AWS (the 1 s test default dead-letters it when 220 objects land at once).
  const pipeline = await startLocalPipeline({
    config,
    dataDir: options.dataDir,
    log: decisionLog(outcomes, options.verbose),
    redeliveryDelayMs: DISCOVER_VISIBILITY_TIMEOUT_SECONDS * 1000 * DEFAULT_WAIT_SCALE,
  });
  try {
    const before = new Set((await pipeline.executions()).map((e) => e.executionArn));
    const objects = options.data ? readDataDir(options.data) : generateSample({ ...DEFAULT_SAMPLE, now: new Date() });
    const source = options.data ? options.data : `sample: ${DEFAULT_SAMPLE.days} days of hourly visits, ${DEFAULT_SAMPLE.filesPerPartition} files a partition, daily campaign snapshots`;
    out(`Putting ${objects.length} objects into s3://${config.landing.bucketName}/ (${source})`);
    const progress = setInterval(async () => {
      const all = await pipeline.executions().catch(() => []);
      const mine = all.filter((e) => !before.has(e.executionArn));
      const done = mine.filter((e) => e.status !== 'RUNNING').length;
      progressOut(`  … ${done}/${mine.length} executions finished`);
    }, 5000);
    try {
      await pipeline.put(objects);
      await pipeline.settle();
    } finally {
      clearInterval(progress);
    }
    const executions = (await pipeline.executions()).filter((e) => !before.has(e.executionArn));
    outcomes.push(...executions.map(executionOutcome));
    // Several discover batches may decide on the same partition (and events redelivered while its load ran
    // find it loaded afterwards): show each decision once, and a partition loaded in this run as loaded.
    const loadedNow = new Set(outcomes.filter((o) => o.status === 'loaded').map((o) => `${o.table} ${o.partition}`));
    const seen = new Set<string>();
    const unique = outcomes
      .filter((o) => !(o.status === 'skipped' && loadedNow.has(`${o.table} ${o.partition}`)))
      .sort((a, b) => a.table.localeCompare(b.table) || a.partition.localeCompare(b.partition))
      .filter((o) => {
        const id = `${o.table} ${o.partition} ${o.status} ${o.reason}`;
        return seen.has(id) ? false : (seen.add(id), true);
      });

    const table = new Table({ head: ['table', 'partition', 'status', 'rows', 'seconds', 'reason'], ...COMPACT });
    for (const o of unique) {
      table.push([o.table, o.partition, o.status, o.rows ?? '', o.seconds === undefined ? '' : o.seconds.toFixed(2), o.reason.slice(0, 120)]);
    }
    out(table.toString());
    const count = (s: string) => unique.filter((o) => o.status === s).length;
    const rows = unique.reduce((n, o) => n + (o.rows ?? 0), 0);
    out(
      `${count('loaded')} loaded (${rows} rows), ${count('skipped')} skipped, ${count('failed')} failed, ` +
        `${count('rejected')} keys rejected, in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    if (pipeline.deadLetters.length) out(`${pipeline.deadLetters.length} events could not be handled (dead-letter list)`);
    for (const line of await firstRows(pipeline, config, 8)) out(line);
    out('Run again: partitions already loaded are skipped with their reason. `npm start -- --serve` keeps the stack up.');

    if (options.serve) {
      const endpoints = {
        s3: pipeline.stack.s3.endpoint,
        redshiftData: pipeline.stack.redshiftData.endpoint,
        stepFunctions: pipeline.stack.stepFunctions.endpoint,
        stateMachineArn: pipeline.stateMachineArn,
        bucket: config.landing.bucketName,
      };
      // psql into the same warehouse. PGlite has one connection: query between loads, not during them.
      const postgresPort = await freePort();
      const warehouse = pipeline.stack.redshiftData.server.db;
      await warehouse.serve(postgresPort, '127.0.0.1'); // on PGlite's own thread, beside it
      writeFileSync(join(options.dataDir, 'endpoints.json'), JSON.stringify({ ...endpoints, postgres: `127.0.0.1:${postgresPort}` }, null, 2));
      out('Serving (Ctrl-C to stop):');
      out(`  psql -h 127.0.0.1 -p ${postgresPort} -U postgres postgres   (the warehouse: try  SELECT * FROM forklift.loads ORDER BY started_at DESC LIMIT 5;)`);
      out(`  aws --endpoint-url ${endpoints.s3} s3 cp file.json.gz s3://${endpoints.bucket}/events/visits/2026-11-20T13/   (keys S3RVER/S3RVER)`);
      out(`  Redshift Data API  ${endpoints.redshiftData}`);
      out(`  Step Functions     ${endpoints.stepFunctions}  state machine ${endpoints.stateMachineArn}`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
      await warehouse.unserve();
      rmSync(join(options.dataDir, 'endpoints.json'), { force: true });
    }
    return { loaded: count('loaded'), skipped: count('skipped'), failed: count('failed'), rejected: count('rejected'), rows };
  } finally {
    await pipeline.stop();
  }
}

