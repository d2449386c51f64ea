/**
 * Shared helpers for the benchmarks: a pipeline on a temp data dir, deterministic
 * visits data for the example config, execution history counters, medians.
 * Timings live in bench/results.json and BENCHMARKS.md, never in test assertions.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DescribeStatementCommand, ExecuteStatementCommand, BatchExecuteStatementCommand } from '@aws-sdk/client-redshift-data';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { loadConfigFile } from '../functions/core/config/load';
import type { ForkliftConfig } from '../functions/core/config/schema';
import type { LocalFaults } from '../local/faults';
import { startLocalPipeline, type LocalPipeline } from '../local/pipeline';
import { MetricName } from '../functions/core/metricNames';
import { recordingMetrics, type Log } from '../functions/runtime/observability';
import type { StatementRecord } from '../local/redshift-data/statements';

export type Figures = Record<string, number | string | boolean>;

export interface Scenario {
  name: string;
  description: string;
  /** Runs when none is given on the command line. */
  defaultRuns: number;
  /** One run on a fresh local stack; returns its figures. */
  run(): Promise<Figures>;
}

export const CONFIG_FILE = join(__dirname, '..', 'forklift.config.yaml');

/** The example config (forklift.config.yaml), optionally adjusted. */
export function exampleConfig(adjust?: (c: ForkliftConfig) => ForkliftConfig): ForkliftConfig {
  const config = loadConfigFile(CONFIG_FILE);
  return adjust ? adjust(config) : config;
}

export interface BenchPipeline {
  pipeline: LocalPipeline;
  /** Discover invocations so far (each records one PartitionsDiscovered metric). */
  discoverInvocations(): number;
  /** Info/warn/error log lines of the handlers (message + fields). */
  logs: Array<{ level: string; message: string; fields?: Record<string, unknown> }>;
  stop(): Promise<void>;
}

/** The pipeline on a fresh temp data dir (a new PGlite and bucket per run). */
export async function startBenchPipeline(
  config: ForkliftConfig,
  options: { waitScale?: number; batchWindowMs?: number; redeliveryDelayMs?: number; handlerPollMs?: number; faults?: LocalFaults } = {},
): Promise<BenchPipeline> {
  const dir = await mkdtemp(join(tmpdir(), 'forklift-bench-'));
  const metrics = recordingMetrics();
  const logs: BenchPipeline['logs'] = [];
  const keep = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    logs.push({ level, message, ...(fields ? { fields } : {}) });
  };
  const log: Log = { debug: () => {}, info: keep('info'), warn: keep('warn'), error: keep('error') };
  const pipeline = await startLocalPipeline({
    config,
    dataDir: dir,
    metrics,
    log,
    ...(options.waitScale === undefined ? {} : { waitScale: options.waitScale }),
    ...(options.batchWindowMs === undefined ? {} : { batchWindowMs: options.batchWindowMs }),
    ...(options.redeliveryDelayMs === undefined ? {} : { redeliveryDelayMs: options.redeliveryDelayMs }),
    ...(options.faults === undefined ? {} : { faults: options.faults }),
    ...(options.handlerPollMs === undefined ? {} : { handlerPollMs: options.handlerPollMs }),
  });
  return {
    pipeline,
    logs,
    discoverInvocations: () => metrics.recorded.filter((m) => m.name === MetricName.PartitionsDiscovered).length,
    async stop() {
      await pipeline.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The sample generator's PRNG, so every run loads the same rows. */
import { random } from '../local/sample';

export { random };

const HOUR = 3_600_000;
const pad = (n: number) => String(n).padStart(2, '0');
/** The partition folder of an hour: `2026-11-20T05`. */
export const hourKey = (d: Date): string =>
  `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}`;

export const BASE_HOUR = Date.UTC(2026, 10, 20, 0); // 2026-11-20T00:00Z
export const hourAt = (n: number): Date => new Date(BASE_HOUR + n * HOUR);

/**
 * Visits rows for the example `visits` table, every row's visited_at inside `rowsHour`,
 * split round-robin over `files` gzip JSON-lines objects under the partition of `partitionHour`.
 */
export function visitsPartition(options: {
  partitionHour: Date;
  rowsHour?: Date;
  rows: number;
  files: number;
  firstId: number;
  seed?: number;
  gzip?: boolean;
  /** Draw visitor ids uniformly from this many (default: a skewed draw from 5,000, so few distinct). */
  visitors?: number;
}): Array<{ key: string; body: Buffer }> {
  const rnd = random((options.seed ?? 11) ^ options.firstId);
  const rowsHour = (options.rowsHour ?? options.partitionHour).getTime();
  const lines: string[][] = Array.from({ length: options.files }, () => []);
  for (let i = 0; i < options.rows; i++) {
    const id = options.firstId + i;
    const row = {
      visit_id: `v-${String(id).padStart(12, '0')}`,
      visitor_id: `u-${String(options.visitors === undefined ? Math.floor(rnd() * rnd() * 5000) : Math.floor(rnd() * options.visitors)).padStart(8, '0')}`,
      campaign_id: 1 + Math.floor(rnd() * rnd() * 8),
      visited_at: new Date(rowsHour + Math.floor(rnd() * HOUR)).toISOString(),
      duration_ms: Math.floor(rnd() * 120_000),
      revenue: rnd() < 0.1 ? Number((rnd() * 200).toFixed(2)) : null,
    };
    lines[i % options.files]!.push(JSON.stringify(row));
  }
  const gzip = options.gzip ?? true;
  return lines.map((file, n) => {
    const text = file.join('\n') + '\n';
    return {
      key: `events/visits/${hourKey(options.partitionHour)}/part-${String(n).padStart(4, '0')}.json${gzip ? '.gz' : ''}`,
      body: gzip ? gzipSync(text) : Buffer.from(text),
    };
  });
}

/** The execution's history events (GetExecutionHistory, all pages). */
export async function history(p: LocalPipeline, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await p.stack.stepFunctions.client.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, ...(nextToken ? { nextToken } : {}) }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** States entered: history events of type *StateEntered (what AWS bills as state transitions). */
export async function statesEntered(p: LocalPipeline, executionArn: string): Promise<number> {
  return (await history(p, executionArn)).filter((e) => String(e.type).endsWith('StateEntered')).length;
}

export const isCopy = (sql: string): boolean => /^\s*COPY\s/i.test(sql);
/** A COPY of data files (not the load's file list into its temp table `forklift_files`). */
export const isDataCopy = (sql: string): boolean => isCopy(sql) && !/^\s*COPY\s+"forklift_files"/i.test(sql);

export async function scalar(p: LocalPipeline, sql: string): Promise<number> {
  const [row] = await p.stack.redshiftData.server.query<Record<string, unknown>>(sql);
  return Number(row ? Object.values(row)[0] : 0);
}

/** Collects every finished Data API submission (batch or not) with its sub-statements. */
export function recordFinished(p: LocalPipeline): { records: StatementRecord[]; stop: () => void } {
  const records: StatementRecord[] = [];
  const stop = p.stack.redshiftData.server.onStatement((record, sub) => {
    if (!sub && (record.status === 'FINISHED' || record.status === 'FAILED' || record.status === 'ABORTED')) records.push(record);
  });
  return { records, stop };
}

/**
 * Submits one statement (or a batch) through the Data API client and waits for it to finish. The
 * wait listens to the local server's status changes instead of polling DescribeStatement: a poll
 * loop on the stack's thread would compete with the statement's own work there (a COPY reads and
 * parses its files on that thread), so `wallMs` (submit → FINISHED) is the statement alone.
 */
export async function submitAndWait(
  p: LocalPipeline,
  sqls: string[],
): Promise<{ wallMs: number; durationMs: number; subResultRows: number[]; subDurationMs: number[] }> {
  const client = p.stack.redshiftData.client;
  const server = p.stack.redshiftData.server;
  const target = { Database: p.config.warehouse.database, ...warehouseIds(p.config) };
  const ended = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const off = server.onStatement((record, sub) => {
    if (sub || !['FINISHED', 'FAILED', 'ABORTED'].includes(record.status)) return;
    ended.set(record.id, performance.now());
    waiters.get(record.id)?.();
  });
  try {
    const started = performance.now();
    const submitted = sqls.length === 1
      ? await client.send(new ExecuteStatementCommand({ ...target, Sql: sqls[0]! }))
      : await client.send(new BatchExecuteStatementCommand({ ...target, Sqls: sqls }));
    const id = submitted.Id!;
    if (!ended.has(id)) await new Promise<void>((resolve) => waiters.set(id, resolve));
    const wallMs = ended.get(id)! - started;
    const d = await client.send(new DescribeStatementCommand({ Id: id }));
    if (d.Status !== 'FINISHED') throw new Error(`statement ${d.Status}: ${d.Error}`);
    return {
      wallMs,
      durationMs: Number(d.Duration ?? 0) / 1e6,
      subResultRows: (d.SubStatements ?? []).map((s) => Number(s.ResultRows ?? 0)),
      subDurationMs: (d.SubStatements ?? []).map((s) => Number(s.Duration ?? 0) / 1e6),
    };
  } finally {
    off();
  }
}

function warehouseIds(config: ForkliftConfig): Record<string, string> {
  const w = config.warehouse as Record<string, unknown>;
  const out: Record<string, string> = {};
  if (typeof w['clusterIdentifier'] === 'string') out['ClusterIdentifier'] = w['clusterIdentifier'];
  if (typeof w['workgroupName'] === 'string') out['WorkgroupName'] = w['workgroupName'];
  if (typeof w['dbUser'] === 'string') out['DbUser'] = w['dbUser'];
  return out;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const round = (n: number, digits = 1): number => Number(n.toFixed(digits));

/** The example visits table's columns, for bare-COPY target tables. */
const VISITS_COLUMNS =
  'visit_id VARCHAR(36) NOT NULL, visitor_id VARCHAR(36) NOT NULL, campaign_id INTEGER NOT NULL, ' +
  'visited_at TIMESTAMP NOT NULL, duration_ms INTEGER, revenue DECIMAL(12,2)';

/**
 * A bare COPY of `objects` (copies put under bench/<name>/, which no table's prefix matches)
 * into a fresh table bench.<name> with the visits columns: one ExecuteStatement through the
 * RedshiftDataClient, `COPY … MANIFEST FORMAT AS JSON 'auto' GZIP TIMEFORMAT 'auto'` (the
 * pipeline's COPY options), polled every 5 ms. Checks the row count.
 */
export async function bareCopy(
  p: LocalPipeline,
  name: string,
  objects: Array<{ key: string; body: Buffer }>,
  expectedRows: number,
  options: { sortKey?: boolean } = {},
): Promise<{ wallMs: number; durationMs: number }> {
  const bucket = p.config.landing.bucketName;
  const server = p.stack.redshiftData.server;
  const copies = objects.map((o) => ({ key: `bench/${name}/${o.key}`, body: o.body }));
  await p.put(copies);
  const manifestKey = `bench/${name}.manifest`;
  const manifest = { entries: copies.map((o) => ({ url: `s3://${bucket}/${o.key}`, mandatory: true })) };
  await p.stack.s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: manifestKey, Body: JSON.stringify(manifest) }));
  await p.settle();
  await server.execute('CREATE SCHEMA IF NOT EXISTS bench');
  // The same physical design as the pipeline's table (SORTKEY → the local stack's BRIN index), unless told otherwise.
  await submitAndWait(p, [`CREATE TABLE bench.${name} (${VISITS_COLUMNS})${options.sortKey === false ? '' : ' SORTKEY (visited_at)'}`]);
  const result = await submitAndWait(p, [
    `COPY bench.${name} FROM 's3://${bucket}/${manifestKey}' IAM_ROLE '${p.config.warehouse.copyRoleArn}' MANIFEST FORMAT AS JSON 'auto' GZIP TIMEFORMAT 'auto'`,
  ]);
  const n = await scalar(p, `SELECT COUNT(*) FROM bench.${name}`);
  if (n !== expectedRows) throw new Error(`bare COPY into bench.${name} loaded ${n} rows, expected ${expectedRows}`);
  return { wallMs: result.wallMs, durationMs: result.durationMs };
}

/** Sums of a set of finished Data API submissions, by kind (load batch = has a COPY; aggregate batch = writes a fact table). */
export function batchTimes(records: StatementRecord[], aggregates: string[]): Figures {
  const ms = (ns: number) => ns / 1e6;
  const sum = (subs: Array<{ durationNs: number }>) => round(ms(subs.reduce((n, s) => n + s.durationNs, 0)));
  const loads = records.filter((r) => r.subStatements.some((s) => isCopy(s.sql)));
  // A statement of an aggregate: it writes (or stages for) one of its tables (`"<name>…"`: helper tables count too).
  const ofAggregate = (sql: string, a: string) => sql.includes(`"${a}`) && /^\s*(INSERT|DELETE|UPDATE|CREATE TEMP)/i.test(sql);
  const aggs = records.filter((r) => !loads.includes(r) && r.subStatements.some((s) => aggregates.some((a) => ofAggregate(s.sql, a))));
  // Aggregates recomputed inside the load batches (one transaction).
  const inLoad = loads.flatMap((r) => r.subStatements).filter((s) => aggregates.some((a) => ofAggregate(s.sql, a)));
  const out: Figures = {
    load_batches: loads.length,
    load_batches_ms: round(ms(loads.reduce((n, r) => n + r.durationNs, 0))),
    load_without_aggregates_ms: round(ms(loads.reduce((n, r) => n + r.durationNs, 0)) - sum(inLoad)),
    pipeline_copies_ms: sum(loads.flatMap((r) => r.subStatements).filter((s) => isDataCopy(s.sql))),
    aggregate_batches: aggs.length,
    aggregate_batches_ms: round(ms(aggs.reduce((n, r) => n + r.durationNs, 0))),
    aggregates_in_load_ms: sum(inLoad),
  };
  out['aggregates_ms'] = round(Number(out['aggregate_batches_ms']) + Number(out['aggregates_in_load_ms']));
  for (const a of aggregates) {
    const subs = [...aggs.flatMap((r) => r.subStatements), ...inLoad].filter((s) => s.sql.includes(`"${a}`));
    out[`aggregate_${a}_ms`] = sum(subs);
  }
  return out;
}
