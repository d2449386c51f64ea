/** A Parquet table end to end: the staging table has the config's columns only, so the columnar COPY's column count matches. */
import { CLICK_COLUMNS, writeParquet } from '../../fixtures/init/make-parquet';
import { executionsOf, hourly, rows, startTestPipeline, testConfig, type TestPipeline } from './helpers';

const config = testConfig({
  pq_clicks: hourly('pq/clicks/', {
    format: { type: 'parquet' },
    compression: 'none',
    columns: {
      click_id: { type: 'varchar(64)', nullable: false },
      user_id: 'bigint',
      clicked_at: 'timestamp',
      price: 'double precision',
      country: 'varchar(2)',
      is_mobile: 'boolean',
    },
    dataDateColumn: 'clicked_at',
  }),
});

let t: TestPipeline;
beforeAll(async () => {
  t = await startTestPipeline(config);
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

it('loads a Parquet partition: every row once, typed, with its partition', async () => {
  const at = Date.parse('2026-11-20T10:05:00Z');
  const file = (first: number) =>
    writeParquet(
      CLICK_COLUMNS,
      Array.from({ length: 5 }, (_, i) => [`c${first + i}`, BigInt(first + i), BigInt(at + i * 60_000), i % 2 ? null : 2.5, i % 3 ? 'FR' : null, i % 2 === 0]),
    );
  await t.pipeline.put([
    { key: 'pq/clicks/2026-11-20T10/part-0.parquet', body: file(0) },
    { key: 'pq/clicks/2026-11-20T10/part-1.parquet', body: file(5) },
  ]);
  await t.pipeline.settle();
  const executions = await executionsOf(t.pipeline, 'pq_clicks');
  expect(executions.map((e) => [e.status, e.output?.['status'], e.output?.['rows']])).toEqual([['SUCCEEDED', 'loaded', 10]]);
  expect(
    await rows(t.pipeline, "SELECT COUNT(*)::int AS n, COUNT(DISTINCT click_id)::int AS ids, SUM(user_id)::int AS users, COUNT(price)::int AS prices, MIN(clicked_at) AS first, MIN(_forklift_partition) AS p FROM landing.pq_clicks"),
  ).toEqual([{ n: 10, ids: 10, users: 45, prices: 6, first: '2026-11-20T10:05:00.000Z', p: '2026-11-20T10:00:00.000Z' }]);
}, 120_000);
