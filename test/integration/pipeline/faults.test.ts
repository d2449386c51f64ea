/**
 * A fault at each step of the load state machine, injected by option (local/faults.ts), never by
 * editing code: every execution ends (nothing left RUNNING), and every failure is audited as a
 * `failed` row of its load. Healing what a failure after the commit leaves behind (stale
 * aggregates) is the recovery and aggregate work's; this proves the failure is recorded.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CancelStatementCommand } from '@aws-sdk/client-redshift-data';
import { parse } from 'yaml';
import type { ConfigInput } from '../../../functions/core/config/schema';
import type { FunctionName } from '../../../functions/core/metricNames';
import type { LocalFaults } from '../../../local/faults';
import { startLocalPipeline, type LocalPipeline } from '../../../local/pipeline';
import { generateSample } from '../../../local/sample';
import { TEST_BATCH_WINDOW_MS, TEST_WAIT_SCALE, count, rows, testConfig } from './helpers';

const example = parse(readFileSync(join(__dirname, '../../../forklift.config.yaml'), 'utf8')) as ConfigInput;
const config = testConfig({ visits: example.tables!['visits']!, campaigns: example.tables!['campaigns']! }, example.aggregates);
/**
 * The example with a raw-SQL aggregate on visits: its aggregates no longer run inside the load batch
 * (raw SQL has literal bounds), so a load has its aggregate batch of its own, whose steps fault here.
 */
const separate = testConfig({ visits: example.tables!['visits']!, campaigns: example.tables!['campaigns']! }, {
  ...example.aggregates,
  visits_raw_hourly: {
    schema: 'facts',
    source: 'visits',
    timeColumn: 'visited_at',
    grain: 'hour',
    sql: "SELECT DATE_TRUNC('hour', visited_at) AS bucket, COUNT(*) AS visits FROM events.visits WHERE visited_at >= {{start}} AND visited_at < {{end}} GROUP BY 1",
    columns: { bucket: { type: 'timestamp', nullable: false }, visits: 'bigint' },
  },
});
const hour = generateSample({ now: new Date('2026-11-20T13:30:00Z'), days: 1, filesPerPartition: 2, visitsPerHour: 40, campaigns: 4 }).filter((o) =>
  o.key.startsWith('events/visits/2026-11-20T12/'),
);

/** The state machine's own Data API calls, in order for one load: which call of which action a step makes. */
const sm = (action: string, nth: number): LocalFaults => ({ calls: [{ service: 'redshiftData', caller: 'stateMachine', action, kind: 'reject', nth: [nth] }] });

type Options = { faults?: LocalFaults; functionTimeouts?: Partial<Record<FunctionName, number>>; config?: typeof config };

async function withPipeline<T>(options: Options, body: (p: LocalPipeline) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'forklift-faults-'));
  const p = await startLocalPipeline({ config, dataDir: dir, waitScale: TEST_WAIT_SCALE, batchWindowMs: TEST_BATCH_WINDOW_MS, ...options });
  try {
    return await body(p);
  } finally {
    await p.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function loadOneHour(p: LocalPipeline): Promise<{ status: string; name: string; error?: string }> {
  await p.put(hour);
  await p.settle();
  const executions = await p.executions();
  expect(executions).toHaveLength(1);
  return executions[0]!;
}

const failedRows = (p: LocalPipeline, loadId: string) =>
  rows(p, `SELECT status, error FROM forklift.loads WHERE load_id = '${loadId}' AND status = 'failed'`);

const STEPS: Array<[string, Options]> = [
  ['Prepare (runs past its Lambda timeout)', { functionTimeouts: { prepare: 0.001 } }],
  ['SubmitLoad', { faults: sm('BatchExecuteStatement', 1) }],
  ['DescribeLoad', { faults: sm('DescribeStatement', 1) }],
  ['GetLoadOutcome (after the commit)', { faults: sm('GetStatementResult', 1) }],
  // The aggregates' own batch: only when they do not run inside the load batch.
  // PlanAggregates is Prepare's second invocation; its runtime exits at every attempt (Retry included).
  ['PlanAggregates (its Lambda exits)', { faults: { lambdaExits: [{ function: 'prepare', at: 'start', nth: [2, 3, 4, 5, 6, 7, 8, 9] }] }, config: separate }],
  ['SubmitAggregates', { faults: sm('BatchExecuteStatement', 2), config: separate }],
  // The load's describes come first (one per poll; the one that sees FINISHED carries its SubStatements).
  ['DescribeAggregates', { faults: sm('DescribeStatement', 2), config: separate }],
];

describe('a fault at each step ends the execution with its failure audited', () => {
  it.each(STEPS)('%s', async (_step, options) => {
    await withPipeline(options, async (p) => {
      const execution = await loadOneHour(p);
      expect(execution.status).toBe('FAILED');
      expect(p.stack.faults.injected.length + (options.functionTimeouts ? 1 : 0)).toBeGreaterThan(0);
      const audited = await failedRows(p, execution.name);
      expect(audited).toHaveLength(1);
      expect(execution.error).not.toBe('States.Runtime');
    });
  }, 120_000);
});

it('a throttled Data API (every other state machine call for a while) still loads: Retry absorbs it, nothing is recorded failed', async () => {
  await withPipeline(
    { faults: { calls: [{ service: 'redshiftData', caller: 'stateMachine', kind: 'throttle', nth: [1, 3, 5, 7, 9], times: 5 }] } },
    async (p) => {
      const execution = await loadOneHour(p);
      expect(execution.status).toBe('SUCCEEDED');
      expect(p.stack.faults.injected.length).toBeGreaterThan(0);
      expect(await failedRows(p, execution.name)).toEqual([]);
    },
  );
}, 120_000);

it('stopAtState: an execution stopped as it enters GetLoadOutcome ends ABORTED, not running', async () => {
  await withPipeline({ faults: { stopAtState: [{ state: 'GetLoadOutcome' }] } }, async (p) => {
    const execution = await loadOneHour(p);
    expect(execution).toMatchObject({ status: 'ABORTED', error: 'Forklift.FaultInjected' });
  });
}, 120_000);

it('a load statement cancelled while it runs (ABORTED) is audited as failed', async () => {
  await withPipeline({}, async (p) => {
    const server = p.stack.redshiftData.server;
    const remove = server.onStatement((record) => {
      // The load batch (it COPYs) as soon as it is submitted: cancel it before it runs.
      if (record.status === 'SUBMITTED' && record.subStatements.some((s) => /^\s*COPY\b/i.test(s.sql))) {
        server.pause();
        void p.stack.redshiftData.client.send(new CancelStatementCommand({ Id: record.id })).finally(() => server.resume());
      }
    });
    const execution = await loadOneHour(p);
    remove();
    expect(execution).toMatchObject({ status: 'FAILED', error: 'StatementAborted' });
    expect(await failedRows(p, execution.name)).toHaveLength(1);
  });
}, 120_000);

/**
 * RecordFailure failing itself: the load fails, and so does the function that would audit it, at
 * every attempt: its runtime exits (Lambda.Unknown, which its Retry does not repeat), or Lambda
 * throttles it (Lambda.TooManyRequestsException, at its first attempt and each of its Retry's 3);
 * the Catch ends in FailedUnrecorded. The execution ends FAILED with no `failed` row, so nothing in
 * the warehouse says the partition needs another attempt: the FAILED execution itself does, and the
 * freshness function's load sweep (the 15-minute schedule, run here at later ticks) acts on it.
 */
describe('RecordFailure failing at every attempt: no failed row, and the partition still heals', () => {
  const RECORD_FAILURE_DOWN: LocalFaults['lambdaExits'] = [{ function: 'record-failure', at: 'start' }];
  /** RecordFailure failing at every attempt, and how many attempts its Task makes (Retry included). */
  const RECORD_FAILURE_FAULTS: Array<[string, LocalFaults, number]> = [
    ['its runtime exits', { lambdaExits: RECORD_FAILURE_DOWN }, 1],
    ['Lambda throttles it at every attempt of its Retry', { lambdaThrottles: [{ function: 'record-failure' }] }, 4],
  ];
  const PRIMARY = 'visits-20261120T120000';
  const SWEEP_TICK_MS = 15 * 60_000;
  type Freshness = Record<string, { restartedLoads?: string[] }>;
  const sweep = async (p: LocalPipeline, tick: number): Promise<string[]> => {
    const result = (await p.checkFreshness(new Date(Date.now() + tick * SWEEP_TICK_MS))) as Freshness;
    await p.settle();
    return result['visits']?.restartedLoads ?? [];
  };
  const hourRows = hour.reduce((n, o) => n + gunzipSync(o.body).toString('utf8').trim().split('\n').length, 0);
  const loadRows = (p: LocalPipeline) => rows(p, "SELECT load_id, status FROM forklift.loads WHERE table_name = 'events.visits' ORDER BY load_id");
  const facts = (p: LocalPipeline) =>
    Promise.all([
      rows(p, 'SELECT bucket, campaign_id, visits::int AS visits, visitors::int AS visitors, revenue::text AS revenue, avg_duration_ms FROM facts.visits_hourly ORDER BY 1, 2'),
      rows(p, 'SELECT bucket, campaign_id, visits::int AS visits, visitors::int AS visitors FROM facts.visitors_daily ORDER BY 1, 2'),
    ]);
  /** The aggregates as a GROUP BY over the raw table computes them. */
  const direct = (p: LocalPipeline) =>
    Promise.all([
      rows(
        p,
        "SELECT DATE_TRUNC('hour', visited_at) AS bucket, campaign_id, COUNT(*)::int AS visits, COUNT(DISTINCT visitor_id)::int AS visitors, " +
          'SUM(revenue)::text AS revenue, AVG(duration_ms::float8) AS avg_duration_ms FROM events.visits GROUP BY 1, 2 ORDER BY 1, 2',
      ),
      rows(p, "SELECT DATE_TRUNC('day', visited_at) AS bucket, campaign_id, COUNT(*)::int AS visits, COUNT(DISTINCT visitor_id)::int AS visitors FROM events.visits GROUP BY 1, 2 ORDER BY 1, 2"),
    ]);
  /** Loaded exactly once, by `loadId`: every row once, aggregates equal to raw, one `loaded` row and no other. */
  const expectLoadedOnce = async (p: LocalPipeline, loadId: string) => {
    expect(await count(p, 'SELECT COUNT(*) AS n FROM events.visits')).toBe(hourRows);
    expect(await count(p, 'SELECT COUNT(DISTINCT visit_id) AS n FROM events.visits')).toBe(hourRows);
    const [hourly, daily] = await facts(p);
    expect(hourly!.length).toBeGreaterThan(0);
    expect([hourly, daily]).toEqual(await direct(p));
    expect(await loadRows(p)).toEqual([{ load_id: loadId, status: 'loaded' }]);
  };
  /** The first execution: FAILED through FailedUnrecorded after `attempts` failed RecordFailure attempts; nothing loaded, nothing audited. */
  const expectFailedUnrecorded = async (p: LocalPipeline, error: string, attempts: number) => {
    const [first] = await p.executions();
    // FailedUnrecorded fails with the load's own error: RecordFailure's output never came.
    expect(first).toMatchObject({ name: PRIMARY, status: 'FAILED', error });
    // Every attempt of the RecordFailure Task failed, and there was no other.
    expect(p.stack.faults.injected.filter((f) => f.action === 'record-failure').map((f) => f.call)).toEqual(Array.from({ length: attempts }, (_, i) => i + 1));
    expect(await failedRows(p, PRIMARY)).toEqual([]);
    expect(await loadRows(p)).toEqual([]);
    expect(await count(p, 'SELECT COUNT(*) AS n FROM events.visits')).toBe(0);
  };

  it.each(RECORD_FAILURE_FAULTS)('a transient load failure (the load batch rejected once), RecordFailure down (%s): the next sweep restarts the partition, loaded exactly once', async (_, recordFailureFault, attempts) => {
    await withPipeline({ faults: { ...sm('BatchExecuteStatement', 1), ...recordFailureFault } }, async (p) => {
      await p.put(hour);
      await p.settle();
      await expectFailedUnrecorded(p, 'RedshiftData.ValidationException', attempts);

      const restarted = await sweep(p, 1);
      expect(restarted).toEqual([expect.stringMatching(new RegExp(`^${PRIMARY}-r[0-9a-f]{8}$`))]);
      const retry = (await p.executions()).find((e) => e.name === restarted[0]);
      expect(retry).toMatchObject({ status: 'SUCCEEDED', output: expect.objectContaining({ status: 'loaded' }) });
      await expectLoadedOnce(p, restarted[0]!);

      // Loaded now: later sweeps start nothing (the FAILED execution stays in their 24 h window).
      expect(await sweep(p, 2)).toEqual([]);
      await expectLoadedOnce(p, restarted[0]!);
    });
  }, 120_000);

  it('a malformed file: the sweep tries the same files once more and then stops; the fixed file loads exactly once', async () => {
    const [good, ...rest] = hour;
    const broken = { key: good!.key, body: gzipSync('{"visit_id": "v1", "visitor_id": "u1", "campaign_id": "not a number", "visited_at": "2026-11-20T12:01:00Z"}\n') };
    await withPipeline({ faults: { lambdaExits: RECORD_FAILURE_DOWN } }, async (p) => {
      await p.put([broken, ...rest]);
      await p.settle();
      await expectFailedUnrecorded(p, 'StatementFailed', 1);

      // The sweep's attempt with the same files fails too (unrecorded again); the next sweep gives up
      // on these exact files, with no failed row to go by: the same files are tried twice at most.
      const [second] = await sweep(p, 1);
      expect(second).toMatch(new RegExp(`^${PRIMARY}-r[0-9a-f]{8}$`));
      expect((await p.executions()).find((e) => e.name === second)).toMatchObject({ status: 'FAILED' });
      expect(await sweep(p, 2)).toEqual([]);
      expect((await p.executions()).map((e) => e.name)).toEqual([PRIMARY, second]);
      expect(await loadRows(p)).toEqual([]);

      // The file fixed (a new version of the key): its event starts a new attempt, named after the new listing.
      await p.put([good!]);
      await p.settle();
      const third = (await p.executions()).map((e) => e.name).filter((n) => n !== PRIMARY && n !== second);
      expect(third).toEqual([expect.stringMatching(new RegExp(`^${PRIMARY}-r[0-9a-f]{8}$`))]);
      await expectLoadedOnce(p, third[0]!);
      expect(await sweep(p, 3)).toEqual([]);
      await expectLoadedOnce(p, third[0]!);
    });
  }, 120_000);
});
