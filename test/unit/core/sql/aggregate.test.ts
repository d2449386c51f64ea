import type { PGlite } from '@electric-sql/pglite';
import { aggregateScope, planAggregateBatch, pendingScope, type AggregatePlan } from '../../../../functions/core/aggregateRun';
import { parseConfig } from '../../../../functions/core/config/load';
import type { ForkliftConfig } from '../../../../functions/core/config/schema';
import { renderAuditDdl } from '../../../../functions/core/sql/audit';
import {
  aggregatesFedBy,
  aggregateTables,
  bucketRanges,
  checkAggregateLimits,
  MAX_BATCH_STATEMENTS,
  MAX_RANGES,
  parseAggregateColumns,
  parsePending,
  rangePredicate,
  renderAggregateBatch,
  renderAggregateColumnsQuery,
  renderAggregatedLoadsDdl,
  renderPendingQuery,
} from '../../../../functions/core/sql/aggregate';
import { renderLoadBatch, renderLoadPrerequisites } from '../../../../functions/core/sql/load';
import type { LoadMode } from '../../../../functions/core/config/schema';
import type { ExistingColumn, LoadInput } from '../../../../functions/core/types';
import { expectGolden } from './golden.helpers';
import { configInput, openWarehouse, rows, runBatch, type FixtureRow } from './sql.helpers';

const ALL = ['visits_hourly', 'visits_daily', 'visitors_daily', 'big_spenders_hourly'];
const h = (iso: string) => new Date(`${iso}:00:00Z`);

/** The shared fixture config plus a merge-mode table and a day-grain aggregate of every measure kind with a dimension. */
const input = structuredClone(configInput);
input.tables!['orders'] = {
  schema: 'events',
  prefix: 'orders/',
  partition: "{date:yyyy-MM-dd'T'HH}/",
  format: { type: 'json' },
  columns: {
    order_id: { type: 'integer', nullable: false },
    customer: 'varchar(20)',
    status: 'varchar(10)',
    amount: 'integer',
    ordered_at: { type: 'timestamp', nullable: false },
    deleted: 'boolean',
  },
  dataDateColumn: 'ordered_at',
  mode: 'merge',
  primaryKey: ['order_id'],
  deleteFlagColumn: 'deleted',
};
input.aggregates!['orders_daily'] = {
  schema: 'facts',
  source: 'orders',
  timeColumn: 'ordered_at',
  grain: 'day',
  dimensions: ['status'],
  measures: {
    orders: { fn: 'count' },
    amounts: { fn: 'count', column: 'amount' },
    customers: { fn: 'count_distinct', column: 'customer' },
    total: { fn: 'sum', column: 'amount' },
    smallest: { fn: 'min', column: 'amount' },
    largest: { fn: 'max', column: 'amount' },
    avg_amount: { fn: 'avg', column: 'amount' },
  },
  readOnlyGroups: ['analysts'],
};
const config: ForkliftConfig = parseConfig(input);

describe('aggregatesFedBy', () => {
  it('lists the aggregates fed by a table, transitively, in dependency order', () => {
    expect(aggregatesFedBy(config, 'visits')).toEqual(ALL);
    expect(aggregatesFedBy(config, 'sales')).toEqual([]);
  });

  it('leaves out a disabled aggregate (enabled: false)', () => {
    const off = { ...config, aggregates: { ...config.aggregates, visitors_daily: { ...config.aggregates['visitors_daily']!, enabled: false } } };
    expect(aggregatesFedBy(off, 'visits')).toEqual(ALL.filter((a) => a !== 'visitors_daily'));
  });
});

describe('bucket ranges and literal predicates', () => {
  it('merges adjacent hours, aligns to the grain, and bounds with literals (no DATE_TRUNC IN subquery)', () => {
    const hours = [h('2026-11-20T13'), h('2026-11-20T10'), h('2026-11-20T11'), h('2026-11-21T02')];
    expect(bucketRanges(hours, 'hour').map((r) => [r.start.toISOString(), r.end.toISOString()])).toEqual([
      ['2026-11-20T10:00:00.000Z', '2026-11-20T12:00:00.000Z'],
      ['2026-11-20T13:00:00.000Z', '2026-11-20T14:00:00.000Z'],
      ['2026-11-21T02:00:00.000Z', '2026-11-21T03:00:00.000Z'],
    ]);
    expect(bucketRanges(hours, 'day').map((r) => [r.start.toISOString(), r.end.toISOString()])).toEqual([['2026-11-20T00:00:00.000Z', '2026-11-22T00:00:00.000Z']]);
    expect(rangePredicate('"t"', bucketRanges([h('2026-11-20T10')], 'hour'))).toBe(
      `"t" >= '2026-11-20 10:00:00'::timestamp AND "t" < '2026-11-20 11:00:00'::timestamp`,
    );
  });

  it('more than MAX_RANGES ranges collapse into their covering range', () => {
    const hours = Array.from({ length: MAX_RANGES + 1 }, (_, i) => new Date(Date.UTC(2026, 0, 1, i * 2)));
    expect(bucketRanges(hours, 'hour')).toHaveLength(1);
  });
});

describe('renderAggregateBatch', () => {
  const pendingWork = (names: string[], hours: Date[]) => names.map((aggregate) => ({ aggregate, hours }));

  it('golden SQL for pending hours: LOCK, literal bounds, partials and key sets for the day-grain distinct, done marks', () => {
    const batch = renderAggregateBatch({
      config,
      work: pendingWork(ALL, [h('2026-11-20T13'), h('2026-11-20T14')]),
      loads: new Map(ALL.map((a) => [a, ['visits-20261120T130000']])),
      now: new Date('2026-11-20T15:00:00Z'),
    });
    expectGolden('aggregate-load', batch.sqls);
    expect(batch.covered).toEqual(ALL);
    expect(batch.sqls.some((s) => /\bIN \(SELECT/i.test(s))).toBe(false);
    // Each step points at its fact INSERT.
    for (const step of batch.steps) expect(batch.sqls[step.statement - 1]!.startsWith(`INSERT INTO "facts"."${step.name}" `)).toBe(true);
    expect(batch.steps.map((s) => s.name)).toEqual(ALL);
  });

  it('range run: bounds aligned to the grain, literals, no done marks', () => {
    const range = { start: new Date('2026-11-20T10:30:00Z'), end: new Date('2026-11-21T00:00:00Z') };
    const batch = renderAggregateBatch({ config, work: ['visits_daily', 'big_spenders_hourly'].map((aggregate) => ({ aggregate, range })) });
    expectGolden('aggregate-range', batch.sqls);
    expect(batch.sqls.some((s) => s.includes('aggregated_loads'))).toBe(false);
  });

  it('with every table in place, LOCK is the first statement and names every table the batch writes or reads from another aggregate', () => {
    const plan = renderAggregateBatch({ config, work: pendingWork(ALL, [h('2026-11-20T13')]), existing: fullTables(ALL), now: new Date(0) });
    expect(plan.sqls[0]).toBe(
      'LOCK "facts"."big_spenders_hourly", "facts"."visitors_daily", "facts"."visitors_daily__partials", "facts"."visitors_daily__visitors__counts", "facts"."visitors_daily__visitors__keys", "facts"."visitors_daily__visitors__members", "facts"."visits_daily", "facts"."visits_hourly"',
    );
  });

  it('a missing measure column is added with one ALTER TABLE per column, before the LOCK; a changed type is refused', () => {
    const existing = fullTables(['visits_hourly']);
    existing.set('facts.visits_hourly', existing.get('facts.visits_hourly')!.filter((c) => c.name !== 'visitors' && c.name !== 'revenue'));
    const batch = renderAggregateBatch({ config, work: pendingWork(['visits_hourly'], [h('2026-11-20T13')]), existing, now: new Date(0) });
    expect(batch.sqls.slice(0, 3)).toEqual([
      'ALTER TABLE "facts"."visits_hourly" ADD COLUMN "visitors" BIGINT',
      'ALTER TABLE "facts"."visits_hourly" ADD COLUMN "revenue" DECIMAL(38,2)',
      'LOCK "facts"."visits_hourly"',
    ]);
    expect(batch.addedColumns).toEqual([{ aggregate: 'visits_hourly', columns: ['"visitors"', '"revenue"'] }]);
    existing.set('facts.visits_hourly', [...existing.get('facts.visits_hourly')!, { name: 'visitors', type: { base: 'VARCHAR', length: 10 } }]);
    expect(() => renderAggregateBatch({ config, work: pendingWork(['visits_hourly'], [h('2026-11-20T13')]), existing })).toThrow(
      /column 'visitors': VARCHAR\(10\) -> BIGINT cannot be changed in place; drop the table and run `forklift backfill --aggregate`/,
    );
  });

  it('readOnlyGroups: USAGE, SELECT and default privileges for tables created later in the schema', () => {
    const batch = renderAggregateBatch({ config, work: pendingWork(['orders_daily'], [h('2026-11-20T13')]), existing: fullTables(['orders_daily']) });
    expect(batch.sqls.slice(-3)).toEqual([
      'GRANT USAGE ON SCHEMA "facts" TO GROUP "analysts"',
      'GRANT SELECT ON "facts"."orders_daily" TO GROUP "analysts"',
      'ALTER DEFAULT PRIVILEGES IN SCHEMA "facts" GRANT SELECT ON TABLES TO GROUP "analysts"',
    ]);
    expect(batch.skippedGroups).toEqual([]);
  });

  it('with the existing groups read, grants to those only and names the missing ones (a GRANT to a missing group fails the batch)', () => {
    const work = pendingWork(['orders_daily'], [h('2026-11-20T13')]);
    const missing = renderAggregateBatch({ config, work, existing: fullTables(['orders_daily']), existingGroups: new Set() });
    expect(missing.sqls.filter((s) => / TO GROUP /.test(s))).toEqual([]);
    expect(missing.skippedGroups).toEqual(['analysts']);
    const present = renderAggregateBatch({ config, work, existing: fullTables(['orders_daily']), existingGroups: new Set(['analysts']) });
    expect(present.sqls.filter((s) => / TO GROUP /.test(s))).toHaveLength(3);
    expect(present.skippedGroups).toEqual([]);
    // planAggregateBatch carries them to Prepare, which warns.
    const plan = planAggregateBatch({
      config, input: { aggregateOnly: true, aggregates: ['orders_daily'], start: '2026-11-20T00:00:00Z', end: '2026-11-21T00:00:00Z' } as LoadInput,
      loadId: 'backfill', target: { Database: 'dev' }, pending: [], existing: fullTables(['orders_daily']), existingGroups: new Set(), now: new Date(0),
    });
    expect(plan.skippedGroups).toEqual(['analysts']);
    expect(plan.request?.Sqls.some((s) => s.includes('"analysts"'))).toBe(false);
  });
});

describe('Data API limits: 12 aggregates on one table', () => {
  const twelve = parseConfig({
    ...input,
    aggregates: Object.fromEntries(
      Array.from({ length: 12 }, (_, i) => [
        `agg${i}`,
        {
          schema: 'facts',
          source: 'visits',
          timeColumn: 'visited_at',
          grain: i % 2 ? ('day' as const) : ('hour' as const),
          dimensions: ['campaign_id'],
          measures: { visits: { fn: 'count' as const }, visitors: { fn: 'count_distinct' as const, column: 'visitor_id' } },
        },
      ]),
    ),
  });

  it('split into batches of at most 40 statements that together cover every aggregate once, in dependency order', () => {
    let work = aggregatesFedBy(twelve, 'visits').map((aggregate) => ({ aggregate, hours: [h('2026-11-20T13')] }));
    const covered: string[] = [];
    const sizes: number[] = [];
    while (work.length) {
      const batch = renderAggregateBatch({ config: twelve, work, loads: new Map(work.map((w) => [w.aggregate, ['l1']])) });
      sizes.push(batch.sqls.length);
      covered.push(...batch.covered);
      // Each batch marks only the aggregates it recomputed: the others stay pending.
      const marks = batch.sqls.find((s) => s.includes('aggregated_loads'))!;
      expect(marks.match(/\('agg\d+'/g)).toHaveLength(batch.covered.length);
      work = work.slice(batch.covered.length);
    }
    expect(covered).toEqual(aggregatesFedBy(twelve, 'visits'));
    expect(sizes.length).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_BATCH_STATEMENTS);
  });

  it('synthesis refuses an aggregate that cannot fit one batch on its own, naming it', () => {
    expect(checkAggregateLimits(twelve)).toEqual([]);
    const measures = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`d${i}`, { fn: 'count_distinct' as const, column: 'visitor_id' }]));
    const wide = parseConfig({ ...input, aggregates: { wide: { schema: 'facts', source: 'visits', timeColumn: 'visited_at', grain: 'day', measures } } });
    expect(checkAggregateLimits(wide)).toEqual([
      { path: 'aggregates.wide', message: expect.stringMatching(/^aggregate 'wide' needs \d+ statements in one transaction, more than the 40/) },
    ]);
  });
});

describe('planAggregateBatch: whose pending work a run takes', () => {
  const now = new Date('2026-11-20T20:00:00Z');
  const pending = Array.from({ length: 10 }, (_, i) => ({
    aggregate: 'visits_hourly',
    loadId: `l${i}`,
    hour: new Date(Date.UTC(2026, 10, 20, i)),
    loadedAt: new Date(now.getTime() - (60 - i) * 60_000),
  }));
  const plan = (input: LoadInput, loadId: string) =>
    planAggregateBatch({ config, input, loadId, target: { Database: 'dev' }, pending: [...pending, { ...pending[0]!, loadId, loadedAt: now }], existing: new Map(), now });
  const marked = (sqls: string[]) => [...sqls.find((x) => x.includes('aggregated_loads'))!.matchAll(/'visits_hourly', '(\w+)'/g)].map((m) => m[1]);

  it('a load run takes its own load and at most 4 stale loads of others, oldest first; the sweep takes them all', () => {
    expect(marked(plan({ table: 'visits' }, 'lnew').request!.Sqls).sort()).toEqual(['l0', 'l1', 'l2', 'l3', 'lnew']);
    expect(marked(plan({ table: 'visits', aggregateOnly: true }, 'sweep').request!.Sqls)).toHaveLength(11);
  });
});

/** Columns of every aggregate table of `names`, as if the warehouse had them all. */
function fullTables(names: string[]): Map<string, ExistingColumn[]> {
  return new Map(names.flatMap((name) => aggregateTables(config, name).map((t) => [`${t.schema}.${t.name}`, t.columns.map((c) => ({ name: c.name, type: c.type }))] as const)));
}

describe('aggregates on Postgres (PGlite): incremental results equal a full recompute', () => {
  let db: PGlite;
  beforeAll(async () => {
    db = await openWarehouse();
  });
  afterAll(async () => {
    await db.close();
  });

  const visit = (id: string, at: string, visitor: string, campaign: number, duration: number, revenue: number): FixtureRow => ({
    visit_id: `'${id}'`,
    visitor_id: `'${visitor}'`,
    campaign_id: String(campaign),
    visited_at: `'${at}'`,
    duration_ms: String(duration),
    revenue: revenue.toFixed(2),
  });
  const order = (id: number, at: string, customer: string | null, status: string, amount: number | null, deleted = false): FixtureRow => ({
    order_id: String(id),
    customer: customer === null ? 'NULL' : `'${customer}'`,
    status: `'${status}'`,
    amount: amount === null ? 'NULL' : String(amount),
    ordered_at: `'${at}'`,
    deleted: String(deleted),
  });

  async function arrays(sql: string): Promise<unknown[][]> {
    const r = await db.query<unknown[]>(sql, [], { rowMode: 'array' });
    return r.rows.map((row) => row.map((v) => (Object.prototype.toString.call(v) === '[object Date]' ? (v as Date).toISOString() : v)));
  }

  /** What PlanAggregates and the state machine's loop do: read pending work, plan, run, again while `more`. */
  async function aggregate(runInput: LoadInput, loadId: string, now = new Date()): Promise<AggregatePlan[]> {
    const audit = config.warehouse.auditSchema;
    const plans: AggregatePlan[] = [];
    let previous: AggregatePlan | undefined;
    for (;;) {
      const scope = pendingScope(config, aggregateScope(config, runInput));
      await runBatch(db, [...renderAuditDdl(audit), renderAggregatedLoadsDdl(audit)]);
      const pending = parsePending((await arrays(renderPendingQuery(config, scope))) as never);
      const existing = parseAggregateColumns(await arrays(renderAggregateColumnsQuery(config, scope)));
      const plan = planAggregateBatch({ config, input: runInput, loadId, target: { Database: 'dev' }, ...(previous ? { previous } : {}), pending, existing, now });
      plans.push(plan);
      if (!plan.request) return plans;
      await runBatch(db, plan.request.Sqls);
      if (!plan.more) return plans;
      previous = plan;
    }
  }

  async function load(table: 'visits' | 'orders', loadId: string, hour: string, staged: FixtureRow[], opts: { force?: boolean; mode?: LoadMode; aggregates?: boolean } = {}) {
    const date = new Date(`${hour}:00:00Z`);
    const batch = renderLoadBatch({
      config,
      table,
      loadId,
      partition: { table, date, end: new Date(date.getTime() + 3600000), key: `${table}/${hour}/`, files: [] },
      manifestUrl: 's3://landing-bucket/m.json',
      fileListUrl: 's3://landing-bucket/m.files.jsonl',
      mode: opts.mode ?? config.tables[table]!.mode,
      reload: opts.force ?? false,
      force: opts.force ?? false,
      reason: 'test',
      addColumns: [],
      startedAt: date,
      plannedAt: date,
    });
    await runBatch(db, [...renderAuditDdl(config.warehouse.auditSchema), ...renderLoadPrerequisites(config, table)]);
    await runBatch(db, batch.sqls, staged);
    if (opts.aggregates !== false) await aggregate({ table }, loadId);
  }

  const hourlyDirect = `
    SELECT date_trunc('hour', visited_at)::text AS bucket, campaign_id, count(*)::int AS visits, count(DISTINCT visitor_id)::int AS visitors,
           sum(revenue)::text AS revenue, avg(duration_ms::float8) AS avg_duration_ms
    FROM events.visits GROUP BY 1, 2 ORDER BY 1, 2`;
  const hourly = `
    SELECT bucket::text AS bucket, campaign_id, visits::int AS visits, visitors::int AS visitors, revenue::text AS revenue, avg_duration_ms
    FROM facts.visits_hourly ORDER BY 1, 2`;
  const visitorsDirect = `SELECT date_trunc('day', visited_at)::text AS bucket, count(DISTINCT visitor_id)::int AS visitors FROM events.visits GROUP BY 1 ORDER BY 1`;
  const visitorsDaily = 'SELECT bucket::text AS bucket, visitors::int AS visitors FROM facts.visitors_daily ORDER BY 1';
  const ordersDirect = `
    SELECT date_trunc('day', ordered_at)::text AS bucket, status, count(*)::int AS orders, count(amount)::int AS amounts,
           count(DISTINCT customer)::int AS customers, sum(amount)::int AS total, min(amount) AS smallest, max(amount) AS largest,
           sum(amount::float8) / NULLIF(count(amount), 0) AS avg_amount
    FROM events.orders GROUP BY 1, 2 ORDER BY 1, 2`;
  const ordersDaily = `
    SELECT bucket::text AS bucket, status, orders::int AS orders, amounts::int AS amounts, customers::int AS customers, total::int AS total,
           smallest, largest, avg_amount FROM facts.orders_daily ORDER BY 1, 2`;

  it('loads hour by hour: hourly and daily facts equal a GROUP BY over raw; the day-grain distinct is exact, not the sum of hours', async () => {
    await load('visits', 'l13', '2026-11-20T13', [
      visit('a', '2026-11-20 13:05:00', 'v1', 1, 100, 10),
      visit('b', '2026-11-20 13:10:00', 'v2', 1, 300, 200),
      visit('c', '2026-11-20 13:20:00', 'v1', 2, 50, 1),
    ]);
    await load('visits', 'l14', '2026-11-20T14', [visit('d', '2026-11-20 14:05:00', 'v1', 1, 200, 150), visit('e', '2026-11-20 14:06:00', 'v3', 1, 400, 2)]);
    expect(await rows(db, hourly)).toEqual(await rows(db, hourlyDirect));
    expect(await rows(db, visitorsDaily)).toEqual([{ bucket: '2026-11-20 00:00:00', visitors: 3 }]);
    expect(await rows(db, visitorsDaily)).toEqual(await rows(db, visitorsDirect));
    // The key set holds (hour, visitor) pairs: v1 in both hours.
    expect(await rows(db, 'SELECT bucket::text AS bucket, value FROM facts.visitors_daily__visitors__keys ORDER BY 1, 2')).toEqual([
      { bucket: '2026-11-20 13:00:00', value: 'v1' },
      { bucket: '2026-11-20 13:00:00', value: 'v2' },
      { bucket: '2026-11-20 14:00:00', value: 'v1' },
      { bucket: '2026-11-20 14:00:00', value: 'v3' },
    ]);
    expect(
      await rows(db, 'SELECT bucket::text AS bucket, campaign_id, visits::int AS visits, avg_duration_ms, avg_duration_ms_count::int AS n, max_revenue::text AS mr FROM facts.visits_daily ORDER BY 2'),
    ).toEqual([
      { bucket: '2026-11-20 00:00:00', campaign_id: 1, visits: 4, avg_duration_ms: 250, n: 4, mr: 210 },
      { bucket: '2026-11-20 00:00:00', campaign_id: 2, visits: 1, avg_duration_ms: 50, n: 1, mr: 1 },
    ]);
    expect(await rows(db, 'SELECT bucket::text AS bucket, spenders::int AS spenders FROM facts.big_spenders_hourly ORDER BY 1')).toEqual([
      { bucket: '2026-11-20 13:00:00', spenders: 1 },
      { bucket: '2026-11-20 14:00:00', spenders: 1 },
    ]);
    // Every load's work was marked done for every aggregate: nothing pending.
    expect(await arrays(renderPendingQuery(config, ALL))).toEqual([]);
  });

  it('a late event recomputes only its hour; other buckets are untouched', async () => {
    await db.exec("UPDATE facts.visits_hourly SET visits = -1 WHERE bucket = '2026-11-20 14:00:00'");
    await load('visits', 'l15', '2026-11-20T15', [visit('f', '2026-11-20 13:59:00', 'v4', 1, 100, 0), visit('g', '2026-11-20 15:01:00', 'v1', 1, 100, 0)]);
    const facts = await rows(db, 'SELECT bucket::text AS bucket, campaign_id, visits::int AS visits, visitors::int AS visitors FROM facts.visits_hourly ORDER BY 1, 2');
    expect(facts).toEqual([
      { bucket: '2026-11-20 13:00:00', campaign_id: 1, visits: 3, visitors: 3 },
      { bucket: '2026-11-20 13:00:00', campaign_id: 2, visits: 1, visitors: 1 },
      { bucket: '2026-11-20 14:00:00', campaign_id: 1, visits: -1, visitors: 2 },
      { bucket: '2026-11-20 15:00:00', campaign_id: 1, visits: 1, visitors: 1 },
    ]);
    expect(await rows(db, visitorsDaily)).toEqual([{ bucket: '2026-11-20 00:00:00', visitors: 4 }]);
    await db.exec("UPDATE facts.visits_hourly SET visits = 2 WHERE bucket = '2026-11-20 14:00:00'");
  });

  it('a forced reload that removes rows: the key set of the hour is rebuilt, so a visitor who left the day is no longer counted', async () => {
    // Reload 13:00 without 'b' (v2's only visit) and 'c': v2 leaves the day.
    await load('visits', 'l13-forced', '2026-11-20T13', [visit('a', '2026-11-20 13:05:00', 'v1', 1, 100, 10)], { force: true });
    expect(await rows(db, hourly)).toEqual(await rows(db, hourlyDirect));
    expect(await rows(db, visitorsDaily)).toEqual(await rows(db, visitorsDirect));
    expect(await rows(db, "SELECT count(*)::int AS n FROM facts.visitors_daily__visitors__keys WHERE value = 'v2'")).toEqual([{ n: 0 }]);
  });

  it('work left pending (a batch that never ran) is picked up by the next run of the table: nothing is lost', async () => {
    // A load commits but its execution dies before the aggregates.
    await load('visits', 'l16', '2026-11-20T16', [visit('h', '2026-11-20 16:00:00', 'v9', 3, 10, 500)], { aggregates: false });
    expect(new Set((await arrays(renderPendingQuery(config, ALL))).map((r) => r[1]))).toEqual(new Set(['l16']));
    expect(await rows(db, visitorsDaily)).not.toEqual(await rows(db, visitorsDirect));
    // A later load's run (its own work, plus work older than the grace period) or the sweep (aggregate-only: everything).
    await aggregate({ table: 'visits', aggregateOnly: true }, 'sweep-1');
    expect(await arrays(renderPendingQuery(config, ALL))).toEqual([]);
    expect(await rows(db, hourly)).toEqual(await rows(db, hourlyDirect));
    expect(await rows(db, visitorsDaily)).toEqual(await rows(db, visitorsDirect));
  });

  it('a load run leaves fresh pending work of other loads to their own executions, and takes stale work', async () => {
    await load('visits', 'l17', '2026-11-20T17', [visit('i', '2026-11-20 17:00:00', 'v8', 1, 10, 1)], { aggregates: false });
    await load('visits', 'l18', '2026-11-20T18', [visit('j', '2026-11-20 18:00:00', 'v7', 1, 10, 1)], { aggregates: false });
    const [own] = await aggregate({ table: 'visits' }, 'l18');
    expect(own!.reason).toMatch(/^pending work of 1 load:/);
    expect(new Set((await arrays(renderPendingQuery(config, ALL))).map((r) => r[1]))).toEqual(new Set(['l17']));
    const later = await aggregate({ table: 'visits' }, 'l99', new Date(Date.now() + 10 * 60_000));
    expect(later[0]!.reason).toMatch(/^pending work of 1 load:/);
    expect(await arrays(renderPendingQuery(config, ALL))).toEqual([]);
    expect(await rows(db, visitorsDaily)).toEqual(await rows(db, visitorsDirect));
  });

  it('a range run recomputes [start, end) and equals the direct GROUP BY', async () => {
    await db.exec("UPDATE facts.visits_hourly SET visits = 99; UPDATE facts.visitors_daily SET visitors = 99");
    await aggregate({ aggregateOnly: true, aggregates: ALL, start: '2026-11-20T00:00:00Z', end: '2026-11-21T00:00:00Z' }, 'range-1');
    expect(await rows(db, hourly)).toEqual(await rows(db, hourlyDirect));
    expect(await rows(db, visitorsDaily)).toEqual(await rows(db, visitorsDirect));
    const daily = `SELECT campaign_id, visits::int AS visits, avg_duration_ms FROM facts.visits_daily ORDER BY 1`;
    const dailyDirect = `SELECT campaign_id, count(*)::int AS visits, avg(duration_ms::float8) AS avg_duration_ms FROM events.visits GROUP BY 1 ORDER BY 1`;
    expect(await rows(db, daily)).toEqual(await rows(db, dailyDirect));
  });

  it('merge loads (updates, deletes, NULLs, a status change across dimensions): every day-grain measure equals a full recompute', async () => {
    await load('orders', 'o10', '2026-11-20T10', [
      order(1, '2026-11-20 10:00:00', 'c1', 'open', 10),
      order(2, '2026-11-20 10:30:00', 'c2', 'open', 20),
      order(3, '2026-11-20 10:45:00', 'c1', 'paid', null),
      order(4, '2026-11-20 10:50:00', null, 'paid', 5),
    ]);
    await load('orders', 'o11', '2026-11-20T11', [order(5, '2026-11-20 11:00:00', 'c3', 'open', 7), order(6, '2026-11-21 01:00:00', 'c3', 'open', 1)]);
    expect(await rows(db, ordersDaily)).toEqual(await rows(db, ordersDirect));
    // Order 1 moves to 'paid' in another hour, order 2 is deleted, order 5 changes customer: rows leave hours 10 and 11.
    await load('orders', 'o12', '2026-11-20T12', [
      order(1, '2026-11-20 12:00:00', 'c1', 'paid', 12),
      order(2, '2026-11-20 10:30:00', 'c2', 'open', 20, true),
      order(5, '2026-11-20 11:00:00', 'c4', 'open', 8),
    ]);
    expect(await rows(db, ordersDaily)).toEqual(await rows(db, ordersDirect));
    expect(await rows(db, "SELECT status, customers::int AS customers FROM facts.orders_daily WHERE bucket = '2026-11-20' ORDER BY 1")).toEqual([
      { status: 'open', customers: 1 },
      { status: 'paid', customers: 1 },
    ]);
    // A full recompute of the range gives the same rows.
    const incremental = await rows(db, ordersDaily);
    await aggregate({ aggregateOnly: true, aggregates: ['orders_daily'], start: '2026-11-20T00:00:00Z', end: '2026-11-22T00:00:00Z' }, 'range-2');
    expect(await rows(db, ordersDaily)).toEqual(incremental);
  });

  it('an aggregate gains a measure: later loads add the column and work; the backfill printed fills history', async () => {
    const evolved = parseConfig({
      ...input,
      aggregates: {
        ...input.aggregates,
        orders_daily: { ...input.aggregates!['orders_daily']!, measures: { ...input.aggregates!['orders_daily']!.measures, biggest: { fn: 'max', column: 'order_id' } } },
      },
    });
    const scope = pendingScope(evolved, ['orders_daily']);
    const existing = parseAggregateColumns(await arrays(renderAggregateColumnsQuery(evolved, scope)));
    const plan = planAggregateBatch({
      config: evolved,
      input: { aggregateOnly: true, aggregates: ['orders_daily'], start: '2026-11-20T00:00:00Z', end: '2026-11-21T00:00:00Z' },
      loadId: 'evolve',
      target: { Database: 'dev' },
      pending: [],
      existing,
      now: new Date(),
    });
    expect(plan.request!.Sqls.filter((s) => s.startsWith('ALTER TABLE'))).toEqual([
      'ALTER TABLE "facts"."orders_daily" ADD COLUMN "biggest" INTEGER',
      'ALTER TABLE "facts"."orders_daily__partials" ADD COLUMN "biggest" INTEGER',
    ]);
    expect(plan.backfills).toEqual([expect.stringMatching(/^forklift backfill --aggregate orders_daily /)]);
    await runBatch(db, plan.request!.Sqls);
    expect(await rows(db, "SELECT status, biggest FROM facts.orders_daily WHERE bucket = '2026-11-20' ORDER BY 1")).toEqual(
      await rows(db, "SELECT status, max(order_id) AS biggest FROM events.orders WHERE ordered_at < '2026-11-21' GROUP BY 1 ORDER BY 1"),
    );
  });
});
