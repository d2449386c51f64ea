/**
 * What users of the jobs Forklift replaces rely on (issue 11), end to end on the local stack:
 * tab-separated files, adopting a table that already holds data, daily partitions.
 */
import { count, rows, startTestPipeline, testConfig, type TestPipeline } from './helpers';

function flat(partition: string) {
  return {
    schema: 'flat',
    prefix: 'u4/flat/',
    partition,
    columns: { id: { type: 'integer', nullable: false }, at: 'date' },
    dataDateColumn: 'at',
  };
}

const config = testConfig({
  u1_tsv: {
    schema: 'landing',
    prefix: 'u1/tsv/',
    partition: 'items_{date:yyyy-MM-dd}.tsv',
    format: { type: 'csv', header: true, delimiter: '\t' },
    columns: { id: { type: 'integer', nullable: false }, name: 'varchar(50)', at: 'timestamp' },
    dataDateColumn: 'at',
  },
  // An existing table (created below, before any load) whose newest rows are dated 2026-01-05.
  u2_adopted: {
    schema: 'legacy',
    prefix: 'u2/adopted/',
    partition: 'u2_adopted_{date:yyyy-MM-dd}.json',
    columns: { id: { type: 'integer', nullable: false }, at: 'date', v: 'integer' },
    dataDateColumn: 'at',
  },
  // Daily folder partitions, the s3-to-redshift layout by day.
  u3_daily: {
    schema: 'landing',
    prefix: 'u3/daily/',
    partition: '{date:yyyy-MM-dd}/',
    columns: { id: { type: 'integer', nullable: false }, at: 'timestamp' },
    dataDateColumn: 'at',
    mode: 'replace',
  },
  // A state table (merge) whose windows arrive out of order.
  u5_state: {
    schema: 'landing',
    prefix: 'u5/state/',
    partition: 'state_{date:yyyy-MM-dd}.json',
    columns: { id: { type: 'integer', nullable: false }, v: 'varchar(20)', at: 'timestamp', gone: 'boolean' },
    dataDateColumn: 'at',
    mode: 'merge',
    primaryKey: ['id'],
    deleteFlagColumn: 'gone',
  },
  // Turned off: discover ignores its keys.
  u6_off: {
    enabled: false,
    schema: 'landing',
    prefix: 'u6/off/',
    partition: 'off_{date:yyyy-MM-dd}.json',
    columns: { id: { type: 'integer', nullable: false }, at: 'date' },
    dataDateColumn: 'at',
  },
  // A flat layout: every table in one folder, as s3-to-redshift kept them (<table>_<date>.json).
  page: { ...flat('page_{date:yyyy-MM-dd}.json') },
  page_views: { ...flat('page_views_{date:yyyy-MM-dd}.json') },
  api_page: { ...flat('{date:yyyy-MM-dd}.json'), prefix: 'u4/flat/api_page_' },
  api_page_views: { ...flat('{date:yyyy-MM-dd}.json'), prefix: 'u4/flat/api_page_views_' },
});

let t: TestPipeline;
beforeAll(async () => {
  t = await startTestPipeline(config);
  for (const sql of [
    'CREATE SCHEMA legacy',
    'CREATE TABLE legacy.u2_adopted (id INTEGER NOT NULL, at DATE, v INTEGER)',
    "INSERT INTO legacy.u2_adopted VALUES (1, '2026-01-04', 1), (2, '2026-01-05', 1)",
  ]) {
    await t.pipeline.stack.redshiftData.server.query(sql);
  }
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

const p = () => t.pipeline;
async function putAndSettle(objects: Array<{ key: string; body: string }>): Promise<void> {
  await p().put(objects);
  await p().settle();
}
function discoverReasons(table: string): string[] {
  return t.log.entries.filter((e) => e.fields?.['table'] === table && e.fields?.['reason'] !== undefined).map((e) => String(e.fields?.['reason']));
}

it('loads a tab-separated file (delimiter "\\t")', async () => {
  await putAndSettle([{ key: 'u1/tsv/items_2026-01-03.tsv', body: 'id\tname\tat\n1\tan apple, red\t2026-01-03 10:00:00\n2\tpear\t2026-01-03 11:00:00\n' }]);
  expect(await rows(p(), 'SELECT id, name FROM landing.u1_tsv ORDER BY id')).toEqual([
    { id: 1, name: 'an apple, red' },
    { id: 2, name: 'pear' },
  ]);
});

describe('adopting a table that already holds data', () => {
  it('skips a file older than the newest data of the table, saying so; loads a newer one', async () => {
    await putAndSettle([{ key: 'u2/adopted/u2_adopted_2026-01-03.json', body: '{"id": 3, "at": "2026-01-03", "v": 9}\n' }]);
    expect(discoverReasons('u2_adopted')).toEqual([
      "table 'u2_adopted' has no partition loaded by Forklift but holds data up to the partition 2026-01-05T00:00:00Z (the newest value of its data-date column): partition 2026-01-03T00:00:00Z is older; the table's olderPartitions policy is 'skip'; use --force to load it",
    ]);
    expect(await count(p(), 'SELECT COUNT(*) AS n FROM legacy.u2_adopted')).toBe(2);

    await putAndSettle([{ key: 'u2/adopted/u2_adopted_2026-01-06.json', body: '{"id": 4, "at": "2026-01-06", "v": 9}\n' }]);
    expect(discoverReasons('u2_adopted')).toContainEqual(expect.stringContaining('partition 2026-01-06T00:00:00Z is not older, loading it'));
    // The existing rows are kept (they have no _forklift_partition: Forklift adds the column and leaves them alone).
    expect(await rows(p(), 'SELECT id, _forklift_partition AS p FROM legacy.u2_adopted ORDER BY id')).toEqual([
      { id: 1, p: null },
      { id: 2, p: null },
      { id: 4, p: '2026-01-06T00:00:00.000Z' },
    ]);
  });
});

it('loads daily folder partitions ({date:yyyy-MM-dd}/), replacing the day', async () => {
  await putAndSettle([
    { key: 'u3/daily/2026-01-02/part-0.json', body: '{"id": 1, "at": "2026-01-02 03:00:00"}\n{"id": 2, "at": "2026-01-02 23:59:59"}\n' },
    { key: 'u3/daily/2026-01-03/part-0.json', body: '{"id": 3, "at": "2026-01-03 00:00:00"}\n' },
  ]);
  expect(await rows(p(), "SELECT TO_CHAR(_forklift_partition, 'YYYY-MM-DD') AS day, COUNT(*)::int AS n FROM landing.u3_daily GROUP BY 1 ORDER BY 1")).toEqual([
    { day: '2026-01-02', n: 2 },
    { day: '2026-01-03', n: 1 },
  ]);
});

it('flat layout: page, page_views, api_page and api_page_views in one folder each load only their own keys', async () => {
  const body = (id: number) => `{"id": ${id}, "at": "2026-01-05"}\n`;
  await putAndSettle([
    { key: 'u4/flat/page_2026-01-05.json', body: body(1) },
    { key: 'u4/flat/page_views_2026-01-05.json', body: body(2) },
    { key: 'u4/flat/api_page_2026-01-05.json', body: body(3) },
    { key: 'u4/flat/api_page_views_2026-01-05.json', body: body(4) },
  ]);
  const ids = async (table: string) => (await rows(p(), `SELECT id FROM flat.${table}`)).map((r) => r['id']);
  expect([await ids('page'), await ids('page_views'), await ids('api_page'), await ids('api_page_views')]).toEqual([[1], [2], [3], [4]]);
});

it('merge is newest-wins: a late window adds its new keys and changes no newer row; a newer window wins', async () => {
  const row = (id: number, v: string, at: string, gone = false) => JSON.stringify({ id, v, at, gone });
  await putAndSettle([{ key: 'u5/state/state_2026-01-10.json', body: [row(1, 'a@10', '2026-01-10 08:00:00'), row(2, 'b@10', '2026-01-10 08:00:00')].join('\n') + '\n' }]);
  // The window of the 8th lands late: 1 is older than the table's, 2's deletion is older, 3 is a key only it has.
  await putAndSettle([
    { key: 'u5/state/state_2026-01-08.json', body: [row(1, 'a@8', '2026-01-08 08:00:00'), row(2, 'b@8', '2026-01-08 08:00:00', true), row(3, 'c@8', '2026-01-08 08:00:00')].join('\n') + '\n' },
  ]);
  expect(await rows(p(), 'SELECT id, v FROM landing.u5_state ORDER BY id')).toEqual([
    { id: 1, v: 'a@10' },
    { id: 2, v: 'b@10' },
    { id: 3, v: 'c@8' },
  ]);
  await putAndSettle([{ key: 'u5/state/state_2026-01-11.json', body: [row(2, 'b@11', '2026-01-11 08:00:00', true), row(3, 'c@11', '2026-01-11 08:00:00')].join('\n') + '\n' }]);
  expect(await rows(p(), 'SELECT id, v FROM landing.u5_state ORDER BY id')).toEqual([
    { id: 1, v: 'a@10' },
    { id: 3, v: 'c@11' },
  ]);
  expect(discoverReasons('u5_state')).toContainEqual(expect.stringContaining('is older than the newest loaded partition 2026-01-10T00:00:00Z; loading it: merge is newest-wins per key'));
});

it('enabled: false: discover ignores the table\'s keys and logs why; nothing is loaded', async () => {
  await putAndSettle([{ key: 'u6/off/off_2026-01-05.json', body: '{"id": 1, "at": "2026-01-05"}\n' }]);
  expect(t.log.entries.filter((e) => e.fields?.['table'] === 'u6_off').map((e) => [e.level, e.message, e.fields?.['reason']])).toEqual([
    ['info', 'key ignored', "table 'u6_off' is disabled (enabled: false)"],
  ]);
  expect(await count(p(), "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name = 'u6_off'")).toBe(0);
});
