/**
 * Schema evolution through the pipeline: the warehouse outlives a config change
 * (the same data dir, restarted with the new config). A new column is added before
 * the COPY; a type change Redshift cannot make fails the execution before any data
 * is touched.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executionsOf, isCopy, jsonLines, rows, runManual, startTestPipeline, statementsSince, testConfig, type TestPipeline } from './helpers';

const table = (prefix: string, columns: Record<string, string | { type: string; encoding: string }>) => ({
  schema: 'landing',
  prefix,
  partition: "{date:yyyy-MM-dd'T'HH}/",
  columns: { id: 'integer', at: 'timestamp', ...columns },
  dataDateColumn: 'at',
});
/** Aggregates of ev_add: after the change, the hourly one gains a measure and the daily one a dimension. */
const aggregates = (evolved: boolean) => ({
  ev_hourly: {
    schema: 'facts',
    source: 'ev_add',
    timeColumn: 'at',
    grain: 'hour' as const,
    measures: { n: { fn: 'count' as const }, ...(evolved ? { total: { fn: 'sum' as const, column: 'v' } } : {}) },
  },
  ev_daily: {
    schema: 'facts',
    source: 'ev_add',
    timeColumn: 'at',
    grain: 'day' as const,
    dimensions: evolved ? ['v'] : [],
    measures: { n: { fn: 'count' as const }, ids: { fn: 'count_distinct' as const, column: 'id' } },
  },
});
const before = testConfig(
  {
    ev_add: table('ev/add/', { v: 'integer' }),
    ev_type: table('ev/type/', { v: 'integer' }),
    ev_wide: table('ev/wide/', { name: { type: 'varchar(5)', encoding: 'zstd' } }),
    ev_dict: table('ev/dict/', { code: { type: 'varchar(5)', encoding: 'bytedict' } }),
  },
  aggregates(false),
);
const after = testConfig(
  {
    ev_add: table('ev/add/', { v: 'integer', note: 'varchar(20)' }),
    ev_type: table('ev/type/', { v: 'varchar(10)' }),
    ev_wide: table('ev/wide/', { name: { type: 'varchar(50)', encoding: 'zstd' }, extra1: 'integer', extra2: 'varchar(8)' }),
    ev_dict: table('ev/dict/', { code: { type: 'varchar(50)', encoding: 'bytedict' } }),
  },
  aggregates(true),
);

let dataDir: string;
let t: TestPipeline | undefined;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'forklift-schema-'));
  const first = await startTestPipeline(before, { dataDir });
  await first.pipeline.put([
    { key: 'ev/add/2026-11-20T10/a.json', body: jsonLines([{ id: 1, at: '2026-11-20T10:01:00Z', v: 1 }]) },
    { key: 'ev/type/2026-11-20T10/a.json', body: jsonLines([{ id: 1, at: '2026-11-20T10:01:00Z', v: 1 }]) },
    { key: 'ev/wide/2026-11-20T10/a.json', body: jsonLines([{ id: 1, at: '2026-11-20T10:01:00Z', name: 'short' }]) },
    { key: 'ev/dict/2026-11-20T10/a.json', body: jsonLines([{ id: 1, at: '2026-11-20T10:01:00Z', code: 'ab' }]) },
  ]);
  await first.pipeline.settle();
  expect((await first.pipeline.executions()).map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
  expect(await rows(first.pipeline, 'SELECT n::int AS n FROM facts.ev_hourly')).toEqual([{ n: 1 }]);
  await first.stop({ keepData: true });
  t = await startTestPipeline(after, { dataDir });
}, 180_000);
afterAll(async () => {
  await t?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

it('a new column in the config is added before the COPY; older rows have it NULL', async () => {
  const p = t!.pipeline;
  const mark = p.stack.redshiftData.server.stats.statements.length;
  await p.put([{ key: 'ev/add/2026-11-20T11/a.json', body: jsonLines([{ id: 2, at: '2026-11-20T11:01:00Z', v: 2, note: 'hello' }]) }]);
  await p.settle();
  const [execution] = (await executionsOf(p, 'ev_add')).filter((e) => e.name === 'ev_add-20261120T110000');
  expect(execution).toMatchObject({ status: 'SUCCEEDED', output: expect.objectContaining({ status: 'loaded', rows: 1 }) });

  const statements = statementsSince(p, mark);
  const alter = statements.findIndex((s) => /ALTER TABLE "?landing"?\."?ev_add"? ADD COLUMN "?note"?/i.test(s));
  const copy = statements.findIndex((s) => isCopy(s) && s.includes('ev_add'));
  expect(alter).toBeGreaterThanOrEqual(0);
  expect(copy).toBeGreaterThan(alter);
  expect(await rows(p, 'SELECT id, v, note FROM landing.ev_add ORDER BY id')).toEqual([
    { id: 1, v: 1, note: null },
    { id: 2, v: 2, note: 'hello' },
  ]);
});

it('an aggregate gained a measure and a dimension: the load after the change adds the columns and succeeds; a backfill recomputes history', async () => {
  const p = t!.pipeline;
  // The load of the previous test (hour 11) ran the aggregates of the evolved config.
  const [execution] = (await executionsOf(p, 'ev_add')).filter((e) => e.name === 'ev_add-20261120T110000');
  expect(execution!.output!['steps']).toEqual(
    expect.arrayContaining([expect.objectContaining({ kind: 'fact', name: 'ev_hourly' }), expect.objectContaining({ kind: 'fact', name: 'ev_daily' })]),
  );
  // History: hour 10 was computed before the measure existed.
  expect(await rows(p, 'SELECT bucket, n::int AS n, total::int AS total FROM facts.ev_hourly ORDER BY 1')).toEqual([
    { bucket: '2026-11-20T10:00:00.000Z', n: 1, total: null },
    { bucket: '2026-11-20T11:00:00.000Z', n: 1, total: 2 },
  ]);
  // backfill --aggregate (an aggregate-only run over the range) fills it.
  const run = await runManual(p, { aggregateOnly: true, table: 'ev_add', start: '2026-11-20T00:00:00Z', end: '2026-11-21T00:00:00Z' });
  expect(run).toMatchObject({ status: 'SUCCEEDED', output: expect.objectContaining({ status: 'aggregated' }) });
  expect(await rows(p, 'SELECT bucket, n::int AS n, total::int AS total FROM facts.ev_hourly ORDER BY 1')).toEqual([
    { bucket: '2026-11-20T10:00:00.000Z', n: 1, total: 1 },
    { bucket: '2026-11-20T11:00:00.000Z', n: 1, total: 2 },
  ]);
  expect(await rows(p, 'SELECT bucket, v, n::int AS n, ids::int AS ids FROM facts.ev_daily ORDER BY 2')).toEqual([
    { bucket: '2026-11-20T00:00:00.000Z', v: 1, n: 1, ids: 1 },
    { bucket: '2026-11-20T00:00:00.000Z', v: 2, n: 1, ids: 1 },
  ]);
}, 120_000);

it('an incompatible type change fails the execution before touching data, with a failed loads row naming the column', async () => {
  const p = t!.pipeline;
  const tableBefore = await rows(p, 'SELECT * FROM landing.ev_type ORDER BY id');
  const mark = p.stack.redshiftData.server.stats.statements.length;
  await p.put([{ key: 'ev/type/2026-11-20T11/a.json', body: jsonLines([{ id: 2, at: '2026-11-20T11:01:00Z', v: 'two' }]) }]);
  await p.settle();
  const [execution] = (await executionsOf(p, 'ev_type')).filter((e) => e.name === 'ev_type-20261120T110000');
  expect(execution).toMatchObject({ status: 'FAILED', error: 'SchemaChangeError' });
  expect(execution!.cause).toContain("column 'v'");

  expect(await rows(p, 'SELECT * FROM landing.ev_type ORDER BY id')).toEqual(tableBefore);
  // The state read's load prerequisites (CREATE TABLE IF NOT EXISTS: a no-op on the existing table) touch nothing.
  const touched = statementsSince(p, mark).filter((s) => /\bev_type\b/.test(s) && /^\s*(COPY|INSERT INTO "?landing|DELETE|ALTER|CREATE TABLE (?!IF NOT EXISTS))/i.test(s));
  expect(touched).toEqual([]);
  expect(await rows(p, "SELECT load_id, status, error FROM forklift.loads WHERE table_name = 'landing.ev_type' ORDER BY finished_at")).toEqual([
    { load_id: 'ev_type-20261120T100000', status: 'loaded', error: null },
    { load_id: 'ev_type-20261120T110000', status: 'failed', error: expect.stringContaining("column 'v'") },
  ]);
});

it('widens a VARCHAR outside the load transaction and adds each new column with its own ALTER TABLE (Redshift: one ADD COLUMN per statement, no ALTER COLUMN TYPE in a transaction block)', async () => {
  const p = t!.pipeline;
  const mark = p.stack.redshiftData.server.stats.statements.length;
  await p.put([{ key: 'ev/wide/2026-11-20T11/a.json', body: jsonLines([{ id: 2, at: '2026-11-20T11:01:00Z', name: 'a much longer name', extra1: 7, extra2: 'x' }]) }]);
  await p.settle();
  const [execution] = (await executionsOf(p, 'ev_wide')).filter((e) => e.name === 'ev_wide-20261120T110000');
  expect(execution).toMatchObject({ status: 'SUCCEEDED', output: expect.objectContaining({ status: 'loaded', rows: 1 }) });
  const alters = statementsSince(p, mark).filter((s) => /^ALTER TABLE "landing"\."ev_wide"/.test(s));
  expect(alters).toEqual([
    'ALTER TABLE "landing"."ev_wide" ALTER COLUMN "name" TYPE VARCHAR(50)',
    expect.stringMatching(/ADD COLUMN "extra1" INTEGER$/),
    expect.stringMatching(/ADD COLUMN "extra2" VARCHAR\(8\)$/),
  ]);
  expect(await rows(p, 'SELECT id, name, extra1, extra2 FROM landing.ev_wide ORDER BY id')).toEqual([
    { id: 1, name: 'short', extra1: null, extra2: null },
    { id: 2, name: 'a much longer name', extra1: 7, extra2: 'x' },
  ]);
});

it('refuses to widen a BYTEDICT column, naming the column and the fix, before touching data', async () => {
  const p = t!.pipeline;
  await p.put([{ key: 'ev/dict/2026-11-20T11/a.json', body: jsonLines([{ id: 2, at: '2026-11-20T11:01:00Z', code: 'a code longer than five' }]) }]);
  await p.settle();
  const [execution] = (await executionsOf(p, 'ev_dict')).filter((e) => e.name === 'ev_dict-20261120T110000');
  expect(execution).toMatchObject({ status: 'FAILED', error: 'SchemaChangeError' });
  expect(execution!.cause).toContain("column 'code'");
  expect(execution!.cause).toContain('BYTEDICT');
  expect(execution!.cause).toContain('ALTER TABLE "landing"."ev_dict" ALTER COLUMN "code" ENCODE ZSTD');
  expect(await rows(p, 'SELECT id, code FROM landing.ev_dict ORDER BY id')).toEqual([{ id: 1, code: 'ab' }]);
});
