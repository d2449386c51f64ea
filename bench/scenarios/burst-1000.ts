/**
 * burst-1000: 1,000 small objects arriving at once for 10 hourly partitions (100 files of
 * 10 rows each), then each partition's _SUCCESS marker. The example config with the
 * visits table's completeness set to a marker: with the example's quietSeconds 0 an
 * execution may start (and list its partition) before the partition's last objects land.
 * The discover batching window is 500 ms (deployed: 20 s), as in the integration tests.
 */
import { DISCOVER_VISIBILITY_TIMEOUT_SECONDS } from '../../functions/core/functionSettings';
import { DEFAULT_WAIT_SCALE } from '../../local/pipeline';
import { exampleConfig, hourAt, hourKey, isDataCopy, startBenchPipeline, visitsPartition, type Figures, type Scenario } from '../lib';

const PARTITIONS = 10;
const FILES = 100;
const ROWS_PER_FILE = 10;

/** Discover's skip reasons, hours elided, with counts. */
function skipReasons(logs: Array<{ message: string; fields?: Record<string, unknown> }>): string {
  const counts = new Map<string, number>();
  for (const l of logs.filter((x) => x.message === 'load skipped')) {
    const reason = String(l.fields?.['reason'] ?? '').replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/g, '<hour>').replace(/; use --force.*$/, '');
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  return [...counts].map(([r, n]) => `${n}× ${r}`).join('; ') || 'none';
}

async function measure(olderPartitions: 'skip' | 'load'): Promise<Figures> {
    const config = exampleConfig((c) => {
      c.tables['visits']!.completeness = { marker: '_SUCCESS' };
      c.tables['visits']!.olderPartitions = olderPartitions;
      return c;
    });
    // SQS redelivers an event of a busy partition after the deployed visibility timeout (at the
    // local wait scale, as npm start and the soak): with the tests' 1 s, five receives pass within
    // one load and an event is dead-lettered that AWS would have delivered again after the load.
    const bench = await startBenchPipeline(config, { batchWindowMs: 500, redeliveryDelayMs: DISCOVER_VISIBILITY_TIMEOUT_SECONDS * 1000 * DEFAULT_WAIT_SCALE });
    try {
      const p = bench.pipeline;
      const server = p.stack.redshiftData.server;
      const objects = [];
      for (let h = 0; h < PARTITIONS; h++) {
        objects.push(...visitsPartition({ partitionHour: hourAt(h), rows: FILES * ROWS_PER_FILE, files: FILES, firstId: h * 100_000 + 1 }));
      }
      const submissionsBefore = server.stats.submissions;
      const mark = server.stats.statements.length;
      const started = Date.now();
      await p.put(objects, { concurrency: 32 });
      await p.put(Array.from({ length: PARTITIONS }, (_, h) => ({ key: `events/visits/${hourKey(hourAt(h))}/_SUCCESS`, body: 'done' })));
      const lastPut = Date.now();
      await p.settle();
      const settled = Date.now();
      const executions = await p.executions();
      const [dups] = await server.query<{ n: unknown; ids: unknown }>('SELECT COUNT(*) AS n, COUNT(DISTINCT visit_id) AS ids FROM events.visits');
      const rows = Number(dups?.n);
      const lastStop = Math.max(...executions.map((e) => e.stopDate?.getTime() ?? 0));
      return {
        objects: objects.length,
        executions: executions.length,
        executions_loaded: executions.filter((e) => e.status === 'SUCCEEDED' && e.output?.['status'] === 'loaded').length,
        copy_statements: server.stats.statements.slice(mark).filter(isDataCopy).length,
        rows_loaded: rows,
        duplicate_rows: rows - Number(dups?.ids),
        discover_invocations: bench.discoverInvocations(),
        data_api_submissions: server.stats.submissions - submissionsBefore,
        dead_letters: p.deadLetters.length,
        put_ms: lastPut - started,
        wall_ms_first_put_to_last_stop: lastStop - started,
        wall_ms_first_put_to_settled: settled - started,
        rows_expected: PARTITIONS * FILES * ROWS_PER_FILE,
        skipped_by_discover: bench.logs.filter((l) => l.message === 'load skipped').length,
        skip_reasons: skipReasons(bench.logs),
      };
    } finally {
      await bench.stop();
    }
}

export const scenario: Scenario = {
  name: 'burst-1000',
  description: `${PARTITIONS} partitions × ${FILES} files × ${ROWS_PER_FILE} rows (gzip JSON) put at once (32 concurrent PUTs), then the 10 _SUCCESS markers; marker completeness, batch window 500 ms; olderPartitions skip (example default) and load`,
  defaultRuns: 3,
  async run(): Promise<Figures> {
    const out: Figures = {};
    for (const policy of ['skip', 'load'] as const) {
      for (const [k, v] of Object.entries(await measure(policy))) out[`older=${policy} ${k}`] = v;
    }
    return out;
  },
};
