/**
 * The load sweep (the freshness function's, every 15 minutes on AWS): a partition whose
 * automatic load ended without succeeding (stopped mid-way, failed, or its Lambda killed) and
 * that receives no further event is started again by the sweep, under discover's deterministic
 * names, with no manual step; a partition loaded since (or a second sweep) starts nothing.
 * Faults by option (local/faults.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { createFreshnessHandler } from '../../../functions/freshness/handler';
import type { LocalFaults } from '../../../local/faults';
import { startLocalPipeline, type LocalPipeline } from '../../../local/pipeline';
import { TEST_BATCH_WINDOW_MS, TEST_WAIT_SCALE, count, hourly, jsonLines, testConfig } from './helpers';

const config = testConfig(
  { sw: hourly('sweep/') },
  { sw_hourly: { schema: 'facts', source: 'sw', timeColumn: 'at', grain: 'hour', measures: { n: { fn: 'count' }, v_sum: { fn: 'sum', column: 'v' } } } },
);
const FILES = [
  { key: 'sweep/2026-11-20T10/a.json', body: jsonLines([1, 2, 3].map((id) => ({ id, at: '2026-11-20T10:05:00Z', v: id }))) },
  { key: 'sweep/2026-11-20T10/b.json', body: jsonLines([4, 5].map((id) => ({ id, at: '2026-11-20T10:15:00Z', v: id }))) },
];
type Freshness = Record<string, { restartedLoads?: string[]; sweep?: string }>;
const SWEEP_TICK_MS = 15 * 60_000;

/** Aggregate buckets that differ from a recompute from the loaded rows. */
const aggregateOff = (p: LocalPipeline) =>
  count(
    p,
    "SELECT COUNT(*) AS n FROM (SELECT DATE_TRUNC('hour', at) AS bucket, COUNT(*) AS n, SUM(v) AS v_sum FROM landing.sw GROUP BY 1) r " +
      'FULL OUTER JOIN (SELECT bucket, n, v_sum FROM facts.sw_hourly WHERE n > 0) f ON f.bucket = r.bucket ' +
      'WHERE r.bucket IS NULL OR f.bucket IS NULL OR r.n <> f.n OR r.v_sum <> f.v_sum',
  );

/** The sweep as its schedule runs it (each tick 15 minutes later), settling after each, until a tick re-drives nothing. */
async function sweepUntilQuiet(p: LocalPipeline): Promise<Freshness[]> {
  const ticks: Freshness[] = [];
  for (let tick = 1; tick <= 4; tick++) {
    const result = (await p.checkFreshness(new Date(Date.now() + tick * SWEEP_TICK_MS))) as Freshness;
    ticks.push(result);
    if (!result['sw']?.restartedLoads && !result['sw']?.sweep) break;
    await p.settle();
  }
  return ticks;
}

async function withPipeline(faults: LocalFaults, body: (p: LocalPipeline) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'forklift-sweep-'));
  const p = await startLocalPipeline({ config, dataDir: dir, waitScale: TEST_WAIT_SCALE, batchWindowMs: TEST_BATCH_WINDOW_MS, faults });
  try {
    await body(p);
  } finally {
    await p.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const CASES: Array<[string, LocalFaults, string]> = [
  ['stopped before its load batch (StopExecution as it enters SubmitLoad)', { stopAtState: [{ state: 'SubmitLoad' }] }, 'ABORTED'],
  ['failed at its load batch (the batch rejected)', { calls: [{ service: 'redshiftData', caller: 'stateMachine', action: 'BatchExecuteStatement', kind: 'reject', nth: [1] }] }, 'FAILED'],
  ['killed: the Prepare runtime exits as it starts (Lambda.Unknown, Runtime.ExitError)', { lambdaExits: [{ function: 'prepare', at: 'start', nth: [1] }] }, 'FAILED'],
];

describe('the load sweep', () => {
  it.each(CASES)('a partition whose load was %s and that gets no new event is loaded by the next sweep', async (_, faults, status) => {
    await withPipeline(faults, async (p) => {
      await p.put(FILES);
      await p.settle();
      const [first] = await p.executions();
      expect(first).toMatchObject({ name: 'sw-20261120T100000', status });
      expect(await count(p, 'SELECT COUNT(*) AS n FROM landing.sw')).toBe(0);

      // The next tick of the schedule: the partition is started again under its retry name.
      const [swept] = await sweepUntilQuiet(p);
      expect(swept!['sw']!.restartedLoads).toEqual([expect.stringMatching(/^sw-20261120T100000-r[0-9a-f]{8}$/)]);
      const retry = (await p.executions()).find((e) => e.name === swept!['sw']!.restartedLoads![0]);
      expect(retry).toMatchObject({ status: 'SUCCEEDED', output: expect.objectContaining({ status: 'loaded' }) });
      expect(await count(p, 'SELECT COUNT(*) AS n FROM landing.sw')).toBe(5);
      expect(await count(p, 'SELECT COUNT(DISTINCT id) AS n FROM landing.sw')).toBe(5);
      expect(await aggregateOff(p)).toBe(0);

      // Loaded now: the next sweep starts nothing.
      const again = (await p.checkFreshness(new Date(Date.now() + 4 * SWEEP_TICK_MS))) as Freshness;
      expect(again['sw']?.restartedLoads).toBeUndefined();
      await p.settle();
      expect((await p.executions()).filter((e) => e.status === 'RUNNING')).toEqual([]);
    });
  }, 120_000);

  it('killed after the commit (the Report runtime exits once its work is done): the load is not repeated and nothing is doubled', async () => {
    await withPipeline({ lambdaExits: [{ function: 'report', at: 'end', nth: [1] }] }, async (p) => {
      await p.put(FILES);
      await p.settle();
      const [first] = await p.executions();
      expect(first).toMatchObject({ name: 'sw-20261120T100000', status: 'FAILED' });
      expect(p.stack.faults.injected).toEqual([expect.objectContaining({ service: 'lambda', action: 'report', kind: 'exit', call: 1 })]);
      expect(await count(p, 'SELECT COUNT(*) AS n FROM landing.sw')).toBe(5);

      const ticks = await sweepUntilQuiet(p);
      expect(ticks.flatMap((t) => t['sw']?.restartedLoads ?? [])).toEqual([]);
      expect(await count(p, 'SELECT COUNT(*) AS n FROM landing.sw')).toBe(5);
      expect(await count(p, 'SELECT COUNT(DISTINCT id) AS n FROM landing.sw')).toBe(5);
      expect(await aggregateOff(p)).toBe(0);
      expect((await p.executions()).filter((e) => e.status === 'RUNNING')).toEqual([]);
    });
  }, 120_000);

  it('more unfinished executions than the Describe budget, the newest on partitions loaded since: the partition of the oldest one is still loaded, within a bounded number of runs', async () => {
    // The first 4 executions are stopped: partition 08 first (the oldest execution), then 05, 06, 07.
    await withPipeline({ stopAtState: [{ state: 'SubmitLoad', times: 4 }] }, async (p) => {
      const hour = (h: string, v: number) => ({ key: `sweep/2026-11-20T${h}/a.json`, body: jsonLines([{ id: v, at: `2026-11-20T${h}:05:00Z`, v }]) });
      for (const [i, h] of ['08', '05', '06', '07'].entries()) {
        await p.put([hour(h, 1 + i)]);
        await p.settle();
      }
      expect((await p.executions()).map((e) => e.status)).toEqual(['ABORTED', 'ABORTED', 'ABORTED', 'ABORTED']);
      // 05, 06 and 07 are loaded by a later event (a fixed file: their retry names); 08 gets none.
      for (const [i, h] of ['05', '06', '07'].entries()) {
        await p.put([hour(h, 10 + i)]);
        await p.settle();
      }
      expect(await count(p, 'SELECT COUNT(*) AS n FROM landing.sw')).toBe(3);
      expect(await count(p, "SELECT COUNT(*) AS n FROM landing.sw WHERE at >= '2026-11-20T08:00:00Z'")).toBe(0);

      // Four unfinished executions in the window, a budget of 2 DescribeExecution calls per run, the
      // newest three on partitions loaded since: the sweep still reaches 08 and loads it.
      const restarted: string[] = [];
      const describes: number[] = [];
      for (let tick = 1; tick <= 3; tick++) {
        // The sweep's Step Functions client, counting its DescribeExecution calls.
        let described = 0;
        const send = (command: object) => {
          if (command instanceof DescribeExecutionCommand) described++;
          return p.deps.sfn.send(command as never);
        };
        const sfn = { send } as unknown as SFNClient;
        const sweep = createFreshnessHandler({ ...p.deps, sfn, now: () => new Date(Date.now() + tick * SWEEP_TICK_MS), loadSweep: { maxDescribes: 2 } });
        const result = (await sweep({})) as Freshness;
        restarted.push(...(result['sw']?.restartedLoads ?? []));
        describes.push(described);
        await p.settle();
      }
      // Partitions loaded since cost no DescribeExecution: one, for 08, then none once it is loaded.
      expect(describes).toEqual([1, 0, 0]);
      expect(restarted).toEqual([expect.stringMatching(/^sw-20261120T080000-r[0-9a-f]{8}$/)]);
      expect(await count(p, "SELECT COUNT(*) AS n FROM landing.sw WHERE at >= '2026-11-20T08:00:00Z'")).toBe(1);
      expect(await count(p, 'SELECT COUNT(*) AS n FROM landing.sw')).toBe(4);
      expect(await aggregateOff(p)).toBe(0);
      expect((await p.executions()).filter((e) => e.status === 'RUNNING')).toEqual([]);
    });
  }, 120_000);
});
