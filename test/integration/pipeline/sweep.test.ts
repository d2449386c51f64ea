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
import type { LocalFaults } from '../../../local/faults';
import { startLocalPipeline, type LocalPipeline } from '../../../local/pipeline';
import { TEST_BATCH_WINDOW_MS, TEST_WAIT_SCALE, count, hourly, jsonLines, testConfig } from './helpers';

const config = testConfig({ sw: hourly('sweep/') });
const FILES = [
  { key: 'sweep/2026-11-20T10/a.json', body: jsonLines([1, 2, 3].map((id) => ({ id, at: '2026-11-20T10:05:00Z', v: id }))) },
  { key: 'sweep/2026-11-20T10/b.json', body: jsonLines([4, 5].map((id) => ({ id, at: '2026-11-20T10:15:00Z', v: id }))) },
];
type Freshness = Record<string, { restartedLoads?: string[] }>;

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
      const swept = (await p.checkFreshness()) as Freshness;
      expect(swept['sw']!.restartedLoads).toEqual([expect.stringMatching(/^sw-20261120T100000-r[0-9a-f]{8}$/)]);
      await p.settle();
      const retry = (await p.executions()).find((e) => e.name === swept['sw']!.restartedLoads![0]);
      expect(retry).toMatchObject({ status: 'SUCCEEDED', output: expect.objectContaining({ status: 'loaded' }) });
      expect(await count(p, 'SELECT COUNT(*) AS n FROM landing.sw')).toBe(5);
      expect(await count(p, 'SELECT COUNT(DISTINCT id) AS n FROM landing.sw')).toBe(5);

      // Loaded now: the next sweep starts nothing.
      const again = (await p.checkFreshness()) as Freshness;
      expect(again['sw']?.restartedLoads).toBeUndefined();
      await p.settle();
      expect(await p.executions()).toHaveLength(2);
    });
  }, 120_000);
});
