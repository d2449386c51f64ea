/**
 * "Nothing is lost": objects landing in a partition after its first execution listed it
 * are loaded by a top-up (the file ledger says which files are missing), exactly once.
 * (The it.skip of load.test.ts's quiet-period section is the same scenario as the racing variant here.)
 */
import { count, hourly, executionsOf, isCopy, jsonLines, rows, startTestPipeline, statementsSince, testConfig, type TestPipeline } from './helpers';


const config = testConfig({
  t1_seq: hourly('t1/seq/'),
  t2_race: hourly('t2/race/'),
  t3_replace: { ...hourly('t3/replace/'), mode: 'replace' },
});

let t: TestPipeline;
beforeAll(async () => {
  // A short batching window: the events of one put reach discover in several batches, while the first load runs.
  t = await startTestPipeline(config, { batchWindowMs: 20 });
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

const p = () => t.pipeline;
const at = (minute: number) => `2026-11-20T10:${String(minute % 60).padStart(2, '0')}:00Z`;
/** 50 files of 10 rows each for hour 10, ids 0..499. */
const files = (prefix: string) =>
  Array.from({ length: 50 }, (_, i) => ({
    key: `${prefix}2026-11-20T10/part-${String(i).padStart(3, '0')}.json`,
    body: jsonLines(Array.from({ length: 10 }, (_, j) => ({ id: i * 10 + j, at: at(j), v: 1 }))),
  }));

describe('files landing after their partition was loaded', () => {
  it('25 files, settle, 25 more of the same partition: a top-up loads the 25 new files only (2 executions, 2 COPYs, 500 rows)', async () => {
    const all = files('t1/seq/');
    const mark = p().stack.redshiftData.server.stats.statements.length;
    await p().put(all.slice(0, 25));
    await p().settle();
    await p().put(all.slice(25));
    await p().settle();

    const executions = await executionsOf(p(), 't1_seq');
    expect(executions.map((e) => e.name)).toEqual(['t1_seq-20261120T100000', expect.stringMatching(/^t1_seq-20261120T100000-[0-9a-f]{8}$/)]);
    expect(executions.map((e) => [e.status, e.output?.['status'], e.output?.['files']])).toEqual([
      ['SUCCEEDED', 'loaded', 25],
      ['SUCCEEDED', 'loaded', 25],
    ]);
    expect(String(executions[1]!.output?.['reason'])).toContain('25 new files arrived for partition 2026-11-20T10:00:00Z, already loaded: loading them');
    expect(statementsSince(p(), mark).filter((s) => isCopy(s) && s.includes('t1_seq'))).toHaveLength(2);
    expect(await rows(p(), 'SELECT COUNT(*)::int AS n, COUNT(DISTINCT id)::int AS ids FROM landing.t1_seq')).toEqual([{ n: 500, ids: 500 }]);
    expect(await count(p(), "SELECT COUNT(DISTINCT file_key) AS n FROM forklift.load_files WHERE table_name = 'landing.t1_seq'")).toBe(50);
    expect(await count(p(), "SELECT COUNT(*) AS n FROM forklift.load_files WHERE table_name = 'landing.t1_seq'")).toBe(50);

    // The same objects again: nothing new starts.
    await p().put(all.slice(40));
    await p().settle();
    expect(await executionsOf(p(), 't1_seq')).toHaveLength(2);
    expect(p().deadLetters).toEqual([]);
  }, 60_000);

  it('50 files put at once (quietSeconds 0): the events meeting the running first load are redelivered; all 500 rows, no duplicates', async () => {
    await p().put(files('t2/race/').slice(0, 10));
    // The rest lands while the first execution runs (started by the first batch after 20 ms).
    await new Promise((resolve) => setTimeout(resolve, 40));
    await p().put(files('t2/race/').slice(10));
    await p().settle();

    const executions = await executionsOf(p(), 't2_race');
    expect(executions.every((e) => e.status === 'SUCCEEDED')).toBe(true);
    expect(executions[0]!.name).toBe('t2_race-20261120T100000');
    const loaded = executions.filter((e) => e.output?.['status'] === 'loaded');
    expect(loaded.reduce((n, e) => n + Number(e.output?.['files']), 0)).toBe(50);
    expect(await rows(p(), 'SELECT COUNT(*)::int AS n, COUNT(DISTINCT id)::int AS ids FROM landing.t2_race')).toEqual([{ n: 500, ids: 500 }]);
    expect(await count(p(), "SELECT COUNT(*) AS n FROM forklift.load_files WHERE table_name = 'landing.t2_race'")).toBe(50);
    expect(p().deadLetters).toEqual([]);
  }, 60_000);

  it('replace mode: a file landing after the load reloads the whole partition (idempotent)', async () => {
    const all = files('t3/replace/');
    await p().put(all.slice(0, 3));
    await p().settle();
    await p().put(all.slice(3, 5));
    await p().settle();
    const executions = await executionsOf(p(), 't3_replace');
    expect(executions.map((e) => [e.status, e.output?.['status'], e.output?.['files']])).toEqual([
      ['SUCCEEDED', 'loaded', 3],
      ['SUCCEEDED', 'loaded', 5],
    ]);
    expect(await rows(p(), 'SELECT COUNT(*)::int AS n, COUNT(DISTINCT id)::int AS ids FROM landing.t3_replace')).toEqual([{ n: 50, ids: 50 }]);
  }, 60_000);
});
