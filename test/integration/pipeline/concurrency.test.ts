/**
 * The pipeline on a warehouse that runs transactions concurrently under serializable
 * isolation (the local Data API's 1023 model): load batches held until all are submitted, so
 * their transactions overlap as they would on Redshift.
 */
import type { StatementRecord } from '../../../local/redshift-data/statements';
import { isCopy, jsonLines, resultOf, rows, startManual, startTestPipeline, testConfig, hourly, type TestPipeline } from './helpers';

const marker = { completeness: { marker: '_SUCCESS' } };
const config = testConfig({
  cc_a: hourly('cc/a/', marker),
  cc_b: hourly('cc/b/', marker),
  cc_c: hourly('cc/c/', marker),
});

let t: TestPipeline;
beforeAll(async () => {
  t = await startTestPipeline(config);
}, 60_000);
afterAll(async () => {
  await t?.stop();
});
const p = () => t.pipeline;
const at = (hour: string, minute: number) => `2026-11-20T${hour}:${String(minute % 60).padStart(2, '0')}:00Z`;

/** Three files of `n` rows each for a partition; ids from `first`. */
function partitionFiles(prefix: string, hour: string, first: number, n: number) {
  return [0, 1, 2].map((f) => ({
    key: `${prefix}2026-11-20T${hour}/part-${f}.json`,
    body: jsonLines(Array.from({ length: n }, (_, i) => ({ id: first + f * n + i, at: at(hour, i), v: 1 }))),
  }));
}

/** A load batch: a batch with a COPY (whatever its other statements are). */
const isLoadBatch = (r: StatementRecord): boolean => r.isBatch && r.subStatements.some((s) => isCopy(s.sql));

it('3 tables and 2 loads of one table loading at the same time: no abort left unretried, no duplicate, no loss', async () => {
  const objects = [
    ...partitionFiles('cc/a/', '10', 1, 4),
    ...partitionFiles('cc/a/', '11', 101, 4),
    ...partitionFiles('cc/b/', '10', 1, 5),
    ...partitionFiles('cc/c/', '10', 1, 6),
  ];
  await p().put(objects);
  await p().settle(); // no marker: discover leaves them to an operator

  const server = p().stack.redshiftData.server;
  const errors: string[] = [];
  const offErrors = server.onStatement((r, sub) => {
    if (!sub && r.status === 'FAILED') errors.push(r.error ?? '');
  });
  // Hold every load batch until all five are submitted: their transactions overlap.
  const held = new Set<StatementRecord>();
  const allSubmitted = new Promise<void>((resolve) => {
    const off = server.onStatement((r, sub) => {
      if (sub || r.status !== 'SUBMITTED' || !isLoadBatch(r)) return;
      held.add(r);
      if (held.size === 5) {
        off();
        resolve();
      }
    });
  });
  const release = server.hold((r) => isLoadBatch(r) && held.size < 5);

  const files = (prefix: string, hour: string) => objects.filter((o) => o.key.startsWith(`${prefix}2026-11-20T${hour}/`)).map((o) => o.key);
  const runs = [
    { table: 'cc_a', date: '2026-11-20T10', files: files('cc/a/', '10') },
    { table: 'cc_a', date: '2026-11-20T11', files: files('cc/a/', '11') },
    { table: 'cc_b', date: '2026-11-20T10', files: files('cc/b/', '10') },
    { table: 'cc_c', date: '2026-11-20T10', files: files('cc/c/', '10') },
    { table: 'cc_b', date: '2026-11-20T10', files: files('cc/b/', '10') }, // a duplicate of the third
  ];
  const arns = await Promise.all(runs.map((input, i) => startManual(p(), input, `cc-run-${i}`)));
  await allSubmitted;
  release();
  const results = await Promise.all(arns.map((arn) => resultOf(p(), arn)));
  offErrors();

  expect(held.size).toBe(5);
  expect(results.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
  expect(results.map((r) => r.output?.['status']).sort()).toEqual(['loaded', 'loaded', 'loaded', 'loaded', 'skipped']);
  // No serialization conflict at all: loads of different tables never form a cycle, loads of one table wait on its LOCK.
  expect(errors).toEqual([]);
  expect(await rows(p(), 'SELECT COUNT(*)::int AS n, COUNT(DISTINCT id)::int AS ids FROM landing.cc_a')).toEqual([{ n: 24, ids: 24 }]);
  expect(await rows(p(), 'SELECT COUNT(*)::int AS n, COUNT(DISTINCT id)::int AS ids FROM landing.cc_b')).toEqual([{ n: 15, ids: 15 }]);
  expect(await rows(p(), 'SELECT COUNT(*)::int AS n, COUNT(DISTINCT id)::int AS ids FROM landing.cc_c')).toEqual([{ n: 18, ids: 18 }]);
  expect(
    await rows(p(), "SELECT table_name, status, COUNT(*)::int AS n FROM forklift.loads WHERE table_name LIKE 'cc\\_%' GROUP BY 1, 2 ORDER BY 1, 2"),
  ).toEqual([
    { table_name: 'cc_a', status: 'loaded', n: 2 },
    { table_name: 'cc_b', status: 'loaded', n: 1 },
    { table_name: 'cc_b', status: 'skipped', n: 1 },
    { table_name: 'cc_c', status: 'loaded', n: 1 },
  ]);
  expect(await rows(p(), "SELECT COUNT(*)::int AS n, COUNT(DISTINCT file_key)::int AS files FROM forklift.load_files WHERE table_name LIKE 'cc\\_%'")).toEqual([
    { n: 12, files: 12 },
  ]);
}, 180_000);
