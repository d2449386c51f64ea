/**
 * The load pipeline end to end on the local stack: S3 events → discover → the load
 * state machine → the local Data API (PGlite). One pipeline for the file; each test
 * uses its own tables under its own prefix so they do not interfere.
 */
import {
  count,
  executionsOf,
  isCopy,
  jsonLines,
  resultOf,
  rows,
  runManual,
  startManual,
  startTestPipeline,
  statementsSince,
  testConfig,
  type TestPipeline,
  hourly,
} from './helpers';


const config = testConfig(
  {
    l1_latest: hourly('l1/latest/'),
    l1_older: hourly('l1/older/', { olderPartitions: 'load' }),
    l2_manual: hourly('l2/manual/', { completeness: { marker: '_SUCCESS' } }),
    l3_rules: hourly('l3/rules/'),
    l4_snapshot: {
      schema: 'landing',
      prefix: 'l4/snapshot/',
      partition: 'campaigns_{date:rfc3339}.csv',
      format: { type: 'csv', header: true },
      columns: { campaign_id: 'integer', name: 'varchar(50)', updated_at: 'timestamp' },
      dataDateColumn: 'updated_at',
      mode: 'truncate',
    },
    l4_flag: hourly('l4/flag/'),
    l5_replace: { ...hourly('l5/replace/'), partition: '{date:yyyy-MM-dd}/', mode: 'replace' },
    l5_merge: {
      ...hourly('l5/merge/'),
      columns: { id: { type: 'integer', nullable: false }, at: 'timestamp', v: 'integer', deleted: 'boolean' },
      mode: 'merge',
      primaryKey: ['id'],
      deleteFlagColumn: 'deleted',
    },
    l7_many: hourly('l7/many/', { completeness: { marker: '_SUCCESS' } }),
    l7_quiet: hourly('l7/quiet/'),
    l7_topup: hourly('l7/topup/'),
    l8_bad: hourly('l8/bad/'),
    l9_hostile: hourly('l9/hostile/'),
    // A burst is a backfill: its partitions reach discover in several SQS batches, in any order. Under the default
    // olderPartitions 'skip', whichever partition a first batch loads makes the older ones of later batches skip.
    l10_burst: hourly('l10/burst/', { completeness: { marker: '_SUCCESS' }, olderPartitions: 'load' }),
    l11_race: hourly('l11/race/', { completeness: { marker: '_SUCCESS' } }),
  },
);

let t: TestPipeline;
beforeAll(async () => {
  t = await startTestPipeline(config);
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

const p = () => t.pipeline;
const at = (hour: string, minute = 5) => `2026-11-20T${hour}:${String(minute).padStart(2, '0')}:00Z`;
/** n rows for an hour partition, ids from `first`. */
const hourRows = (hour: string, first: number, n: number, v = 1) =>
  Array.from({ length: n }, (_, i) => ({ id: first + i, at: at(hour, i % 60), v }));
const object = (key: string, records: Array<Record<string, unknown>>) => ({ key, body: jsonLines(records) });

async function putAndSettle(objects: Array<{ key: string; body: string | Buffer }>): Promise<void> {
  await p().put(objects);
  await p().settle();
}

function skippedByDiscover(table: string): string[] {
  return t.log.entries
    .filter((e) => e.message === 'load skipped' && e.fields?.['table'] === table)
    .map((e) => String(e.fields?.['reason']));
}

describe('latest partition by the date in the key', () => {
  it('skips an older partition uploaded after a newer one (policy skip), whatever the upload order or mtime', async () => {
    await putAndSettle([object('l1/latest/2026-11-20T12/part-0.json', hourRows('12', 1, 3))]);
    // Uploaded later (newer mtime) but older by its key date.
    await putAndSettle([object('l1/latest/2026-11-20T10/part-0.json', hourRows('10', 100, 3))]);

    const executions = await executionsOf(p(), 'l1_latest');
    expect(executions.map((e) => [e.name, e.status])).toEqual([['l1_latest-20261120T120000', 'SUCCEEDED']]);
    expect(skippedByDiscover('l1_latest')).toEqual([expect.stringContaining('is older than the newest loaded partition 2026-11-20T12:00:00Z')]);
    expect(await count(p(), 'SELECT COUNT(*) AS n FROM landing.l1_latest')).toBe(3);
    expect(await count(p(), "SELECT COUNT(*) AS n FROM landing.l1_latest WHERE _forklift_partition = '2026-11-20 10:00:00'")).toBe(0);

    // A manual run without a date takes the latest partition by key date (12), not the last uploaded (10).
    const manual = await runManual(p(), { table: 'l1_latest' });
    expect(manual.status).toBe('SUCCEEDED');
    expect(manual.output).toMatchObject({ partitionDate: '2026-11-20T12:00:00.000Z', status: 'skipped' });
    expect(String(manual.output?.['reason'])).toContain('is already loaded');
  });

  it("loads an older partition when the table's olderPartitions policy is 'load'", async () => {
    await putAndSettle([object('l1/older/2026-11-20T12/part-0.json', hourRows('12', 1, 3))]);
    await putAndSettle([object('l1/older/2026-11-20T10/part-0.json', hourRows('10', 100, 2))]);

    const executions = await executionsOf(p(), 'l1_older');
    expect(executions.map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(String(executions[1]!.output?.['reason'])).toContain("olderPartitions policy is 'load'");
    expect(await rows(p(), 'SELECT _forklift_partition AS p, COUNT(*)::int AS n FROM landing.l1_older GROUP BY 1 ORDER BY 1')).toEqual([
      { p: '2026-11-20T10:00:00.000Z', n: 2 },
      { p: '2026-11-20T12:00:00.000Z', n: 3 },
    ]);
  });
});

describe('manual executions', () => {
  it('a run with a date loads exactly that partition; a date without objects fails with PartitionNotFoundError naming it', async () => {
    // Marker table, no markers: discover starts nothing, the objects wait for an operator.
    await putAndSettle([
      object('l2/manual/2026-11-20T10/part-0.json', hourRows('10', 1, 2)),
      object('l2/manual/2026-11-20T11/part-0.json', hourRows('11', 10, 3)),
      object('l2/manual/2026-11-20T12/part-0.json', hourRows('12', 20, 4)),
    ]);
    expect(await executionsOf(p(), 'l2_manual')).toEqual([]);

    const loaded = await runManual(p(), { table: 'l2_manual', date: '2026-11-20T11', force: true });
    expect(loaded.status).toBe('SUCCEEDED');
    expect(loaded.output).toMatchObject({ status: 'loaded', partitionDate: '2026-11-20T11:00:00.000Z', rows: 3, files: 1 });
    expect(await rows(p(), 'SELECT id FROM landing.l2_manual ORDER BY id')).toEqual([{ id: 10 }, { id: 11 }, { id: 12 }]);

    const missing = await runManual(p(), { table: 'l2_manual', date: '2026-11-19T05' });
    expect(missing.status).toBe('FAILED');
    expect(missing.error).toBe('PartitionNotFoundError');
    expect(missing.cause).toContain('2026-11-19T05:00:00Z');
    // Prepare failed before a plan existed: the failed row still carries the execution name as its load id.
    const audit = await rows(p(), "SELECT load_id, status, error FROM forklift.loads WHERE table_name = 'landing.l2_manual' AND status = 'failed'");
    expect(audit).toEqual([{ load_id: missing.name, status: 'failed', error: expect.stringContaining('2026-11-19T05:00:00Z') }]);
    expect(await count(p(), 'SELECT COUNT(*) AS n FROM landing.l2_manual')).toBe(3);
  });
});

describe('load rules', () => {
  it('skips an older partition with a reason, force reloads it, and every partition has exactly one copy of its rows', async () => {
    const t12 = [object('l3/rules/2026-11-20T12/a.json', hourRows('12', 1, 3)), object('l3/rules/2026-11-20T12/b.json', hourRows('12', 4, 2))];
    const t10 = [object('l3/rules/2026-11-20T10/a.json', hourRows('10', 100, 4))];
    await putAndSettle(t12);
    await putAndSettle(t10);
    expect(skippedByDiscover('l3_rules')).toEqual([expect.stringMatching(/partition 2026-11-20T10:00:00Z is older than the newest loaded partition 2026-11-20T12:00:00Z; .*use --force/)]);
    expect(await count(p(), 'SELECT COUNT(*) AS n FROM landing.l3_rules')).toBe(5);

    const unforced = await runManual(p(), { table: 'l3_rules', date: '2026-11-20T10' });
    expect(unforced.output).toMatchObject({ status: 'skipped', reason: expect.stringContaining('older than the newest loaded partition') });

    const forced = await runManual(p(), { table: 'l3_rules', date: '2026-11-20T10', force: true });
    expect(forced.output).toMatchObject({ status: 'loaded', rows: 4 });
    const again = await runManual(p(), { table: 'l3_rules', date: '2026-11-20T10', force: true });
    expect(again.output).toMatchObject({ status: 'loaded', rows: 4 });

    // Duplicate events: the same objects again start nothing new.
    const before = (await executionsOf(p(), 'l3_rules')).length;
    await putAndSettle(t12);
    expect((await executionsOf(p(), 'l3_rules')).length).toBe(before);
    // A re-run without force is skipped.
    const rerun = await runManual(p(), { table: 'l3_rules', date: '2026-11-20T12' });
    expect(rerun.output).toMatchObject({ status: 'skipped', reason: expect.stringContaining('already loaded') });

    expect(await rows(p(), 'SELECT _forklift_partition AS p, COUNT(*)::int AS n, COUNT(DISTINCT id)::int AS ids FROM landing.l3_rules GROUP BY 1 ORDER BY 1')).toEqual([
      { p: '2026-11-20T10:00:00.000Z', n: 4, ids: 4 },
      { p: '2026-11-20T12:00:00.000Z', n: 5, ids: 5 },
    ]);
    // load_files keeps every committed load's files; the table's own ledger is what the table holds (a forced reload replaces the partition's rows).
    expect(await count(p(), "SELECT COUNT(*) AS n FROM forklift.load_files WHERE table_name = 'landing.l3_rules'")).toBe(2 + 1 + 1);
    expect(await count(p(), 'SELECT COUNT(*) AS n FROM forklift.ledger__landing__l3_rules WHERE file_key IS NOT NULL')).toBe(2 + 1);
    expect(await count(p(), "SELECT COUNT(*) AS n FROM forklift.loads WHERE table_name = 'landing.l3_rules' AND status = 'loaded'")).toBe(1 + 2);
  });
});

describe('snapshots (truncate)', () => {
  const snapshot = (day: string, ids: number[]) => ({
    key: `l4/snapshot/campaigns_2026-11-${day}T00:00:00Z.csv`,
    body: ['campaign_id,name,updated_at', ...ids.map((i) => `${i},"Campaign ${i}, day ${day}",2026-11-${day}T00:00:00Z`)].join('\n') + '\n',
  });

  it('a truncate-mode table is replaced by a newer snapshot, never by an older one unless forced', async () => {
    await putAndSettle([snapshot('20', [1, 2, 3])]);
    await putAndSettle([snapshot('19', [1, 2])]);
    expect(skippedByDiscover('l4_snapshot')).toEqual([expect.stringContaining('a snapshot is replaced only by a newer one')]);
    expect(await rows(p(), 'SELECT campaign_id, name FROM landing.l4_snapshot ORDER BY 1')).toEqual([
      { campaign_id: 1, name: 'Campaign 1, day 20' },
      { campaign_id: 2, name: 'Campaign 2, day 20' },
      { campaign_id: 3, name: 'Campaign 3, day 20' },
    ]);

    const forced = await runManual(p(), { table: 'l4_snapshot', date: '2026-11-19T00:00:00Z', force: true });
    expect(forced.output).toMatchObject({ status: 'loaded', rows: 2 });
    expect(await rows(p(), 'SELECT campaign_id, name FROM landing.l4_snapshot ORDER BY 1')).toEqual([
      { campaign_id: 1, name: 'Campaign 1, day 19' },
      { campaign_id: 2, name: 'Campaign 2, day 19' },
    ]);

    await putAndSettle([snapshot('21', [4])]);
    expect(await rows(p(), 'SELECT campaign_id, name FROM landing.l4_snapshot ORDER BY 1')).toEqual([{ campaign_id: 4, name: 'Campaign 4, day 21' }]);
  });

  it('the truncate flag replaces the table with an older partition only with force', async () => {
    await putAndSettle([object('l4/flag/2026-11-20T10/a.json', hourRows('10', 1, 3))]);
    await putAndSettle([object('l4/flag/2026-11-20T09/a.json', hourRows('09', 50, 2))]);

    const unforced = await runManual(p(), { table: 'l4_flag', date: '2026-11-20T09', truncate: true });
    expect(unforced.output).toMatchObject({ status: 'skipped', reason: expect.stringContaining('truncate does not imply force') });
    expect(await count(p(), 'SELECT COUNT(*) AS n FROM landing.l4_flag')).toBe(3);

    const forced = await runManual(p(), { table: 'l4_flag', date: '2026-11-20T09', truncate: true, force: true });
    expect(forced.output).toMatchObject({ status: 'loaded', rows: 2 });
    expect(await rows(p(), 'SELECT id FROM landing.l4_flag ORDER BY id')).toEqual([{ id: 50 }, { id: 51 }]);

    // A newer partition with the table's own mode (append) adds to it.
    await putAndSettle([object('l4/flag/2026-11-20T11/a.json', hourRows('11', 70, 1))]);
    expect(await rows(p(), 'SELECT id FROM landing.l4_flag ORDER BY id')).toEqual([{ id: 50 }, { id: 51 }, { id: 70 }]);
  });
});

describe('modes', () => {
  it('replace deletes only the partition period, then inserts', async () => {
    await putAndSettle([
      object('l5/replace/2026-11-20/a.json', [{ id: 1, at: '2026-11-20T01:00:00Z', v: 1 }, { id: 2, at: '2026-11-20T23:00:00Z', v: 1 }]),
    ]);
    await putAndSettle([object('l5/replace/2026-11-21/a.json', [{ id: 3, at: '2026-11-21T05:00:00Z', v: 1 }])]);
    // A row of day 20's period inserted behind Forklift's back is part of the period: replaced too.
    await p().stack.redshiftData.server.query("INSERT INTO landing.l5_replace (id, at, v) VALUES (99, '2026-11-20 12:00:00', 9)");

    await p().put([object('l5/replace/2026-11-20/a.json', [{ id: 1, at: '2026-11-20T01:00:00Z', v: 2 }])]);
    await p().settle();
    const reload = await runManual(p(), { table: 'l5_replace', date: '2026-11-20', force: true });
    expect(reload.output).toMatchObject({ status: 'loaded', rows: 1 });
    expect(await rows(p(), 'SELECT id, v FROM landing.l5_replace ORDER BY id')).toEqual([
      { id: 1, v: 2 },
      { id: 3, v: 1 },
    ]);
  });

  it('merge upserts by the key and deletes rows whose delete flag is true', async () => {
    await putAndSettle([
      object('l5/merge/2026-11-20T10/a.json', [
        { id: 1, at: at('10', 1), v: 1, deleted: false },
        { id: 2, at: at('10', 2), v: 1 },
        { id: 3, at: at('10', 3), v: 1 },
      ]),
    ]);
    await putAndSettle([
      object('l5/merge/2026-11-20T11/a.json', [
        { id: 2, at: at('11', 1), v: 2 },
        { id: 2, at: at('11', 9), v: 3 }, // the latest row of a key wins
        { id: 3, at: at('11', 2), v: 2, deleted: true },
        { id: 4, at: at('11', 3), v: 2, deleted: false },
      ]),
    ]);
    expect(await rows(p(), 'SELECT id, v FROM landing.l5_merge ORDER BY id')).toEqual([
      { id: 1, v: 1 },
      { id: 2, v: 3 },
      { id: 4, v: 2 },
    ]);
  });
});

describe('one partition = one COPY, one execution', () => {
  it('loads a partition of 50 files with ONE COPY in ONE execution', async () => {
    const mark = p().stack.redshiftData.server.stats.statements.length;
    // The marker (written last, as producers do) says the partition is complete.
    await p().put(Array.from({ length: 50 }, (_, i) => object(`l7/many/2026-11-20T10/part-${String(i).padStart(3, '0')}.json`, hourRows('10', i * 10, 10))));
    await putAndSettle([{ key: 'l7/many/2026-11-20T10/_SUCCESS', body: 'done' }]);
    const executions = await executionsOf(p(), 'l7_many');
    expect(executions.map((e) => e.status)).toEqual(['SUCCEEDED']);
    expect(executions[0]!.output).toMatchObject({ status: 'loaded', rows: 500, files: 50 });
    const copies = statementsSince(p(), mark).filter((s) => isCopy(s) && s.includes('l7_many'));
    expect(copies).toHaveLength(1);
    expect(await count(p(), 'SELECT COUNT(DISTINCT id) AS n FROM landing.l7_many')).toBe(500);
  });
});

describe('quiet-period completeness', () => {
  it('an object landing in a partition after its load is topped up: loaded once, nothing duplicated', async () => {
    await putAndSettle([object('l7/topup/2026-11-20T10/a.json', hourRows('10', 1, 5)), object('l7/topup/2026-11-20T10/b.json', hourRows('10', 6, 5))]);
    expect(await count(p(), 'SELECT COUNT(*) AS n FROM landing.l7_topup')).toBe(10);
    await putAndSettle([object('l7/topup/2026-11-20T10/c.json', hourRows('10', 11, 5))]);
    const executions = await executionsOf(p(), 'l7_topup');
    expect(executions.map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(executions[1]!.output).toMatchObject({ status: 'loaded', rows: 5 });
    expect(await rows(p(), 'SELECT COUNT(*)::int AS n, COUNT(DISTINCT id)::int AS ids FROM landing.l7_topup')).toEqual([{ n: 15, ids: 15 }]);
    // The same objects again (duplicate events) start nothing.
    await putAndSettle([object('l7/topup/2026-11-20T10/c.json', hourRows('10', 11, 5))]);
    expect(await executionsOf(p(), 'l7_topup')).toHaveLength(2);
  });

  // Objects landing after the first execution listed the partition: their events are redelivered while it runs,
  // then the file ledger starts a top-up of the missing files (topup.test.ts covers the sequential and racing cases).
  it('an object landing while its partition is being loaded is not left out (quietSeconds 0)', async () => {
    await putAndSettle(Array.from({ length: 50 }, (_, i) => object(`l7/quiet/2026-11-20T10/part-${String(i).padStart(3, '0')}.json`, hourRows('10', i * 10, 10))));
    expect(await count(p(), 'SELECT COUNT(*) AS n FROM landing.l7_quiet')).toBe(500);
  });
});

describe('a malformed file', () => {
  it('fails the execution; table and audit are as before plus one failed row naming the file and line', async () => {
    await putAndSettle([object('l8/bad/2026-11-20T10/a.json', hourRows('10', 1, 3))]);
    const snapshot = async () => ({
      table: await rows(p(), 'SELECT id, at, v, _forklift_partition FROM landing.l8_bad ORDER BY id'),
      loads: await rows(p(), "SELECT load_id, status, partition_date FROM forklift.loads WHERE table_name = 'landing.l8_bad' ORDER BY load_id"),
      files: await rows(p(), "SELECT load_id, file_key FROM forklift.load_files WHERE table_name = 'landing.l8_bad' ORDER BY file_key"),
      hours: await rows(p(), "SELECT load_id, hour FROM forklift.affected_hours WHERE table_name = 'landing.l8_bad' ORDER BY 1, 2"),
    });
    const before = await snapshot();
    expect(before.table).toHaveLength(3);

    const bad = `${JSON.stringify({ id: 21, at: at('11'), v: 1 })}\n${JSON.stringify({ id: 22, at: at('11'), v: 'not a number' })}\n`;
    await putAndSettle([
      object('l8/bad/2026-11-20T11/a.json', hourRows('11', 10, 5)),
      { key: 'l8/bad/2026-11-20T11/b.json', body: bad },
      object('l8/bad/2026-11-20T11/c.json', hourRows('11', 30, 5)),
    ]);
    const executions = await executionsOf(p(), 'l8_bad');
    const failed = executions.find((e) => e.name === 'l8_bad-20261120T110000')!;
    expect(failed.status).toBe('FAILED');
    expect(failed.cause).toMatch(/l8\/bad\/2026-11-20T11\/b\.json/);
    expect(failed.cause).toMatch(/line 2/);

    const after = await snapshot();
    expect(after.table).toEqual(before.table);
    expect(after.files).toEqual(before.files);
    expect(after.hours).toEqual(before.hours);
    expect(after.loads).toEqual([...before.loads, { load_id: 'l8_bad-20261120T110000', status: 'failed', partition_date: '2026-11-20T11:00:00.000Z' }]);
    const [row] = await rows(p(), "SELECT error_file, error_line, error_column, error FROM forklift.loads WHERE load_id = 'l8_bad-20261120T110000'");
    expect(row).toMatchObject({ error_file: expect.stringContaining('l8/bad/2026-11-20T11/b.json'), error_line: 2, error_column: 'v' });
  });
});

describe('hostile keys', () => {
  it('never reach SQL and start nothing', async () => {
    const mark = p().stack.redshiftData.server.stats.statements.length;
    const hostile = [
      "l9/hostile/2026-11-20T10/it's.json",
      'l9/hostile/2026-11-20T10/../2026-11-20T11/x.json',
      'l9/hostile/2026-11-20T10; DROP TABLE landing.l9_hostile; --/x.json',
      'l9/hostile/2026-11-20T10/x"; DELETE FROM forklift.loads; --.json',
      'l9/hostile_x; DROP SCHEMA forklift CASCADE/2026-11-20T10/a.json',
    ];
    await putAndSettle(hostile.map((key) => object(key, hourRows('10', 1, 1))));
    expect(await executionsOf(p(), 'l9_hostile')).toEqual([]);
    const sql = statementsSince(p(), mark).join('\n');
    for (const needle of ["it's", '..', 'DROP TABLE', 'DELETE FROM forklift.loads', 'DROP SCHEMA', 'hostile_x']) expect(sql).not.toContain(needle);
    const rejected = t.log.entries.filter((e) => e.message === 'key rejected').map((e) => String(e.fields?.['key']));
    expect(rejected).toEqual(expect.arrayContaining(hostile.filter((k) => k.startsWith('l9/hostile/'))));

    // A good file next to a hostile one loads; the hostile key stays out of the SQL and the ledger.
    const mark2 = p().stack.redshiftData.server.stats.statements.length;
    await putAndSettle([object('l9/hostile/2026-11-20T10/good.json', hourRows('10', 1, 2))]);
    const executions = await executionsOf(p(), 'l9_hostile');
    expect(executions.map((e) => e.status)).toEqual(['SUCCEEDED']);
    expect(executions[0]!.output).toMatchObject({ rows: 2, files: 1 });
    expect(statementsSince(p(), mark2).join('\n')).not.toContain("it's");
  });
});

describe('bursts', () => {
  // Marker completeness: with quietSeconds 0 an execution can start (and list) before the last objects land (see the report).
  it('1,000 objects arriving at once for 10 partitions: exactly 10 executions, 10 COPYs, no duplicate rows', async () => {
    const objects = [];
    for (let h = 0; h < 10; h++) {
      const hour = String(h).padStart(2, '0');
      for (let f = 0; f < 100; f++) objects.push(object(`l10/burst/2026-11-20T${hour}/part-${String(f).padStart(3, '0')}.json`, [{ id: h * 1000 + f, at: at(hour, f % 60), v: 1 }]));
    }
    const mark = p().stack.redshiftData.server.stats.statements.length;
    await p().put(objects, { concurrency: 32 });
    await p().put(Array.from({ length: 10 }, (_, h) => ({ key: `l10/burst/2026-11-20T${String(h).padStart(2, '0')}/_SUCCESS`, body: 'done' })));
    await p().settle();

    const executions = await executionsOf(p(), 'l10_burst');
    expect(executions).toHaveLength(10);
    expect(executions.every((e) => e.status === 'SUCCEEDED' && e.output?.['status'] === 'loaded')).toBe(true);
    expect(statementsSince(p(), mark).filter((s) => isCopy(s) && s.includes('l10_burst'))).toHaveLength(10);
    expect(await rows(p(), 'SELECT COUNT(*)::int AS n, COUNT(DISTINCT id)::int AS ids FROM landing.l10_burst')).toEqual([{ n: 1000, ids: 1000 }]);
    expect(p().deadLetters).toEqual([]);
  }, 120_000); // ~15-30 s; the margin is for a loaded CI machine
});

describe('concurrency', () => {
  it('two executions of one partition started at once: one loads, the in-transaction guard skips the other', async () => {
    const files = ['l11/race/2026-11-20T10/a.json', 'l11/race/2026-11-20T10/b.json'];
    await putAndSettle([object(files[0]!, hourRows('10', 1, 3)), object(files[1]!, hourRows('10', 4, 3))]);
    expect(await executionsOf(p(), 'l11_race')).toEqual([]); // no marker: discover waits for an operator

    const input = { table: 'l11_race', date: '2026-11-20T10', files };
    const arns = await Promise.all([startManual(p(), input, 'race-a'), startManual(p(), input, 'race-b')]);
    const results = await Promise.all(arns.map((arn) => resultOf(p(), arn)));
    expect(results.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const outcomes = results.map((r) => r.output?.['status']).sort();
    expect(outcomes).toEqual(['loaded', 'skipped']);
    const skipped = results.find((r) => r.output?.['status'] === 'skipped')!;
    // The guard's reason names the load that won (Prepare's own rule has no "(by ...)").
    expect(String(skipped.output?.['reason'])).toMatch(/is already loaded \(by race-[ab]\)/);
    expect(await rows(p(), 'SELECT COUNT(*)::int AS n, COUNT(DISTINCT id)::int AS ids FROM landing.l11_race')).toEqual([{ n: 6, ids: 6 }]);
    expect(await rows(p(), "SELECT status, COUNT(*)::int AS n FROM forklift.loads WHERE table_name = 'landing.l11_race' GROUP BY 1 ORDER BY 1")).toEqual([
      { status: 'loaded', n: 1 },
      { status: 'skipped', n: 1 },
    ]);
  });
});
