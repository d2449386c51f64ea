/**
 * soak: many small objects across many hourly partitions, put in random order, with a share of
 * their events duplicated (the same object put again: same content, same ETag), a share of the
 * Data API calls throttled (of the handlers and of the state machine's SDK tasks: one client),
 * and a few executions stopped mid-way (StopExecution while they run). Then: is every file
 * loaded exactly once, is the aggregate equal to a full recompute, is nothing left running,
 * and is the dead-letter list empty? `npm run bench -- --only soak` runs 20,000 objects over
 * 200 partitions; test/integration/pipeline/soak.test.ts runs 2,000 over 20 in `npm test`.
 */
import { ListExecutionsCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { listObjects } from '../../functions/adapters/s3';
import { parseConfig } from '../../functions/core/config/load';
import type { ForkliftConfig } from '../../functions/core/config/schema';
import { random, startBenchPipeline, type Figures, type Scenario } from '../lib';

/** What one soak run does. */
export interface SoakOptions {
  objects: number;
  partitions: number;
  /** Share of objects put a second time (a duplicate event), e.g. 0.2. */
  duplicateFraction: number;
  /** Share of Data API calls answered with ThrottlingException before reaching the endpoint, e.g. 0.05. */
  throttleFraction: number;
  /** Executions stopped while they run. */
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

/** One soak run: its invariants (all must be 0 / true) and what it took. */
export async function runSoak(options: SoakOptions): Promise<Figures> {
  const rng = random(options.seed ?? 20261129);
  const config = soakConfig();
  const bench = await startBenchPipeline(config, { batchWindowMs: 500 });
  const p = bench.pipeline;
  try {
    // Hours well inside the key-date bounds: the last one a day before now.
    const firstHour = Math.floor((Date.now() - 86_400_000) / HOUR) * HOUR - options.partitions * HOUR;
    const hourKey = (h: number) => new Date(firstHour + h * HOUR).toISOString().slice(0, 13);
    const objects = Array.from({ length: options.objects }, (_, i) => {
      const h = i % options.partitions;
      const rows = Array.from({ length: ROWS_PER_OBJECT }, (_, j) => ({
        id: i * ROWS_PER_OBJECT + j,
        at: new Date(firstHour + h * HOUR + ((i * 7 + j * 13) % 3600) * 1000).toISOString(),
        v: (i + j) % 10,
      }));
      return { key: `soak/${hourKey(h)}/part-${String(i).padStart(6, '0')}.json`, body: rows.map((r) => JSON.stringify(r)).join('\n') + '\n' };
    });
    // Random order; duplicates put again later in the stream (a duplicated event of the same object version).
    const order = objects.map((o) => ({ o, k: rng() })).sort((a, b) => a.k - b.k).map((x) => x.o);
    const duplicates = objects.filter(() => rng() < options.duplicateFraction);

    // Throttling: one middleware on the Data API client every caller shares (handlers and SDK tasks).
    let calls = 0;
    let throttled = 0;
    p.stack.redshiftData.client.middlewareStack.add(
      (next) => async (args) => {
        calls++;
        if (rng() < options.throttleFraction) {
          throttled++;
          throw Object.assign(new Error('Rate exceeded (soak fault)'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
        }
        return next(args);
      },
      { step: 'initialize', name: 'soakThrottle' },
    );

    // Stopper: stops the first `stops` executions it sees running, while the objects land.
    const stopped = new Set<string>();
    let putting = true;
    const stopper = (async () => {
      while (putting && stopped.size < options.stops) {
        const running = await p.stack.stepFunctions.client.send(new ListExecutionsCommand({ stateMachineArn: p.stateMachineArn, statusFilter: 'RUNNING' }));
        const victim = (running.executions ?? []).find((e) => !stopped.has(e.executionArn!));
        if (victim) {
          stopped.add(victim.executionArn!);
          await p.stack.stepFunctions.client
            .send(new StopExecutionCommand({ executionArn: victim.executionArn!, error: 'Soak.Stopped', cause: 'stopped mid-way by the soak' }))
            .catch(() => undefined);
        }
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    })();

    const started = Date.now();
    await p.put(order, { concurrency: 32 });
    await p.settle();
    putting = false;
    await stopper;
    await p.put(duplicates, { concurrency: 32 });
    await p.settle();
    const settled = Date.now();

    // The invariants, from the bucket and the warehouse.
    const server = p.stack.redshiftData.server;
    const listing = await listObjects(p.stack.s3.client, config.landing.bucketName, 'soak/');
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
    return {
      objects: options.objects,
      partitions: options.partitions,
      duplicate_events: duplicates.length,
      data_api_calls: calls,
      data_api_throttled: throttled,
      executions_stopped: stopped.size,
      executions: executions.length,
      executions_failed: executions.filter((e) => e.status === 'FAILED').length,
      executions_aborted: executions.filter((e) => e.status === 'ABORTED').length,
      files_unloaded: unloaded,
      rows_expected: options.objects * ROWS_PER_OBJECT,
      rows_loaded: rows,
      rows_doubled: rows - Number(counts?.ids),
      aggregate_buckets_off: Number(agg?.n),
      executions_running: executions.filter((e) => e.status === 'RUNNING').length,
      dead_letters: p.deadLetters.length,
      wall_ms: settled - started,
    };
  } finally {
    await bench.stop();
  }
}

export const scenario: Scenario = {
  name: 'soak',
  description: '20,000 objects × 3 rows over 200 hourly partitions in random order, 20% of events duplicated, 5% of Data API calls throttled, 5 executions stopped mid-way',
  defaultRuns: 1,
  run: () => runSoak({ objects: 20_000, partitions: 200, duplicateFraction: 0.2, throttleFraction: 0.05, stops: 5 }),
};
