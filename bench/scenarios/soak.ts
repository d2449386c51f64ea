/**
 * soak: many small objects across many hourly partitions, put in random order, with a share of
 * their events duplicated (the same object put again: same content, same ETag), a share of all
 * Data API calls throttled (the handlers' and the state machine's SDK tasks') and a few executions
 * stopped mid-way at different states: every fault by option through local/faults.ts. Then the
 * sweep heals, as its 15-minute schedule would (each tick run with its clock 15 minutes later),
 * until a tick finds nothing to re-drive. Then: is every file loaded exactly once, is the aggregate
 * equal to a full recompute, is nothing left running, and is the dead-letter list empty?
 * The local pipeline's timings are AWS's scaled by one factor (Wait states, the handlers' polls,
 * the SQS batching window and visibility timeout), so a partition stays busy for as many
 * redeliveries as on AWS. `npm run bench -- --only soak` runs 20,000 objects over 200 partitions;
 * test/integration/pipeline/soak.test.ts runs 2,000 over 20 in `npm test`.
 */
import { listObjects } from '../../functions/adapters/s3';
import { DISCOVER_BATCHING_WINDOW_SECONDS, DISCOVER_VISIBILITY_TIMEOUT_SECONDS } from '../../functions/core/functionSettings';
import type { FreshnessResult } from '../../functions/freshness/handler';
import type { LocalFaults } from '../../local/faults';
import { parseConfig } from '../../functions/core/config/load';
import type { ForkliftConfig } from '../../functions/core/config/schema';
import { random, startBenchPipeline, type Figures, type Scenario } from '../lib';
import { startSoakProfile } from '../soakProfile';

/** What one soak run does. */
export interface SoakOptions {
  objects: number;
  partitions: number;
  /** Share of objects put a second time (a duplicate event), e.g. 0.2. */
  duplicateFraction: number;
  /** Share of Data API calls answered with a ThrottlingException (a `throttle` call fault), e.g. 0.05. */
  throttleFraction: number;
  /** Executions stopped mid-way (`stopAtState` faults, one per state of SOAK_STOP_STATES in turn). */
  stops: number;
  seed?: number;
}

const ROWS_PER_OBJECT = 3;
const HOUR = 3_600_000;

/** The soak's table (hourly JSON, append, older partitions load: objects land in any order) and its hourly aggregate. */
export function soakConfig(): ForkliftConfig {
  return parseConfig({
    warehouse: { database: 'dev', workgroupName: 'forklift-soak', copyRoleArn: 'arn:aws:iam::123456789012:role/forklift-copy' },
    landing: { bucketName: 'forklift-soak' },
    tables: {
      soak: {
        schema: 'landing',
        prefix: 'soak/',
        partition: "{date:yyyy-MM-dd'T'HH}/",
        format: { type: 'json' },
        columns: { id: { type: 'integer', nullable: false }, at: 'timestamp', v: 'integer' },
        dataDateColumn: 'at',
        olderPartitions: 'load',
      },
    },
    aggregates: {
      soak_hourly: {
        schema: 'facts',
        source: 'soak',
        timeColumn: 'at',
        grain: 'hour',
        measures: { n: { fn: 'count' }, v_sum: { fn: 'sum', column: 'v' } },
      },
    },
  });
}

/**
 * The states the soak's executions are stopped at (StopExecution as they enter, a stopAtState
 * fault), in turn, all on the path of a load whose aggregates fit its own transaction: before the
 * load batch (nothing committed: the raw load is lost), while it runs and while it is polled (it
 * commits anyway), after the commit, and before the report.
 */
export const SOAK_STOP_STATES = ['SubmitLoad', 'WaitForLoad', 'DescribeLoad', 'GetLoadOutcome', 'Report'] as const;

/** Scale of the local pipeline's waits (Wait states, handler polls, the SQS batching window and visibility timeout). */
const SCALE = 0.05;
/** The deployed handlers' statement poll interval (functions/adapters/warehouse.ts), ms. */
const DEPLOYED_HANDLER_POLL_MS = 500;
/** The sweep runs every 15 minutes on AWS: each local sweep runs with its clock one tick later. */
const SWEEP_TICK_MS = 15 * 60_000;
/** Sweeps after the run settled at most (each re-drives what the faults left, then the pipeline settles again). */
const MAX_SWEEPS = 6;

/** The faults of a soak (local/faults.ts): throttled Data API calls, stopped executions. */
export function soakFaults(options: Pick<SoakOptions, 'throttleFraction' | 'stops' | 'seed'>): LocalFaults {
  return {
    seed: options.seed ?? 20261129,
    // Every Data API caller: the handlers' client and the state machine's SDK tasks.
    calls: [{ service: 'redshiftData', kind: 'throttle', fraction: options.throttleFraction }],
    stopAtState: Array.from({ length: options.stops }, (_, i) => ({
      state: SOAK_STOP_STATES[i % SOAK_STOP_STATES.length]!,
      error: 'Soak.Stopped',
      cause: 'stopped mid-way by the soak',
    })),
  };
}

/** The soak's objects: `objects` files of ROWS_PER_OBJECT rows, spread round-robin over `partitions` hours. */
export function soakObjects(options: Pick<SoakOptions, 'objects' | 'partitions'>, now = Date.now()): Array<{ key: string; body: string }> {
  // Hours well inside the key-date bounds: the last one a day before now.
  const firstHour = Math.floor((now - 86_400_000) / HOUR) * HOUR - options.partitions * HOUR;
  const hourKey = (h: number) => new Date(firstHour + h * HOUR).toISOString().slice(0, 13);
  return Array.from({ length: options.objects }, (_, i) => {
    const h = i % options.partitions;
    const rows = Array.from({ length: ROWS_PER_OBJECT }, (_, j) => ({
      id: i * ROWS_PER_OBJECT + j,
      at: new Date(firstHour + h * HOUR + ((i * 7 + j * 13) % 3600) * 1000).toISOString(),
      v: (i + j) % 10,
    }));
    return { key: `soak/${hourKey(h)}/part-${String(i).padStart(6, '0')}.json`, body: rows.map((r) => JSON.stringify(r)).join('\n') + '\n' };
  });
}

/** One soak run: its invariants (all must be 0 / true) and what it took. */
export async function runSoak(options: SoakOptions): Promise<Figures> {
  const rng = random(options.seed ?? 20261129);
  const config = soakConfig();
  const faults = soakFaults(options);
  const bench = await startBenchPipeline(config, {
    waitScale: SCALE,
    batchWindowMs: DISCOVER_BATCHING_WINDOW_SECONDS * 1000 * SCALE,
    redeliveryDelayMs: DISCOVER_VISIBILITY_TIMEOUT_SECONDS * 1000 * SCALE,
    handlerPollMs: DEPLOYED_HANDLER_POLL_MS * SCALE,
    faults,
  });
  const p = bench.pipeline;
  // FORKLIFT_BENCH_SOAK_PROFILE=<file>: where the time goes (bench/soakProfile.ts).
  const profileFile = process.env['FORKLIFT_BENCH_SOAK_PROFILE'];
  const prof = profileFile ? startSoakProfile(p, profileFile) : undefined;
  try {
    const objects = soakObjects(options);
    // Random order; duplicates put again later in the stream (a duplicated event of the same object version).
    const order = objects.map((o) => ({ o, k: rng() })).sort((a, b) => a.k - b.k).map((x) => x.o);
    const duplicates = objects.filter(() => rng() < options.duplicateFraction);

    const started = Date.now();
    prof?.phase('put');
    await p.put(order, { concurrency: 32 });
    await p.put(duplicates, { concurrency: 32 });
    const putAt = Date.now();
    prof?.phase('settle');
    await p.settle();
    prof?.phase('sweep');
    const settledAt = Date.now();
    // Healing: the sweep, as its 15-minute schedule runs it (each tick's clock 15 minutes later),
    // until a tick finds nothing to re-drive.
    let sweeps = 0;
    let loadsRestarted = 0;
    let aggregateSweeps = 0;
    for (let tick = 1; tick <= MAX_SWEEPS; tick++) {
      const result = (await p.checkFreshness(new Date(Date.now() + tick * SWEEP_TICK_MS))) as FreshnessResult;
      sweeps++;
      const restarted = Object.values(result).reduce((n, t) => n + (t.restartedLoads?.length ?? 0), 0);
      const aggregates = Object.values(result).filter((t) => t.sweep !== undefined).length;
      loadsRestarted += restarted;
      aggregateSweeps += aggregates;
      if (restarted + aggregates === 0) break;
      await p.settle();
    }
    const settled = Date.now();
    prof?.phase('check');

    // The invariants, from the bucket and the warehouse.
    const server = p.stack.redshiftData.server;
    // Per partition, as the pipeline lists (the local S3 fails a listing past 1,000 keys: s3rver's
    // continuation token uses a cipher Node's OpenSSL 3 refuses).
    const prefixes = [...new Set(objects.map((o) => o.key.slice(0, o.key.lastIndexOf('/') + 1)))];
    const listing = (await Promise.all(prefixes.map((prefix) => listObjects(p.stack.s3.client, config.landing.bucketName, prefix)))).flat();
    const ledger = await server.query<{ file_key: string; etag: string | null }>("SELECT file_key, etag FROM forklift.load_files WHERE table_name = 'landing.soak'");
    const inLedger = new Set(ledger.map((r) => `${r.file_key}#${r.etag ?? ''}`));
    const unloaded = listing.filter((o) => !inLedger.has(`${o.key}#${o.etag ?? ''}`)).length;
    const [counts] = await server.query<{ n: unknown; ids: unknown }>('SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS ids FROM landing.soak');
    const [agg] = await server.query<{ n: unknown }>(
      'SELECT COUNT(*) AS n FROM (SELECT DATE_TRUNC(\'hour\', at) AS bucket, COUNT(*) AS n, SUM(v) AS v_sum FROM landing.soak GROUP BY 1) r ' +
        'FULL OUTER JOIN (SELECT bucket, n, v_sum FROM facts.soak_hourly WHERE n > 0) f ON f.bucket = r.bucket ' +
        'WHERE r.bucket IS NULL OR f.bucket IS NULL OR r.n <> f.n OR r.v_sum <> f.v_sum',
    );
    const executions = await p.executions();
    const rows = Number(counts?.n);
    const checked = Date.now();
    const callCounts = Object.entries(p.stack.faults.callCounts()).filter(([k]) => k.startsWith('redshiftData:'));
    const calls = callCounts.reduce((n, [, c]) => n + c, 0);
    const callsBy = (prefix: string) => callCounts.filter(([k]) => k.startsWith(prefix)).reduce((n, [, c]) => n + c, 0);
    const throttled = p.stack.faults.injected.filter((f) => f.kind === 'throttle').length;
    const stopped = executions.filter((e) => e.error === 'Soak.Stopped').length;
    return {
      objects: options.objects,
      partitions: options.partitions,
      duplicate_events: duplicates.length,
      data_api_calls: calls,
      data_api_calls_functions: callsBy('redshiftData:functions:'),
      data_api_describes_functions: callsBy('redshiftData:functions:DescribeStatement'),
      data_api_calls_state_machine: callsBy('redshiftData:stateMachine:'),
      data_api_throttled: throttled,
      executions_stopped: stopped,
      executions: executions.length,
      executions_failed: executions.filter((e) => e.status === 'FAILED').length,
      // Why they failed (error name × count): a failure the pipeline heals is allowed, an unknown one is a finding.
      executions_failed_errors: failedErrors(executions.filter((e) => e.status === 'FAILED')),
      executions_aborted: executions.filter((e) => e.status === 'ABORTED').length,
      files_unloaded: unloaded,
      rows_expected: options.objects * ROWS_PER_OBJECT,
      rows_loaded: rows,
      rows_doubled: rows - Number(counts?.ids),
      aggregate_buckets_off: Number(agg?.n),
      executions_running: executions.filter((e) => e.status === 'RUNNING').length,
      dead_letters: p.deadLetters.length,
      discover_invocations: bench.discoverInvocations(),
      sweeps,
      sweep_loads_restarted: loadsRestarted,
      sweep_aggregate_runs: aggregateSweeps,
      put_ms: putAt - started,
      settle_ms: settledAt - started,
      wall_ms: settled - started,
      check_ms: checked - settled,
    };
  } finally {
    prof?.stop();
    await bench.stop();
  }
}

/** FORKLIFT_BENCH_SOAK=<objects>x<partitions> (e.g. 2000x20) runs a smaller soak, as a trial or on a small machine. */
function soakSize(): { objects: number; partitions: number } {
  const spec = process.env['FORKLIFT_BENCH_SOAK'];
  if (spec === undefined) return { objects: 20_000, partitions: 200 };
  const match = /^(\d+)x(\d+)$/.exec(spec);
  if (!match) throw new Error(`FORKLIFT_BENCH_SOAK must look like 2000x20 (objects x partitions), got '${spec}'`);
  return { objects: Number(match[1]), partitions: Number(match[2]) };
}

export const scenario: Scenario = {
  name: 'soak',
  description:
    '20,000 objects × 3 rows over 200 hourly partitions in random order, 20% of events duplicated, 5% of Data API calls throttled, ' +
    '5 executions stopped mid-way (local/faults.ts), healed by the sweep on its schedule',
  defaultRuns: 1,
  run: () => runSoak({ ...soakSize(), duplicateFraction: 0.2, throttleFraction: 0.05, stops: 5 }),
};

/** `<error> × <n>` of failed executions, most frequent first, with the first cause of each. */
function failedErrors(failed: Array<{ error?: string; cause?: string }>): string {
  const byError = new Map<string, { n: number; cause: string }>();
  for (const e of failed) {
    const key = e.error ?? '(none)';
    const entry = byError.get(key) ?? { n: 0, cause: (e.cause ?? '').slice(0, 160) };
    entry.n++;
    byError.set(key, entry);
  }
  return [...byError].sort((a, b) => b[1].n - a[1].n).map(([error, { n, cause }]) => `${error} × ${n} (${cause})`).join('; ') || 'none';
}
