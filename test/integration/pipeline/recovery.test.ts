/**
 * Recovery (issue 10) through the local stack: every failure path of the list heals without a
 * manual step, and after each case the table, its aggregate and the audit agree with a
 * recompute from the raw files still in the bucket.
 */
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DataApiWarehouse, queryBatch, warehouseTarget } from '../../../functions/adapters/warehouse';
import { planLoad } from '../../../functions/core/plan';
import { listObjects } from '../../../functions/adapters/s3';
import { BUCKET, count, executionsOf, hourly, jsonLines, rows, runManual, startTestPipeline, testConfig, type TestPipeline } from './helpers';

const hourlyCount = (source: string) => ({
  schema: 'facts',
  source,
  timeColumn: 'at',
  grain: 'hour' as const,
  dimensions: [],
  measures: { n: { fn: 'count' as const }, v_sum: { fn: 'sum' as const, column: 'v' } },
});

const config = testConfig(
  {
    rc_fix: hourly('rc/fix/'),
    rc_gone: hourly('rc/gone/'),
    rc_reput: hourly('rc/reput/'),
    rc_ms: { ...hourly('rc/ms/'), partition: 'snap_{date:rfc3339}.json' },
    rc_late: { ...hourly('rc/late/'), mode: 'replace' },
    rc_snap: { ...hourly('rc/snap/'), mode: 'truncate' },
    rc_dates: hourly('rc/dates/'),
    rc_side: hourly('rc/side/'),
    rc_marker: { ...hourly('rc/marker/'), completeness: { marker: '_SUCCESS' } },
    rc_resubmit: hourly('rc/resubmit/'),
    rc_nul: { ...hourly('rc/nul/'), columns: { id: { type: 'integer', nullable: false }, at: 'timestamp', v: 'integer', s: 'varchar(20)' } },
  },
  { rc_fix_hourly: hourlyCount('rc_fix'), rc_late_hourly: hourlyCount('rc_late'), rc_reput_hourly: hourlyCount('rc_reput') },
);

let t: TestPipeline;
beforeAll(async () => {
  t = await startTestPipeline(config);
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

const p = () => t.pipeline;
const at = (hour: string, minute = 0) => `2026-11-20T${hour}:${String(minute).padStart(2, '0')}:00Z`;
const rowsOf = (hour: string, from: number, n: number, v = 1) => jsonLines(Array.from({ length: n }, (_, i) => ({ id: from + i, at: at(hour, i % 60), v })));
async function putAndSettle(objects: Array<{ key: string; body: string }>): Promise<void> {
  await p().put(objects);
  await p().settle();
}

/**
 * The recompute: every data file under the table's prefix (side files and markers aside) parsed
 * again; the table must hold exactly those rows, the ledger exactly those files (key and ETag),
 * and each aggregate fed by the table exactly the hourly count and sum of the table.
 */
async function expectAgreesWithRaw(table: string, prefix: string, aggregate?: string): Promise<void> {
  const client = p().stack.s3.client;
  const listing = (await listObjects(client, BUCKET, prefix)).filter((o) => !/(^|\/)[._]|\.crc$|_\$folder\$$/.test(o.key.slice(prefix.length)));
  const expected: Array<{ id: number; v: number }> = [];
  for (const o of listing) {
    const body = await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: o.key }))).Body!.transformToString();
    for (const line of body.split('\n').filter(Boolean)) {
      const r = JSON.parse(line) as { id: number; v: number };
      expected.push({ id: r.id, v: r.v });
    }
  }
  const sort = (a: { id: number; v: number }, b: { id: number; v: number }) => a.id - b.id || a.v - b.v;
  expect(await rows(p(), `SELECT id, v FROM landing.${table} ORDER BY id, v`)).toEqual(expected.sort(sort));
  expect(await rows(p(), `SELECT file_key, etag FROM forklift.ledger__landing__${table} WHERE file_key IS NOT NULL ORDER BY file_key`)).toEqual(
    listing.map((o) => ({ file_key: o.key, etag: o.etag })).sort((a, b) => (a.file_key < b.file_key ? -1 : 1)),
  );
  if (aggregate) {
    const recomputed = await rows(p(), `SELECT DATE_TRUNC('hour', at) AS bucket, COUNT(*)::int AS n, SUM(v)::int AS v_sum FROM landing.${table} GROUP BY 1 ORDER BY 1`);
    expect(await rows(p(), `SELECT bucket, n::int AS n, v_sum::int AS v_sum FROM facts.${aggregate} WHERE n > 0 ORDER BY 1`)).toEqual(recomputed);
  }
  expect(p().deadLetters).toEqual([]);
  expect((await p().executions()).filter((e) => e.status === 'RUNNING')).toEqual([]);
}

describe('a failed automatic load is attempted again', () => {
  it('when the fixed file is put again under the same key: a retry loads the partition, the aggregate follows', async () => {
    const bad = `${JSON.stringify({ id: 2, at: at('10'), v: 1 })}\n${JSON.stringify({ id: 3, at: at('10'), v: 'oops' })}\n`;
    await putAndSettle([
      { key: 'rc/fix/2026-11-20T10/a.json', body: rowsOf('10', 0, 2) },
      { key: 'rc/fix/2026-11-20T10/b.json', body: bad },
    ]);
    expect((await executionsOf(p(), 'rc_fix')).map((e) => e.status)).toEqual(['FAILED']);

    await putAndSettle([{ key: 'rc/fix/2026-11-20T10/b.json', body: rowsOf('10', 2, 3) }]);
    const executions = await executionsOf(p(), 'rc_fix');
    expect(executions.map((e) => [e.name, e.status, e.output?.['status']])).toEqual([
      ['rc_fix-20261120T100000', 'FAILED', undefined],
      [expect.stringMatching(/^rc_fix-20261120T100000-r[0-9a-f]{8}$/), 'SUCCEEDED', 'loaded'],
    ]);
    expect(await rows(p(), "SELECT status FROM forklift.loads WHERE table_name = 'landing.rc_fix' ORDER BY finished_at")).toEqual([{ status: 'failed' }, { status: 'loaded' }]);
    await expectAgreesWithRaw('rc_fix', 'rc/fix/', 'rc_fix_hourly');

    // The same fixed content again (same ETag): already loaded, nothing starts.
    await putAndSettle([{ key: 'rc/fix/2026-11-20T10/b.json', body: rowsOf('10', 2, 3) }]);
    expect(await executionsOf(p(), 'rc_fix')).toHaveLength(2);
    expect(t.log.entries.some((e) => e.level === 'info' && e.message === 'load skipped' && /rc_fix/.test(String(e.fields?.['reason'])))).toBe(true);
  }, 60_000);

  it('when the bad file is removed and a new file lands in the failed partition', async () => {
    await putAndSettle([{ key: 'rc/gone/2026-11-20T10/bad.json', body: '{"id": 1, "at": "2026-11-20T10:00:00Z", "v": "x"}\n' }]);
    expect((await executionsOf(p(), 'rc_gone')).map((e) => e.status)).toEqual(['FAILED']);
    await p().stack.s3.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'rc/gone/2026-11-20T10/bad.json' }));
    await putAndSettle([{ key: 'rc/gone/2026-11-20T10/new.json', body: rowsOf('10', 10, 4) }]);
    expect((await executionsOf(p(), 'rc_gone')).map((e) => [e.status, e.output?.['status']])).toEqual([
      ['FAILED', undefined],
      ['SUCCEEDED', 'loaded'],
    ]);
    await expectAgreesWithRaw('rc_gone', 'rc/gone/');
  }, 60_000);
});

describe('the file ledger is keyed by key and ETag', () => {
  it('append: an object put again with new content replaces its old rows (the partition reloads), never doubles them', async () => {
    await putAndSettle([
      { key: 'rc/reput/2026-11-20T10/a.json', body: rowsOf('10', 0, 3) },
      { key: 'rc/reput/2026-11-20T10/b.json', body: rowsOf('10', 100, 2) },
    ]);
    await expectAgreesWithRaw('rc_reput', 'rc/reput/', 'rc_reput_hourly');
    await putAndSettle([{ key: 'rc/reput/2026-11-20T10/a.json', body: rowsOf('10', 0, 4, 7) }]);
    const executions = await executionsOf(p(), 'rc_reput');
    expect(executions.map((e) => e.output?.['status'])).toEqual(['loaded', 'loaded']);
    expect(String(executions[1]!.output?.['reason'])).toContain('1 file was put again with new content');
    expect(await count(p(), 'SELECT COUNT(*) AS n FROM landing.rc_reput')).toBe(6);
    await expectAgreesWithRaw('rc_reput', 'rc/reput/', 'rc_reput_hourly');
  }, 60_000);
});

describe('partition identity at full precision', () => {
  it('two rfc3339 snapshots 0.5 s apart keep apart: own _forklift_partition, and a forced reload of one leaves the other', async () => {
    await putAndSettle([
      { key: 'rc/ms/snap_2026-11-20T10:00:00Z.json', body: rowsOf('10', 0, 3) },
      { key: 'rc/ms/snap_2026-11-20T10:00:00.500Z.json', body: rowsOf('10', 100, 2) },
    ]);
    expect(await rows(p(), 'SELECT _forklift_partition AS p, COUNT(*)::int AS n FROM landing.rc_ms GROUP BY 1 ORDER BY 1')).toEqual([
      { p: '2026-11-20T10:00:00.000Z', n: 3 },
      { p: '2026-11-20T10:00:00.500Z', n: 2 },
    ]);
    const forced = await runManual(p(), { table: 'rc_ms', date: '2026-11-20T10:00:00.500Z', force: true });
    expect(forced.output?.['status']).toBe('loaded');
    expect(await count(p(), 'SELECT COUNT(*) AS n FROM landing.rc_ms')).toBe(5);
    await expectAgreesWithRaw('rc_ms', 'rc/ms/');
  }, 60_000);
});

describe('replace mode with late rows', () => {
  it('a top-up and a forced reload replace the late rows of the partition, never double them', async () => {
    // Partition 10 carries two late rows of hour 09 (outside its period).
    const a = jsonLines([
      { id: 1, at: at('10', 1), v: 1 },
      { id: 2, at: at('10', 2), v: 1 },
      { id: 3, at: at('09', 58), v: 1 },
      { id: 4, at: at('09', 59), v: 1 },
    ]);
    await putAndSettle([{ key: 'rc/late/2026-11-20T10/a.json', body: a }]);
    await putAndSettle([{ key: 'rc/late/2026-11-20T10/b.json', body: rowsOf('10', 10, 2) }]);
    expect((await executionsOf(p(), 'rc_late')).map((e) => e.output?.['status'])).toEqual(['loaded', 'loaded']);
    expect(await count(p(), 'SELECT COUNT(*) AS n FROM landing.rc_late')).toBe(6);
    await expectAgreesWithRaw('rc_late', 'rc/late/', 'rc_late_hourly');

    const forced = await runManual(p(), { table: 'rc_late', date: '2026-11-20T10', force: true });
    expect(forced.output?.['status']).toBe('loaded');
    expect(await count(p(), 'SELECT COUNT(*) AS n FROM landing.rc_late')).toBe(6);
    await expectAgreesWithRaw('rc_late', 'rc/late/', 'rc_late_hourly');
  }, 60_000);
});

describe('guards', () => {
  it('an empty newer snapshot is refused (truncate mode): the table keeps its rows, the reason says why', async () => {
    await putAndSettle([{ key: 'rc/snap/2026-11-20T10/a.json', body: rowsOf('10', 0, 5) }]);
    await putAndSettle([{ key: 'rc/snap/2026-11-20T11/a.json', body: '' }]);
    const executions = await executionsOf(p(), 'rc_snap');
    expect(executions.map((e) => e.output?.['status'])).toEqual(['loaded', 'skipped']);
    expect(String(executions[1]!.output?.['reason'])).toMatch(/snapshot 2026-11-20T11:00:00Z refused: it holds fewer than 1 row .*minSnapshotRows/);
    expect(await count(p(), 'SELECT COUNT(*) AS n FROM landing.rc_snap')).toBe(5);
    expect(await rows(p(), "SELECT status FROM forklift.loads WHERE table_name = 'landing.rc_snap' ORDER BY finished_at")).toEqual([{ status: 'loaded' }, { status: 'skipped' }]);
  }, 60_000);

  it('keys dated year 9999 or 0000 are rejected alone; the valid key of the same batch loads; no dead letter', async () => {
    await putAndSettle([
      { key: 'rc/dates/9999-12-31T23/a.json', body: rowsOf('10', 0, 1) },
      { key: 'rc/dates/0000-01-01T00/a.json', body: rowsOf('10', 1, 1) },
      { key: 'rc/dates/2026-11-20T10/a.json', body: rowsOf('10', 2, 3) },
    ]);
    expect((await executionsOf(p(), 'rc_dates')).map((e) => [e.name, e.output?.['status']])).toEqual([['rc_dates-20261120T100000', 'loaded']]);
    const rejected = t.log.entries.filter((e) => e.message === 'key rejected' && String(e.fields?.['key']).startsWith('rc/dates/'));
    expect(rejected.map((e) => [e.level, e.fields?.['reason']])).toEqual(
      expect.arrayContaining([
        ['warn', expect.stringContaining('more than 24 hours ahead of now')],
        ['warn', expect.stringContaining("before 2000-01-01 (the table's keyDates.earliest)")],
      ]),
    );
    expect(await count(p(), 'SELECT COUNT(*) AS n FROM landing.rc_dates')).toBe(3);
    expect(p().deadLetters).toEqual([]);
  }, 60_000);

  it('Hadoop/Spark side files are never loaded; a _SUCCESS marker still counts for completeness', async () => {
    await putAndSettle([
      { key: 'rc/side/2026-11-20T10/part-0.json', body: rowsOf('10', 0, 3) },
      { key: 'rc/side/2026-11-20T10/.part-0.json.crc', body: 'binary checksum' },
      { key: 'rc/side/2026-11-20T10/_SUCCESS', body: '' },
      { key: 'rc/side/2026-11-20T10/_temporary/0/part-1.json', body: 'half written' },
      { key: 'rc/side/2026-11-20T10_$folder$', body: '' },
    ]);
    expect((await executionsOf(p(), 'rc_side')).map((e) => [e.status, e.output?.['files']])).toEqual([['SUCCEEDED', 1]]);
    await expectAgreesWithRaw('rc_side', 'rc/side/');
    expect(t.log.entries.some((e) => e.level === 'info' && e.message === 'key ignored' && /\.crc/.test(String(e.fields?.['key'])))).toBe(true);

    await putAndSettle([{ key: 'rc/marker/2026-11-20T10/part-0.json', body: rowsOf('10', 0, 2) }]);
    expect(await executionsOf(p(), 'rc_marker')).toHaveLength(0);
    await putAndSettle([{ key: 'rc/marker/2026-11-20T10/_SUCCESS', body: '' }]);
    expect((await executionsOf(p(), 'rc_marker')).map((e) => [e.output?.['status'], e.output?.['files']])).toEqual([['loaded', 1]]);
    await expectAgreesWithRaw('rc_marker', 'rc/marker/');
  }, 60_000);
});

describe('idempotent resubmission', () => {
  it('a load batch sent again after it committed reports loaded (aggregates would run), writes no second row, loads nothing twice', async () => {
    await putAndSettle([{ key: 'rc/resubmit/2026-11-20T10/a.json', body: rowsOf('10', 0, 3) }]);
    const [first] = await executionsOf(p(), 'rc_resubmit');
    expect(first!.output?.['status']).toBe('loaded');
    // The same batch as the execution's Prepare rendered it (same load id, same listing, same state).
    const listing = (await p().stack.s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'rc/resubmit/2026-11-20T10/' }))).Contents!.map((o) => ({
      key: o.Key!,
      size: o.Size!,
      lastModified: o.LastModified!,
      etag: o.ETag!.replace(/"/g, ''),
    }));
    const { plan } = planLoad({
      config,
      input: { table: 'rc_resubmit', date: '2026-11-20T10:00:00Z' },
      loadId: first!.name,
      startedAt: first!.startDate!,
      now: new Date(),
      listing,
      state: { partitionLoaded: false },
      target: warehouseTarget(config.warehouse),
    });
    const warehouse = new DataApiWarehouse(p().stack.redshiftData.client, warehouseTarget(config.warehouse), { pollMs: 5 });
    const outcome = await queryBatch(warehouse, plan.loadRequest!.Sqls, plan.outcomeStatement!);
    expect(outcome[0]![0]).toBe('loaded');
    expect(await rows(p(), `SELECT status FROM forklift.loads WHERE load_id = '${first!.name}'`)).toEqual([{ status: 'loaded' }]);
    await expectAgreesWithRaw('rc_resubmit', 'rc/resubmit/');
  }, 60_000);
});

describe('local stack', () => {
  it('a JSON \\u0000 fails the load with an error naming the file and line, as stl_load_errors does', async () => {
    const body = `${JSON.stringify({ id: 1, at: at('10'), v: 1, s: 'ok' })}\n${JSON.stringify({ id: 2, at: at('10'), v: 1, s: 'a\u0000b' })}\n`;
    await putAndSettle([{ key: 'rc/nul/2026-11-20T10/a.json', body }]);
    const [failed] = await executionsOf(p(), 'rc_nul');
    expect(failed!.status).toBe('FAILED');
    expect(await rows(p(), "SELECT error_file, error_line FROM forklift.loads WHERE table_name = 'landing.rc_nul' AND status = 'failed'")).toEqual([
      { error_file: expect.stringContaining('rc/nul/2026-11-20T10/a.json'), error_line: 2 },
    ]);
    expect(failed!.cause).toMatch(/null terminator/);
  }, 60_000);
});
