/** Shared helpers for the end-to-end pipeline tests (local stack, temp data dir, waitScale 0). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { parseConfig } from '../../../functions/core/config/load';
import type { ConfigInput, ForkliftConfig } from '../../../functions/core/config/schema';
import type { Log } from '../../../functions/runtime/observability';
import { startLocalPipeline, type ExecutionResult, type LocalPipeline } from '../../../local/pipeline';

export const BUCKET = 'forklift-landing-test';

/** A config with the test's tables and aggregates (warehouse and landing filled in). */
export function testConfig(tables: ConfigInput['tables'], aggregates: ConfigInput['aggregates'] = {}): ForkliftConfig {
  return parseConfig({
    warehouse: { database: 'dev', workgroupName: 'forklift-test', copyRoleArn: 'arn:aws:iam::123456789012:role/forklift-copy' },
    landing: { bucketName: BUCKET },
    tables,
    aggregates,
  });
}

/** A Log that keeps every entry, so tests can read discover's reasons. */
/** A test table with hourly folder partitions of JSON rows {id, at, v} under `prefix`. */
export const hourly = (prefix: string, extra: Record<string, unknown> = {}) => ({
  schema: 'landing',
  prefix,
  partition: "{date:yyyy-MM-dd'T'HH}/",
  format: { type: 'json' as const },
  columns: { id: { type: 'integer', nullable: false }, at: 'timestamp', v: 'integer' },
  dataDateColumn: 'at',
  ...extra,
});

export interface CapturedLog extends Log {
  entries: Array<{ level: string; message: string; fields?: Record<string, unknown> }>;
}
export function capturingLog(): CapturedLog {
  const entries: CapturedLog['entries'] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    entries.push({ level, message, ...(fields ? { fields } : {}) });
  };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export interface TestPipeline {
  pipeline: LocalPipeline;
  log: CapturedLog;
  dataDir: string;
  stop(options?: { keepData?: boolean }): Promise<void>;
}

/**
 * Wait states scaled to 5% (a 2 s poll waits 100 ms). With 0 the polling loops of the
 * state machine spin while a statement runs: hundreds of transitions per load, and ten
 * concurrent executions starve PGlite of the CPU (the 1,000-object test took minutes).
 */
export const TEST_WAIT_SCALE = 0.05;

/**
 * The SQS batching window for discover, scaled like the waits (deployed: 20 s). The
 * pipeline's 50 ms default hands discover a batch of one or two records per put, each
 * with its own warehouse-state read and listing: 1,000 objects then cost ~300 Data API
 * submissions and most of a minute.
 */
export const TEST_BATCH_WINDOW_MS = 500;

/** Start the pipeline on a fresh (or given) data dir. */
export async function startTestPipeline(config: ForkliftConfig, options: { dataDir?: string; waitScale?: number; batchWindowMs?: number } = {}): Promise<TestPipeline> {
  const dir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'forklift-pipeline-')));
  const log = capturingLog();
  const pipeline = await startLocalPipeline({ config, dataDir: dir, waitScale: options.waitScale ?? TEST_WAIT_SCALE,
    batchWindowMs: options.batchWindowMs ?? TEST_BATCH_WINDOW_MS,
    log,
  });
  return {
    pipeline,
    log,
    dataDir: dir,
    async stop(options) {
      await pipeline.stop();
      if (!options?.keepData) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Rows of a query, with values made comparable (numbers as numbers, dates as ISO). */
export async function rows(p: LocalPipeline, sql: string): Promise<Array<Record<string, unknown>>> {
  const out = await p.stack.redshiftData.server.query<Record<string, unknown>>(sql);
  return out.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => [k, isDate(v) ? v.toISOString() : typeof v === 'bigint' ? Number(v) : v]),
    ),
  );
}

/** PGlite's Dates come from another realm than jest's: `instanceof Date` is false. */
const isDate = (v: unknown): v is Date => Object.prototype.toString.call(v) === '[object Date]';

export async function count(p: LocalPipeline, sql: string): Promise<number> {
  const [r] = await p.stack.redshiftData.server.query<{ n: unknown }>(sql);
  return Number(r?.n ?? 0);
}

/** Executions whose name starts with `prefix` (tables in distinct prefixes per test). */
export async function executionsOf(p: LocalPipeline, table: string): Promise<ExecutionResult[]> {
  return (await p.executions()).filter((e) => e.input['table'] === table || (Array.isArray(e.input['aggregates']) && (e.input['aggregates'] as string[]).some((a) => a.startsWith(table))));
}

let manualRun = 0;
/** Start a manual execution (as the CLI does) and wait for it; returns its result. */
export async function runManual(p: LocalPipeline, input: Record<string, unknown>, name?: string): Promise<ExecutionResult> {
  const executionName = name ?? `manual-${Date.now()}-${++manualRun}`;
  const started = await p.stack.stepFunctions.client.send(
    new StartExecutionCommand({ stateMachineArn: p.stateMachineArn, name: executionName, input: JSON.stringify(input) }),
  );
  await p.stack.stepFunctions.server.waitForExecution(started.executionArn!);
  const result = (await p.executions()).find((e) => e.executionArn === started.executionArn);
  if (!result) throw new Error(`execution ${executionName} not listed`);
  return result;
}

/** Start several manual executions at once; wait for all. */
export async function startManual(p: LocalPipeline, input: Record<string, unknown>, name: string): Promise<string> {
  const started = await p.stack.stepFunctions.client.send(
    new StartExecutionCommand({ stateMachineArn: p.stateMachineArn, name, input: JSON.stringify(input) }),
  );
  return started.executionArn!;
}

export async function resultOf(p: LocalPipeline, executionArn: string): Promise<ExecutionResult> {
  await p.stack.stepFunctions.server.waitForExecution(executionArn);
  const result = (await p.executions()).find((e) => e.executionArn === executionArn);
  if (!result) throw new Error(`execution ${executionArn} not listed`);
  return result;
}

/** JSON lines. */
export function jsonLines(records: Array<Record<string, unknown>>): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

/** Statements submitted since `mark` (an index into stats.statements). */
export function statementsSince(p: LocalPipeline, mark: number): string[] {
  return p.stack.redshiftData.server.stats.statements.slice(mark);
}
/** A COPY of data: not the load's file-list COPY into its `forklift_files` temp table (sql/copy.ts renderFileListCopy). */
export const isCopy = (sql: string): boolean => /^\s*COPY\s/i.test(sql) && !/^\s*COPY\s+"forklift_files"/i.test(sql);

/**
 * Records the SQL of every warehouse-state read submitted from now on (the batches holding its
 * catalog SELECT, sql/state.ts), in order; `stop` removes the listener.
 */
export function recordStateReads(p: LocalPipeline): { reads: string[][]; stop: () => void } {
  const reads: string[][] = [];
  const stop = p.stack.redshiftData.server.onStatement((r, sub) => {
    if (sub || r.status !== 'SUBMITTED') return;
    const sqls = r.subStatements.map((s) => s.sql);
    if (sqls.some((sql) => sql.includes("CAST('column' AS VARCHAR(16))"))) reads.push(sqls);
  });
  return { reads, stop };
}
