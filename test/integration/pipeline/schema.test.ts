/**
 * Schema evolution through the pipeline: the warehouse outlives a config change
 * (the same data dir, restarted with the new config). A new column is added before
 * the COPY; a type change Redshift cannot make fails the execution before any data
 * is touched.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executionsOf, isCopy, jsonLines, rows, startTestPipeline, statementsSince, testConfig, type TestPipeline } from './helpers';

const table = (prefix: string, columns: Record<string, string>) => ({
  schema: 'landing',
  prefix,
  partition: "{date:yyyy-MM-dd'T'HH}/",
  columns: { id: 'integer', at: 'timestamp', ...columns },
  dataDateColumn: 'at',
});
const before = testConfig({ ev_add: table('ev/add/', { v: 'integer' }), ev_type: table('ev/type/', { v: 'integer' }) });
const after = testConfig({
  ev_add: table('ev/add/', { v: 'integer', note: 'varchar(20)' }),
  ev_type: table('ev/type/', { v: 'varchar(10)' }),
});

let dataDir: string;
let t: TestPipeline | undefined;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'forklift-schema-'));
  const first = await startTestPipeline(before, { dataDir });
  await first.pipeline.put([
    { key: 'ev/add/2026-11-20T10/a.json', body: jsonLines([{ id: 1, at: '2026-11-20T10:01:00Z', v: 1 }]) },
    { key: 'ev/type/2026-11-20T10/a.json', body: jsonLines([{ id: 1, at: '2026-11-20T10:01:00Z', v: 1 }]) },
  ]);
  await first.pipeline.settle();
  expect((await first.pipeline.executions()).map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  await first.stop({ keepData: true });
  t = await startTestPipeline(after, { dataDir });
}, 60_000);
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
  const touched = statementsSince(p, mark).filter((s) => /\bev_type\b/.test(s) && /^\s*(COPY|INSERT INTO "?landing|DELETE|ALTER|CREATE TABLE)/i.test(s));
  expect(touched).toEqual([]);
  expect(await rows(p, "SELECT load_id, status, error FROM forklift.loads WHERE table_name = 'landing.ev_type' ORDER BY finished_at")).toEqual([
    { load_id: 'ev_type-20261120T100000', status: 'loaded', error: null },
    { load_id: 'ev_type-20261120T110000', status: 'failed', error: expect.stringContaining("column 'v'") },
  ]);
});
