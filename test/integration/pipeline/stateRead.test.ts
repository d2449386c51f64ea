/**
 * The warehouse-state read once its tables are known (ARCHITECTURE.md, "The warehouse-state read
 * and Redshift's leader node"): discover's first read creates the audit tables, the table and its
 * ledger; later reads are its SELECTs alone. A table, ledger or audit table an operator drops
 * between two loads is created again by the next read (one more submission) and that load succeeds.
 */
import { count, executionsOf, hourly, jsonLines, rows, recordStateReads, startTestPipeline, testConfig, type TestPipeline } from './helpers';

const config = testConfig({ sr_one: hourly('sr/one/') });

let t: TestPipeline;
let stateReads: string[][] = [];
let off: (() => void) | undefined;
beforeAll(async () => {
  t = await startTestPipeline(config);
  const recorder = recordStateReads(t.pipeline);
  stateReads = recorder.reads;
  off = recorder.stop;
}, 60_000);
afterAll(async () => {
  off?.();
  await t?.stop();
});

const p = () => t.pipeline;
const isDdl = (sql: string): boolean => /^\s*(CREATE|ALTER|DROP)\b/i.test(sql);
const hour = (h: number) => [
  { key: `sr/one/2026-11-20T${String(h).padStart(2, '0')}/a.json`, body: jsonLines([{ id: h, at: `2026-11-20T${String(h).padStart(2, '0')}:05:00Z`, v: 1 }]) },
];

/** Puts one hour, waits, and returns the state reads it caused and its execution's outcome. */
async function load(h: number): Promise<{ reads: string[][]; status: unknown; output: unknown }> {
  const mark = stateReads.length;
  await p().put(hour(h));
  await p().settle();
  const execution = (await executionsOf(p(), 'sr_one')).find((e) => e.name.startsWith(`sr_one-20261120T${String(h).padStart(2, '0')}`));
  return { reads: stateReads.slice(mark), status: execution?.status, output: execution?.output?.['status'] };
}

describe('the warehouse-state read without DDL once its tables are known', () => {
  it("the first load's read creates the tables; a second load's read runs its four SELECTs and no DDL", async () => {
    const first = await load(1);
    expect([first.status, first.output]).toEqual(['SUCCEEDED', 'loaded']);
    expect(first.reads).toHaveLength(1);
    expect(first.reads[0]!.filter(isDdl).length).toBeGreaterThanOrEqual(7); // audit schema and tables, schema, table, ledger

    const second = await load(2);
    expect([second.status, second.output]).toEqual(['SUCCEEDED', 'loaded']);
    expect(second.reads).toHaveLength(1);
    expect(second.reads[0]!.filter(isDdl)).toEqual([]);
    expect(second.reads[0]).toHaveLength(4);
    expect(second.reads[0]!.length).toBeLessThan(first.reads[0]!.length);
  }, 60_000);

  // Each case loads hours h and h + 1: newer than every loaded partition (an older one would be skipped).
  it.each([
    ['the target table', 'landing.sr_one', 3],
    ['its ledger', 'forklift.ledger__landing__sr_one', 5],
    ['the loads audit table (the read fails on it)', 'forklift.loads', 7],
    ['the affected_hours audit table (no SELECT reads it)', 'forklift.affected_hours', 9],
  ])('%s dropped between two loads: the next read creates it again and the load succeeds', async (_title, table, h) => {
    await rows(p(), `DROP TABLE ${table}`);
    const next = await load(h);
    expect([next.status, next.output]).toEqual(['SUCCEEDED', 'loaded']);
    // The DDL-free read found it missing, the read ran again with its CREATEs.
    expect(next.reads.map((r) => r.some(isDdl))).toEqual([false, true]);
    const [schema, name] = table.split('.');
    expect(await count(p(), `SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = '${schema}' AND table_name = '${name}'`)).toBe(1);
    expect(await count(p(), `SELECT COUNT(*) AS n FROM landing.sr_one WHERE id = ${h}`)).toBe(1);
    // And the load after it reads without DDL again.
    const after = await load(h + 1);
    expect([after.status, after.output]).toEqual(['SUCCEEDED', 'loaded']);
    expect(after.reads.map((r) => r.some(isDdl))).toEqual([false]);
  }, 60_000);

  it('a loads audit table of the previous release (no planned_at): the read adds the column, the load succeeds and records when it was planned', async () => {
    await rows(p(), 'ALTER TABLE forklift.loads DROP COLUMN planned_at');
    const next = await load(11);
    expect([next.status, next.output]).toEqual(['SUCCEEDED', 'loaded']);
    const [row] = await rows(
      p(),
      "SELECT planned_at >= started_at AS after_start, planned_at <= finished_at + INTERVAL '1 second' AS before_end FROM forklift.loads WHERE load_id LIKE 'sr_one-20261120T11%'",
    );
    expect(row).toEqual({ after_start: true, before_end: true });
  }, 60_000);
});
