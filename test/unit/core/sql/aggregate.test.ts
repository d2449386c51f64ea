import type { PGlite } from '@electric-sql/pglite';
import { aggregatesFedBy, renderAggregateBatch } from '../../../../functions/core/sql/aggregate';
import { renderAuditDdl } from '../../../../functions/core/sql/audit';
import { renderLoadBatch, renderLoadPrerequisites } from '../../../../functions/core/sql/load';
import { expectGolden } from './golden.helpers';
import { config, openWarehouse, rows, runBatch, type FixtureRow } from './sql.helpers';

const ALL = ['visits_hourly', 'visits_daily', 'visitors_daily', 'big_spenders_hourly'];

describe('aggregatesFedBy', () => {
  it('lists the aggregates fed by a table, transitively, in dependency order', () => {
    expect(aggregatesFedBy(config, 'visits')).toEqual(ALL);
    expect(aggregatesFedBy(config, 'sales')).toEqual([]);
  });
});

describe('renderAggregateBatch: golden SQL', () => {
  it('load buckets: hourly, daily count-distinct from raw, daily from the hourly aggregate with avg, raw sql', () => {
    const batch = renderAggregateBatch({ config, aggregates: ALL, buckets: { kind: 'load', loadId: 'visits-20261120T130000', table: 'visits' } });
    expectGolden('aggregate-load', batch.sqls);
    expect(batch.steps).toEqual([
      { kind: 'fact', name: 'visits_hourly', statement: 5 },
      { kind: 'fact', name: 'visits_daily', statement: 10 },
      { kind: 'fact', name: 'visitors_daily', statement: 15 },
      { kind: 'fact', name: 'big_spenders_hourly', statement: 20 },
    ]);
  });

  it('range run: bounds aligned to the grain, literals', () => {
    const batch = renderAggregateBatch({
      config,
      aggregates: ['visits_daily', 'big_spenders_hourly'],
      buckets: { kind: 'range', start: new Date('2026-11-20T10:30:00Z'), end: new Date('2026-11-21T00:00:00Z') },
    });
    expectGolden('aggregate-range', batch.sqls);
  });

  it('refuses a table that does not feed the aggregate', () => {
    expect(() => renderAggregateBatch({ config, aggregates: ['visits_hourly'], buckets: { kind: 'load', loadId: 'x', table: 'sales' } })).toThrow(
      "aggregate 'visits_hourly' is not fed by table 'sales'",
    );
  });
});

describe('aggregates on Postgres (PGlite)', () => {
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

  async function load(loadId: string, hour: string, staged: FixtureRow[], extra: { force?: boolean } = {}): Promise<void> {
    const date = new Date(`${hour}:00:00Z`);
    const batch = renderLoadBatch({
      config,
      table: 'visits',
      loadId,
      partition: { table: 'visits', date, end: new Date(date.getTime() + 3600000), key: `events/visits/${hour}/`, files: [] },
      manifestUrl: 's3://landing-bucket/m.json',
      fileListUrl: 's3://landing-bucket/m.files.jsonl',
      mode: 'append',
      reload: extra.force ?? false,
      force: extra.force ?? false,
      reason: 'test',
      addColumns: [],
      startedAt: date,
    });
    await runBatch(db, [...renderAuditDdl(config.warehouse.auditSchema), ...renderLoadPrerequisites(config, 'visits')]);
    await runBatch(db, batch.sqls, staged);
    await runBatch(db, renderAggregateBatch({ config, aggregates: aggregatesFedBy(config, 'visits'), buckets: { kind: 'load', loadId, table: 'visits' } }).sqls);
  }

  const direct = `
    SELECT date_trunc('hour', visited_at)::text AS bucket, campaign_id, count(*)::int AS visits, count(DISTINCT visitor_id)::int AS visitors,
           sum(revenue)::text AS revenue, avg(duration_ms::float8) AS avg_duration_ms
    FROM events.visits GROUP BY 1, 2 ORDER BY 1, 2`;
  const hourly = `
    SELECT bucket::text AS bucket, campaign_id, visits::int AS visits, visitors::int AS visitors, revenue::text AS revenue, avg_duration_ms
    FROM facts.visits_hourly ORDER BY 1, 2`;

  it('computes hourly and daily facts equal to a direct GROUP BY; day-grain distinct is not the sum of hours', async () => {
    await load('l13', '2026-11-20T13', [
      visit('a', '2026-11-20 13:05:00', 'v1', 1, 100, 10),
      visit('b', '2026-11-20 13:10:00', 'v2', 1, 300, 200),
      visit('c', '2026-11-20 13:20:00', 'v1', 2, 50, 1),
    ]);
    await load('l14', '2026-11-20T14', [visit('d', '2026-11-20 14:05:00', 'v1', 1, 200, 150), visit('e', '2026-11-20 14:06:00', 'v3', 1, 400, 2)]);
    expect(await rows(db, hourly)).toEqual(await rows(db, direct));
    // v1 visited in both hours: 2 + 2 hourly distinct visitors of campaign 1, but 3 distinct in the day
    expect(await rows(db, 'SELECT bucket::text AS bucket, visitors::int AS visitors FROM facts.visitors_daily')).toEqual([
      { bucket: '2026-11-20 00:00:00', visitors: 3 },
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
  });

  it('a late event recomputes only its hour; other buckets are untouched', async () => {
    await db.exec("UPDATE facts.visits_hourly SET visits = -1 WHERE bucket = '2026-11-20 14:00:00'");
    // a late event for 13:00 lands in a later partition (15:00)
    await load('l15', '2026-11-20T15', [visit('f', '2026-11-20 13:59:00', 'v4', 1, 100, 0), visit('g', '2026-11-20 15:01:00', 'v1', 1, 100, 0)]);
    expect(await rows(db, "SELECT hour::text AS hour FROM forklift.affected_hours WHERE load_id = 'l15' ORDER BY 1")).toEqual([
      { hour: '2026-11-20 13:00:00' },
      { hour: '2026-11-20 15:00:00' },
    ]);
    const facts = await rows(db, 'SELECT bucket::text AS bucket, campaign_id, visits::int AS visits, visitors::int AS visitors FROM facts.visits_hourly ORDER BY 1, 2');
    expect(facts).toEqual([
      { bucket: '2026-11-20 13:00:00', campaign_id: 1, visits: 3, visitors: 3 },
      { bucket: '2026-11-20 13:00:00', campaign_id: 2, visits: 1, visitors: 1 },
      { bucket: '2026-11-20 14:00:00', campaign_id: 1, visits: -1, visitors: 2 },
      { bucket: '2026-11-20 15:00:00', campaign_id: 1, visits: 1, visitors: 1 },
    ]);
    expect(await rows(db, 'SELECT visitors::int AS visitors FROM facts.visitors_daily')).toEqual([{ visitors: 4 }]);
  });

  it('a forced reload recomputes the hours of the deleted rows too', async () => {
    // reload 13:00 without visit 'c' (campaign 2): the campaign-2 bucket must disappear
    await load('l13-forced', '2026-11-20T13', [visit('a', '2026-11-20 13:05:00', 'v1', 1, 100, 10)], { force: true });
    const facts = await rows(db, "SELECT campaign_id, visits::int AS visits FROM facts.visits_hourly WHERE bucket = '2026-11-20 13:00:00' ORDER BY 1");
    // 'f' (late, partition 15:00) stays: only the 13:00 partition's rows were replaced
    expect(facts).toEqual([{ campaign_id: 1, visits: 2 }]);
  });

  it('a range run recomputes [start, end) and equals the direct GROUP BY', async () => {
    await runBatch(
      db,
      renderAggregateBatch({ config, aggregates: ALL, buckets: { kind: 'range', start: new Date('2026-11-20T00:00:00Z'), end: new Date('2026-11-21T00:00:00Z') } })
        .sqls,
    );
    expect(await rows(db, hourly)).toEqual(await rows(db, direct));
    const daily = `SELECT campaign_id, visits::int AS visits, avg_duration_ms FROM facts.visits_daily ORDER BY 1`;
    const dailyDirect = `SELECT campaign_id, count(*)::int AS visits, avg(duration_ms::float8) AS avg_duration_ms FROM events.visits GROUP BY 1 ORDER BY 1`;
    expect(await rows(db, daily)).toEqual(await rows(db, dailyDirect));
  });
});
