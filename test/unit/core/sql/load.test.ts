import type { PGlite } from '@electric-sql/pglite';
import type { LoadMode } from '../../../../functions/core/config/schema';
import { IdentifierError } from '../../../../functions/core/errors';
import {
  aggregateTables,
  renderAggregateBatch,
  renderAggregatedLoadsDdl,
  renderAggregateTableChanges,
  type ExistingTables,
} from '../../../../functions/core/sql/aggregate';
import { renderAuditDdl } from '../../../../functions/core/sql/audit';
import { INLINE_FILE_LIST_BYTES, renderFileListInsert } from '../../../../functions/core/sql/copy';
import { renderLoadBatch, renderLoadPrerequisites, type LoadBatchArgs } from '../../../../functions/core/sql/load';
import type { Partition } from '../../../../functions/core/types';
import { expectGolden } from './golden.helpers';
import { config, openWarehouse, rows, runBatch, type FixtureRow } from './sql.helpers';

const HOUR = '2026-11-20T13:00:00Z';

function partition(table: string, date = HOUR, end = '2026-11-20T14:00:00Z', key = `p/${table}/${date.slice(0, 13)}/`): Partition {
  return {
    table,
    date: new Date(date),
    end: new Date(end),
    key,
    files: [
      { key: `${key}a.json.gz`, size: 10, lastModified: new Date(0) },
      { key: `${key}b.json.gz`, size: 20, lastModified: new Date(0) },
    ],
  };
}

function args(table: string, mode: LoadMode, over: Partial<LoadBatchArgs> = {}): LoadBatchArgs {
  const p = over.partition ?? partition(table);
  return {
    config,
    table,
    loadId: `${table}-${p.date.toISOString().slice(0, 19).replace(/[-:]/g, '')}`,
    partition: p,
    manifestUrl: 's3://landing-bucket/_forklift/manifests/x.json',
    fileListUrl: 's3://landing-bucket/_forklift/manifests/x.files.jsonl',
    mode,
    reload: false,
    force: false,
    reason: `table '${table}': loading`,
    addColumns: [],
    startedAt: new Date('2026-11-20T14:05:00Z'),
    plannedAt: new Date('2026-11-20T14:05:00.250Z'),
    ...over,
  };
}

/** A row of the example's visits table, as SQL literals. */
const visit = (id: string, at: string, visitor = 'v1', campaign = 1): FixtureRow => ({
  visit_id: `'${id}'`,
  visitor_id: `'${visitor}'`,
  campaign_id: String(campaign),
  visited_at: `'${at}'`,
  duration_ms: '100',
  revenue: '1.50',
});

describe('renderLoadBatch: golden SQL', () => {
  it.each([
    ['load-append', 'visits', 'append', {}],
    ['load-append-reload', 'visits', 'append', { reload: true, force: true }],
    ['load-replace', 'sales', 'replace', { partition: partition('sales', '2026-11-20T00:00:00Z', '2026-11-21T00:00:00Z') }],
    ['load-truncate', 'campaigns', 'truncate', {}],
    ['load-merge', 'customers', 'merge', {}],
  ] as const)('%s', (golden, table, mode, over) => {
    const batch = renderLoadBatch(args(table, mode, over));
    expectGolden(golden, batch.sqls);
    const insert = batch.sqls[batch.steps[0]!.statement - 1]!;
    expect(insert.startsWith(`INSERT INTO "${config.tables[table]!.schema}"."${table}"`)).toBe(true);
    expect(batch.outcomeStatement).toBe(batch.sqls.length);
    expect(batch.sqls[batch.outcomeStatement - 1]).toMatch(/^SELECT .* FROM "forklift_guard" g$/);
  });

  it('LOCKs the target and its ledger as its FIRST statement; new columns come right after the LOCK', () => {
    const add = 'ALTER TABLE "events"."visits" ADD COLUMN "referrer" VARCHAR(200)';
    const { sqls } = renderLoadBatch(args('visits', 'append', { addColumns: [add] }));
    expect(sqls.slice(0, 2)).toEqual(['LOCK "events"."visits", "forklift"."ledger__events__visits"', add]);
  });

  it('reads no shared audit table (loads of different tables never conflict on Redshift): writes to them are blind', () => {
    const { sqls } = renderLoadBatch(args('visits', 'append'));
    const shared = /"forklift"\."(loads|load_files|affected_hours)"/;
    for (const sql of sqls) {
      const read = sql.replace(/^INSERT INTO "forklift"\."(loads|load_files|affected_hours)"/, '');
      expect([sql, shared.test(read)]).toEqual([sql, false]);
    }
  });

  it('stages into the config columns only (a Parquet COPY needs the table to have exactly the file\'s columns)', () => {
    const { sqls } = renderLoadBatch(args('customers', 'merge'));
    expect(sqls.find((s) => s.startsWith('CREATE TEMP TABLE "forklift_staging"'))).toBe(
      'CREATE TEMP TABLE "forklift_staging" ("customer_id" INTEGER NOT NULL, "name" VARCHAR(100), "updated_at" TIMESTAMP, "deleted" BOOLEAN)',
    );
  });

  it('a short file list is written into the batch: one COPY per load, no file list to read from S3', () => {
    const small = renderLoadBatch(args('visits', 'append'));
    const p = partition('visits');
    expect(small.sqls).toContain(
      `INSERT INTO "forklift_files" (file_key, bytes, etag) VALUES ('${p.key}a.json.gz', 10, NULL), ('${p.key}b.json.gz', 20, NULL)`,
    );
    expect(small.sqls.filter((s) => s.startsWith('COPY '))).toHaveLength(1);
    expect(small.readsFileList).toBe(false);
  });

  it('the batch has the same size whatever the number of files: a long file list is COPYed from S3', () => {
    const many = partition('visits');
    many.files = Array.from({ length: 2000 }, (_, i) => ({ key: `${many.key}${'x'.repeat(100)}-${i}.json.gz`, size: i, lastModified: new Date(0) }));
    const small = renderLoadBatch(args('visits', 'append'));
    const big = renderLoadBatch(args('visits', 'append', { partition: many }));
    expect(big.sqls.length).toBe(small.sqls.length);
    expect(Math.max(...big.sqls.map((s) => Buffer.byteLength(s)))).toBeLessThan(100 * 1024);
    expect(big.sqls.filter((s) => s.startsWith('COPY "forklift_files"'))).toHaveLength(1);
    expect(big.readsFileList).toBe(true);
    // The longest list inlined stays within INLINE_FILE_LIST_BYTES; one more file and it is COPYed.
    let n = 1;
    while (renderFileListInsert('forklift_files', many.files.slice(0, n + 1)) !== undefined) n++;
    expect(Buffer.byteLength(renderFileListInsert('forklift_files', many.files.slice(0, n))!)).toBeLessThan(INLINE_FILE_LIST_BYTES + 200);
    expect(renderLoadBatch(args('visits', 'append', { partition: { ...many, files: many.files.slice(0, n) } })).readsFileList).toBe(false);
    expect(renderLoadBatch(args('visits', 'append', { partition: { ...many, files: many.files.slice(0, n + 1) } })).readsFileList).toBe(true);
  });

  it('a file key that is not a plain literal (a backslash) is never written into SQL: its list is COPYed', () => {
    const p = partition('visits');
    p.files = [...p.files, { key: `${p.key}c\\d.json.gz`, size: 5, lastModified: new Date(0), etag: '"e1"' }];
    const batch = renderLoadBatch(args('visits', 'append', { partition: p }));
    expect(batch.readsFileList).toBe(true);
    expect(batch.sqls.join('\n')).not.toContain('c\\d');
  });

  it('escapes a quote in a partition key and refuses a backslash', () => {
    const quoted = renderLoadBatch(args('visits', 'append', { partition: partition('visits', HOUR, '2026-11-20T14:00:00Z', "p/o'brien/") }));
    expect(quoted.sqls.join('\n')).toContain("'p/o''brien/'");
    expect(quoted.sqls.join('\n')).not.toMatch(/[^']'brien/);
    expect(() => renderLoadBatch(args('visits', 'append', { partition: partition('visits', HOUR, '2026-11-20T14:00:00Z', 'p\\x/') }))).toThrow(IdentifierError);
    expect(() => renderLoadBatch(args('visits', 'append', { loadId: "x'; DROP TABLE y; --\\" }))).toThrow(IdentifierError);
  });
});

describe('renderLoadBatch on Postgres (PGlite)', () => {
  let db: PGlite;
  beforeAll(async () => {
    db = await openWarehouse();
  });
  afterAll(async () => {
    await db.close();
  });

  /** Runs a load's prerequisites (as the warehouse-state read does), then its batch with its partition's files as the file list. */
  const runLoad = async (a: LoadBatchArgs, staged: FixtureRow[]) => {
    await runBatch(db, [...renderAuditDdl(config.warehouse.auditSchema), ...renderLoadPrerequisites(config, a.table)]);
    return runBatch(db, renderLoadBatch(a).sqls, staged, a.partition.files);
  };


  it('appends once: the second run of the same partition is skipped by the guard; a forced reload does not duplicate', async () => {
    const staged = [visit('a', '2026-11-20 13:05:00'), visit('b', '2026-11-20 13:55:00', 'v2')];
    const first = await runLoad(args('visits', 'append'), staged);
    expect(first).toEqual([{ status: 'loaded', reason: "table 'visits': loading", rows_loaded: 2 }]);
    const second = await runLoad(args('visits', 'append', { loadId: 'visits-again' }), staged);
    expect(second).toEqual([
      {
        status: 'skipped',
        reason:
          "table 'visits': partition 2026-11-20T13:00:00Z: file p/visits/2026-11-20T13/a.json.gz is already loaded (by visits-20261120T130000); use --force to reload the partition",
        rows_loaded: 0,
      },
    ]);
    expect(await rows(db, 'SELECT visit_id FROM events.visits ORDER BY 1')).toEqual([{ visit_id: 'a' }, { visit_id: 'b' }]);
    expect(await rows(db, "SELECT count(*)::int AS n FROM forklift.load_files WHERE load_id = 'visits-again'")).toEqual([{ n: 0 }]);
    expect(await rows(db, "SELECT count(*)::int AS n FROM forklift.affected_hours WHERE load_id = 'visits-again'")).toEqual([{ n: 0 }]);

    const forced = await runLoad(args('visits', 'append', { loadId: 'visits-forced', force: true, reload: true }), [
      visit('a', '2026-11-20 13:05:00'),
      visit('c', '2026-11-20 13:10:00', 'v3'),
    ]);
    expect(forced).toEqual([{ status: 'loaded', reason: "table 'visits': loading", rows_loaded: 2 }]);
    expect(await rows(db, 'SELECT visit_id, _forklift_partition::text AS p FROM events.visits ORDER BY 1')).toEqual([
      { visit_id: 'a', p: '2026-11-20 13:00:00' },
      { visit_id: 'c', p: '2026-11-20 13:00:00' },
    ]);
    expect(await rows(db, "SELECT file_key, bytes::int AS bytes FROM forklift.load_files WHERE load_id = 'visits-forced' ORDER BY 1")).toEqual([
      { file_key: 'p/visits/2026-11-20T13/a.json.gz', bytes: 10 },
      { file_key: 'p/visits/2026-11-20T13/b.json.gz', bytes: 20 },
    ]);
    // affected hours: the staged rows' hour, for the one time column the aggregates use
    expect(await rows(db, "SELECT time_column, hour::text AS hour FROM forklift.affected_hours WHERE load_id = 'visits-forced'")).toEqual([
      { time_column: 'visited_at', hour: '2026-11-20 13:00:00' },
    ]);
    expect(await rows(db, "SELECT has_table_privilege('analysts', 'events.visits', 'SELECT') AS ok")).toEqual([{ ok: true }]);
  });

  it('a skipped load changes nothing and keeps the previous rows', async () => {
    const before = await rows(db, 'SELECT count(*)::int AS n FROM events.visits');
    await runLoad(args('visits', 'append', { loadId: 'visits-third' }), [visit('z', '2026-11-20 13:30:00')]);
    expect(await rows(db, 'SELECT count(*)::int AS n FROM events.visits')).toEqual(before);
  });

  it('append, exactly once per file: a top-up of new files loads; a load with any file of the ledger is skipped, naming it', async () => {
    const p = partition('visits', '2026-11-20T16:00:00Z', '2026-11-20T17:00:00Z');
    const file = (name: string, size = 5) => ({ key: `${p.key}${name}`, size, lastModified: new Date(0) });
    const first = await runLoad(args('visits', 'append', { partition: p, loadId: 'v16' }), [visit('f1', '2026-11-20 16:05:00')]);
    expect(first[0]).toMatchObject({ status: 'loaded' });
    const topUp = { ...p, files: [file('c.json.gz'), file('d.json.gz')] };
    const second = await runLoad(args('visits', 'append', { partition: topUp, loadId: 'v16-topup' }), [visit('f2', '2026-11-20 16:10:00')]);
    expect(second[0]).toMatchObject({ status: 'loaded', rows_loaded: 1 });
    expect(await rows(db, "SELECT file_key FROM forklift.load_files WHERE load_id = 'v16-topup' ORDER BY 1")).toEqual([
      { file_key: 'p/visits/2026-11-20T16/c.json.gz' },
      { file_key: 'p/visits/2026-11-20T16/d.json.gz' },
    ]);
    // A racing top-up planned from a stale ledger: d is new, c is not → skipped as a whole, nothing duplicated.
    const stale = { ...p, files: [file('c.json.gz'), file('e.json.gz')] };
    expect(await runLoad(args('visits', 'append', { partition: stale, loadId: 'v16-stale' }), [visit('f2', '2026-11-20 16:10:00')])).toEqual([
      {
        status: 'skipped',
        reason: "table 'visits': partition 2026-11-20T16:00:00Z: file p/visits/2026-11-20T16/c.json.gz is already loaded (by v16-topup); use --force to reload the partition",
        rows_loaded: 0,
      },
    ]);
    expect(await rows(db, "SELECT visit_id FROM events.visits WHERE _forklift_partition = '2026-11-20 16:00:00' ORDER BY 1")).toEqual([{ visit_id: 'f1' }, { visit_id: 'f2' }]);
  });

  it('replace deletes only the partition period', async () => {
    const sale = (id: number, at: string): FixtureRow => ({ sale_id: String(id), sold_at: `'${at}'`, amount: '5.00' });
    const day = (d: string) => partition('sales', `${d}T00:00:00Z`, new Date(Date.parse(`${d}T00:00:00Z`) + 86400000).toISOString());
    await runLoad(args('sales', 'replace', { partition: day('2026-11-19'), loadId: 's19' }), [sale(1, '2026-11-19 23:59:59')]);
    await runLoad(args('sales', 'replace', { partition: day('2026-11-20'), loadId: 's20' }), [
      sale(2, '2026-11-20 00:00:00'),
      sale(3, '2026-11-20 12:00:00'),
    ]);
    await runLoad(args('sales', 'replace', { partition: day('2026-11-21'), loadId: 's21' }), [sale(4, '2026-11-21 00:00:00')]);
    const reload = args('sales', 'replace', { partition: day('2026-11-20'), loadId: 's20-again', force: true, reload: true });
    expect(await runLoad(reload, [sale(5, '2026-11-20 08:00:00')])).toEqual([{ status: 'loaded', reason: "table 'sales': loading", rows_loaded: 1 }]);
    expect(await rows(db, 'SELECT sale_id::int AS id FROM events.sales ORDER BY 1')).toEqual([{ id: 1 }, { id: 4 }, { id: 5 }]);
  });

  it('replace, merge, truncate: a load of the same files is skipped; a reload with a new file runs', async () => {
    const sale = (id: number, at: string): FixtureRow => ({ sale_id: String(id), sold_at: `'${at}'`, amount: '5.00' });
    const day = partition('sales', '2026-11-25T00:00:00Z', '2026-11-26T00:00:00Z');
    await runLoad(args('sales', 'replace', { partition: day, loadId: 's25' }), [sale(31, '2026-11-25 01:00:00')]);
    const same = await runLoad(args('sales', 'replace', { partition: day, loadId: 's25-same', reload: true }), [sale(32, '2026-11-25 02:00:00')]);
    expect(same).toEqual([
      { status: 'skipped', reason: "table 'sales': partition 2026-11-25T00:00:00Z is already loaded (by s25); use --force to reload it", rows_loaded: 0 },
    ]);
    const more = { ...day, files: [...day.files, { key: `${day.key}c.json.gz`, size: 1, lastModified: new Date(0) }] };
    const topUp = await runLoad(args('sales', 'replace', { partition: more, loadId: 's25-more', reload: true }), [
      sale(31, '2026-11-25 01:00:00'),
      sale(33, '2026-11-25 03:00:00'),
    ]);
    expect(topUp[0]).toMatchObject({ status: 'loaded', rows_loaded: 2 });
    expect(await rows(db, "SELECT sale_id::int AS id FROM events.sales WHERE sold_at >= '2026-11-25' ORDER BY 1")).toEqual([{ id: 31 }, { id: 33 }]);
  });

  it('truncate replaces the table, and an older snapshot is skipped by the guard', async () => {
    const c = (id: number, name: string): FixtureRow => ({ campaign_id: String(id), name: `'${name}'`, updated_at: "'2026-11-20 00:00:00'" });
    const snap = (d: string) => partition('campaigns', d, d, `dims/campaigns/campaigns_${d}.csv`);
    await runLoad(args('campaigns', 'truncate', { partition: snap('2026-11-20T00:00:00Z'), loadId: 'c1' }), [c(1, 'a'), c(2, 'b')]);
    await runLoad(args('campaigns', 'truncate', { partition: snap('2026-11-21T00:00:00Z'), loadId: 'c2' }), [c(3, 'c')]);
    const older = await runLoad(args('campaigns', 'truncate', { partition: snap('2026-11-19T00:00:00Z'), loadId: 'c0' }), [c(9, 'old')]);
    expect(older).toEqual([
      {
        status: 'skipped',
        reason:
          "table 'campaigns': partition 2026-11-19T00:00:00Z is older than the newest loaded snapshot 2026-11-21T00:00:00Z; use --force to load it anyway",
        rows_loaded: 0,
      },
    ]);
    expect(await rows(db, 'SELECT campaign_id AS id, name FROM public.campaigns ORDER BY 1')).toEqual([{ id: 3, name: 'c' }]);
  });

  it('merge upserts by key, keeps the latest duplicate and deletes flagged rows', async () => {
    const cu = (id: number, name: string, at: string, deleted = false): FixtureRow => ({
      customer_id: String(id),
      name: `'${name}'`,
      updated_at: `'${at}'`,
      deleted: String(deleted),
    });
    const day = (d: string, id: string) => ({ partition: partition('customers', `${d}T00:00:00Z`, `${d}T23:59:59Z`), loadId: id });
    await runLoad(args('customers', 'merge', day('2026-11-20', 'm1')), [
      cu(1, 'ann', '2026-11-20 01:00:00'),
      cu(2, 'bob', '2026-11-20 01:00:00'),
      cu(3, 'cid', '2026-11-20 01:00:00'),
    ]);
    const second = await runLoad(args('customers', 'merge', day('2026-11-21', 'm2')), [
      cu(1, 'ann v2', '2026-11-21 01:00:00'),
      cu(1, 'ann v3', '2026-11-21 02:00:00'),
      cu(2, 'bob', '2026-11-21 01:00:00', true),
      cu(4, 'dee', '2026-11-21 01:00:00'),
      cu(5, 'gone', '2026-11-21 01:00:00', true),
    ]);
    expect(second[0]).toMatchObject({ status: 'loaded', rows_loaded: 5 });
    expect(await rows(db, 'SELECT customer_id AS id, name FROM crm.customers ORDER BY 1')).toEqual([
      { id: 1, name: 'ann v3' },
      { id: 3, name: 'cid' },
      { id: 4, name: 'dee' },
    ]);
  });

  it('merge is newest-wins per key: a late, older window never replaces or deletes newer rows, and its new keys are inserted', async () => {
    const cu = (id: number, name: string, at: string, deleted = false): FixtureRow => ({
      customer_id: String(id),
      name: `'${name}'`,
      updated_at: `'${at}'`,
      deleted: String(deleted),
    });
    const day = (d: string, id: string) => ({ partition: partition('customers', `${d}T00:00:00Z`, `${d}T23:59:59Z`), loadId: id });
    await runBatch(db, renderLoadBatch(args('customers', 'merge', day('2026-12-10', 'n1'))).sqls, [
      cu(11, 'kim v10', '2026-12-10 01:00:00'),
      cu(12, 'lee v10', '2026-12-10 01:00:00'),
    ]);
    // The window of the 8th arrives late: 11 and 12 are older than the table's, 13 is new, 12's deletion is older.
    const late = await runBatch(db, renderLoadBatch(args('customers', 'merge', day('2026-12-08', 'n2'))).sqls, [
      cu(11, 'kim v8', '2026-12-08 01:00:00'),
      cu(12, 'lee', '2026-12-08 01:00:00', true),
      cu(13, 'max v8', '2026-12-08 01:00:00'),
    ]);
    expect(late[0]).toMatchObject({ status: 'loaded' });
    // A newer window for the same keys wins, including a deletion.
    await runBatch(db, renderLoadBatch(args('customers', 'merge', day('2026-12-11', 'n3'))).sqls, [
      cu(12, 'lee', '2026-12-11 01:00:00', true),
      cu(13, 'max v11', '2026-12-11 01:00:00'),
    ]);
    expect(await rows(db, 'SELECT customer_id AS id, name FROM crm.customers WHERE customer_id > 10 ORDER BY 1')).toEqual([
      { id: 11, name: 'kim v10' },
      { id: 13, name: 'max v11' },
    ]);
  });

  it('rolls back everything when a statement fails (no loads row, no rows)', async () => {
    const bad = args('visits', 'append', { partition: partition('visits', '2026-11-20T15:00:00Z', '2026-11-20T16:00:00Z'), loadId: 'bad' });
    await expect(runLoad(bad, [{ visit_id: "'x'", visitor_id: 'NULL', campaign_id: '1', visited_at: "'2026-11-20 15:00:00'" }])).rejects.toThrow();
    expect(await rows(db, "SELECT count(*)::int AS n FROM forklift.loads WHERE load_id = 'bad'")).toEqual([{ n: 0 }]);
  });
});

describe('renderLoadBatch with its aggregates inside (one transaction)', () => {
  // The declarative aggregates of visits (big_spenders_hourly is raw SQL: it keeps its own batch).
  const names = ['visits_hourly', 'visits_daily', 'visitors_daily'];
  const tables = names.flatMap((a) => aggregateTables(config, a));
  const existing: ExistingTables = new Map(tables.map((t) => [`${t.schema}.${t.name}`, t.columns.map((c) => ({ name: c.name, type: c.type }))]));
  const withAggregates = (over: Partial<LoadBatchArgs> = {}): LoadBatchArgs => ({ ...args('visits', 'append', over), aggregates: { names, existing } });

  it('golden SQL', () => {
    expectGolden('load-append-aggregates', renderLoadBatch(withAggregates()).sqls);
  });

  it('LOCKs every table it writes (target, ledger, fact and hidden tables) in its FIRST statement, in sorted order; fact steps index the load batch', () => {
    const batch = renderLoadBatch(withAggregates());
    const locked = ['"events"."visits"', '"forklift"."ledger__events__visits"', ...tables.map((t) => `"${t.schema}"."${t.name}"`)].sort();
    expect(batch.sqls[0]).toBe(`LOCK ${locked.join(', ')}`);
    for (const step of batch.steps.filter((s) => s.kind === 'fact')) {
      expect(step.batch).toBe('load');
      expect(batch.sqls[step.statement - 1]!.startsWith(`INSERT INTO "facts"."${step.name}"`)).toBe(true);
    }
    expect(batch.steps.filter((s) => s.kind === 'fact').map((s) => s.name)).toEqual(names);
    expect(batch.sqls[batch.outcomeStatement - 1]).toMatch(/^SELECT .* FROM "forklift_guard" g$/);
  });

  it('reads no shared audit table: affected hours, done marks and audit rows are blind writes; buckets come from the load\'s own hours', () => {
    const { sqls } = renderLoadBatch(withAggregates());
    const shared = /"forklift"\."(loads|load_files|affected_hours|aggregated_loads)"/;
    for (const sql of sqls) {
      const read = sql.replace(/^INSERT INTO "forklift"\."(loads|load_files|affected_hours|aggregated_loads)"/, '');
      expect([sql, shared.test(read)]).toEqual([sql, false]);
    }
    expect(sqls.join('\n')).toContain('FROM "forklift_hours" WHERE time_column = \'visited_at\'');
  });

  it('refuses a raw-SQL aggregate (it has literal {{start}}/{{end}} bounds: its own batch)', () => {
    expect(() => renderLoadBatch({ ...args('visits', 'append'), aggregates: { names: ['big_spenders_hourly'], existing } })).toThrow(/raw-SQL aggregate/);
  });

  describe('on Postgres (PGlite): the facts equal a full recompute after appends, a late row, a skip and a forced reload', () => {
    let db: PGlite;
    beforeAll(async () => {
      db = await openWarehouse();
      const audit = config.warehouse.auditSchema;
      await runBatch(db, [
        ...renderAuditDdl(audit),
        renderAggregatedLoadsDdl(audit),
        ...renderLoadPrerequisites(config, 'visits'),
        ...new Set(tables.flatMap((t) => renderAggregateTableChanges(t, undefined))),
      ]);
    });
    afterAll(async () => {
      await db.close();
    });

    const facts = async () => ({
      hourly: await rows(db, 'SELECT bucket::text AS bucket, campaign_id, visits::int AS visits, visitors::int AS visitors, revenue::float AS revenue, avg_duration_ms FROM facts.visits_hourly ORDER BY 1, 2'),
      daily: await rows(db, 'SELECT bucket::text AS bucket, campaign_id, visits::int AS visits, avg_duration_ms, max_revenue::float AS max_revenue FROM facts.visits_daily ORDER BY 1, 2'),
      visitors: await rows(db, 'SELECT bucket::text AS bucket, visitors::int AS visitors FROM facts.visitors_daily ORDER BY 1'),
    });
    const load = (date: string, end: string, loadId: string, staged: FixtureRow[], over: Partial<LoadBatchArgs> = {}) =>
      runBatch(db, renderLoadBatch(withAggregates({ partition: partition('visits', date, end), loadId, ...over })).sqls, staged, partition('visits', date, end).files);

    const range = { start: new Date('2026-11-20T00:00:00Z'), end: new Date('2026-11-21T00:00:00Z') };
    /** The facts now, then a full recompute of the day must leave them as they are. */
    const expectExact = async () => {
      const incremental = await facts();
      await runBatch(db, renderAggregateBatch({ config, work: names.map((aggregate) => ({ aggregate, range })), existing }).sqls);
      expect(await facts()).toEqual(incremental);
      return incremental;
    };

    it('two appends of one day (a visitor seen again, a late row), a skipped load, a forced reload', async () => {
      expect(await load('2026-11-20T13:00:00Z', '2026-11-20T14:00:00Z', 'h13', [visit('a', '2026-11-20 13:05:00', 'v1'), visit('b', '2026-11-20 13:55:00', 'v2', 2)])).toEqual([
        { status: 'loaded', reason: "table 'visits': loading", rows_loaded: 2 },
      ]);
      // Same day, a visitor seen before (the day's distinct count must not count v1 twice), and a late row of 10:00.
      await load('2026-11-20T14:00:00Z', '2026-11-20T15:00:00Z', 'h14', [visit('c', '2026-11-20 14:10:00', 'v1'), visit('d', '2026-11-20 14:20:00', 'v3'), visit('e', '2026-11-20 10:30:00', 'v4')]);
      // The guard skips a second load of the same files: no change, no done marks.
      await load('2026-11-20T14:00:00Z', '2026-11-20T15:00:00Z', 'h14-again', [visit('x', '2026-11-20 14:40:00', 'v9')]);
      expect(await rows(db, "SELECT COUNT(*)::int AS n FROM forklift.aggregated_loads WHERE load_id = 'h14-again'")).toEqual([{ n: 0 }]);
      // The appends added the day's new members only: v1, v2, v3, v4.
      expect((await expectExact()).visitors).toEqual([{ bucket: '2026-11-20 00:00:00', visitors: 4 }]);

      // A forced reload replaces the partition's rows: hours of deleted and inserted rows are recomputed.
      await load('2026-11-20T13:00:00Z', '2026-11-20T14:00:00Z', 'h13-forced', [visit('f', '2026-11-20 13:15:00', 'v5')], { reload: true, force: true });
      const incremental = await expectExact();
      expect(incremental.visitors).toEqual([{ bucket: '2026-11-20 00:00:00', visitors: 4 }]);
      expect(await rows(db, 'SELECT aggregate_name, load_id FROM forklift.aggregated_loads ORDER BY 2, 1')).toEqual(
        ['h13', 'h13-forced', 'h14'].flatMap((id) => [...names].sort().map((a) => ({ aggregate_name: a, load_id: id }))),
      );
      expect(incremental.hourly.map((r) => [r['bucket'], r['campaign_id'], r['visits']])).toEqual([
        ['2026-11-20 10:00:00', 1, 1],
        ['2026-11-20 13:00:00', 1, 1],
        ['2026-11-20 14:00:00', 1, 2],
      ]);
    });

    it('an append to a day whose members an older version never kept counts the day from its key sets, then adds to it', async () => {
      await runBatch(db, ['DELETE FROM facts.visitors_daily__visitors__members', 'DELETE FROM facts.visitors_daily__visitors__counts']);
      await load('2026-11-20T15:00:00Z', '2026-11-20T16:00:00Z', 'h15', [visit('g', '2026-11-20 15:10:00', 'v1'), visit('h', '2026-11-20 15:20:00', 'v6')]);
      expect((await expectExact()).visitors).toEqual([{ bucket: '2026-11-20 00:00:00', visitors: 5 }]);
      await load('2026-11-20T16:00:00Z', '2026-11-20T17:00:00Z', 'h16', [visit('i', '2026-11-20 16:10:00', 'v6'), visit('j', '2026-11-20 16:20:00', 'v7')]);
      expect((await expectExact()).visitors).toEqual([{ bucket: '2026-11-20 00:00:00', visitors: 6 }]);
      expect(await rows(db, 'SELECT n::int AS n FROM facts.visitors_daily__visitors__counts')).toEqual([{ n: 6 }]);
    });
  });
});
