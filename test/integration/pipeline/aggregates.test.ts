/**
 * Aggregates end to end: loads through the local pipeline recompute exactly the
 * buckets they touch, in dependency order, from the raw table (distinct counts
 * never summed). One pipeline for the file; each test has its own raw table.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ConfigInput } from '../../../functions/core/config/schema';
import { generateSample } from '../../../local/sample';
import { count, executionsOf, jsonLines, rows, runManual, startTestPipeline, statementsSince, testConfig, type TestPipeline } from './helpers';

const visitColumns = {
  visit_id: { type: 'varchar(36)', nullable: false },
  visitor_id: { type: 'varchar(36)', nullable: false },
  campaign_id: { type: 'integer', nullable: false },
  visited_at: { type: 'timestamp', nullable: false },
  duration_ms: 'integer',
  revenue: 'decimal(12,2)',
};
const visitTable = (prefix: string) => ({
  schema: 'events',
  prefix,
  partition: "{date:yyyy-MM-dd'T'HH}/",
  format: { type: 'json' as const },
  columns: visitColumns,
  dataDateColumn: 'visited_at',
});
const hourlyOf = (source: string) => ({
  schema: 'facts',
  source,
  timeColumn: 'visited_at',
  grain: 'hour' as const,
  dimensions: ['campaign_id'],
  measures: {
    visits: { fn: 'count' as const },
    visitors: { fn: 'count_distinct' as const, column: 'visitor_id' },
    revenue: { fn: 'sum' as const, column: 'revenue' },
    avg_duration_ms: { fn: 'avg' as const, column: 'duration_ms' },
  },
});

const example = parse(readFileSync(join(__dirname, '../../../forklift.config.yaml'), 'utf8')) as ConfigInput;

const config = testConfig(
  {
    ag_visits: visitTable('ag/visits/'),
    dep_visits: visitTable('dep/visits/'),
    sw_visits: visitTable('sw/visits/'),
    tw_visits: visitTable('tw/visits/'),
    la_visits: visitTable('la/visits/'),
    // The example's tables; a backfill arrives in any order, so older partitions load.
    visits: { ...example.tables!['visits']!, olderPartitions: 'load' },
    campaigns: example.tables!['campaigns']!,
  },
  {
    ag_hourly: hourlyOf('ag_visits'),
    ag_daily_visitors: {
      schema: 'facts',
      source: 'ag_visits',
      timeColumn: 'visited_at',
      grain: 'day',
      dimensions: [],
      measures: { visitors: { fn: 'count_distinct', column: 'visitor_id' } },
    },
    dep_hourly: hourlyOf('dep_visits'),
    dep_daily: {
      schema: 'facts',
      source: 'dep_hourly',
      timeColumn: 'bucket',
      grain: 'day',
      dimensions: ['campaign_id'],
      measures: {
        visits: { fn: 'count', column: 'visits' },
        revenue: { fn: 'sum', column: 'revenue' },
        avg_duration_ms: { fn: 'avg', column: 'avg_duration_ms' },
      },
    },
    sw_hourly: hourlyOf('sw_visits'),
    sw_daily_visitors: {
      schema: 'facts',
      source: 'sw_visits',
      timeColumn: 'visited_at',
      grain: 'day',
      dimensions: ['campaign_id'],
      measures: { visits: { fn: 'count' }, visitors: { fn: 'count_distinct', column: 'visitor_id' } },
    },
    la_daily: {
      schema: 'facts',
      source: 'la_visits',
      timeColumn: 'visited_at',
      grain: 'day',
      dimensions: ['campaign_id'],
      measures: {
        visits: { fn: 'count' },
        visitors: { fn: 'count_distinct', column: 'visitor_id' },
        revenue: { fn: 'sum', column: 'revenue' },
        avg_duration_ms: { fn: 'avg', column: 'duration_ms' },
        first: { fn: 'min', column: 'visited_at' },
        longest: { fn: 'max', column: 'duration_ms' },
      },
    },
    // 12 aggregates on one table: more statements than one Data API batch takes (40).
    ...Object.fromEntries(
      Array.from({ length: 12 }, (_, i) => [
        `tw_${i}`,
        i % 2 === 0
          ? hourlyOf('tw_visits')
          : { ...hourlyOf('tw_visits'), grain: 'day' as const, measures: { ...hourlyOf('tw_visits').measures, first: { fn: 'min' as const, column: 'visited_at' } } },
      ]),
    ),
    ...example.aggregates,
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

let visitSeq = 0;
/** n visits in `hour` (2026-11-20THH), visitors v0..v(k-1) cycling, duration_ms from `duration`. */
function visits(hour: string, n: number, opts: { minute?: number; campaign?: number; visitors?: number; duration?: (i: number) => number } = {}) {
  return Array.from({ length: n }, (_, i) => ({
    visit_id: `visit-${++visitSeq}`,
    visitor_id: `visitor-${i % (opts.visitors ?? 3)}`,
    campaign_id: opts.campaign ?? 1 + (i % 2),
    visited_at: `2026-11-20T${hour}:${String(opts.minute ?? (i * 7) % 60).padStart(2, '0')}:00Z`,
    duration_ms: opts.duration ? opts.duration(i) : 1000 * (i + 1),
    revenue: i % 3 === 0 ? 1.5 : null,
  }));
}
const object = (key: string, records: Array<Record<string, unknown>>) => ({ key, body: jsonLines(records) });
async function putAndSettle(objects: Array<{ key: string; body: string | Buffer }>): Promise<void> {
  await p().put(objects);
  await p().settle();
}

const hourlyFacts = (table: string) =>
  rows(p(), `SELECT bucket, campaign_id, visits::int AS visits, visitors::int AS visitors, revenue::text AS revenue, avg_duration_ms FROM facts.${table} ORDER BY 1, 2`);
/** The hourly aggregate computed directly from the raw table. */
const hourlyDirect = (raw: string, where = 'TRUE') =>
  rows(
    p(),
    `SELECT DATE_TRUNC('hour', visited_at) AS bucket, campaign_id, COUNT(*)::int AS visits, COUNT(DISTINCT visitor_id)::int AS visitors, ` +
      `SUM(revenue)::text AS revenue, AVG(duration_ms::float8) AS avg_duration_ms FROM events.${raw} WHERE ${where} GROUP BY 1, 2 ORDER BY 1, 2`,
  );

describe('late events and ranges (ag_visits)', () => {
  const hour = (h: string) => `2026-11-20T${h}:00:00.000Z`;

  it('a late event recomputes only its hour: other buckets keep their rows even when raw data changed behind Forklift', async () => {
    await putAndSettle([object('ag/visits/2026-11-20T10/a.json', visits('10', 6)), object('ag/visits/2026-11-20T11/a.json', visits('11', 4))]);
    const before = await hourlyFacts('ag_hourly');
    expect(before).toEqual(await hourlyDirect('ag_visits'));
    expect(new Set(before.map((r) => r['bucket']))).toEqual(new Set([hour('10'), hour('11')]));

    // Behind Forklift's back: hour 10 gets a row no load knows about.
    await p().stack.redshiftData.server.query(
      "INSERT INTO events.ag_visits (visit_id, visitor_id, campaign_id, visited_at, duration_ms) VALUES ('sneaky', 'visitor-9', 1, '2026-11-20 10:30:00', 5)",
    );
    // Partition 12 carries a late event of hour 11.
    await putAndSettle([object('ag/visits/2026-11-20T12/a.json', [...visits('12', 3), ...visits('11', 1, { minute: 59, campaign: 1, visitors: 1 })])]);
    const [execution] = (await executionsOf(p(), 'ag_visits')).filter((e) => e.name === 'ag_visits-20261120T120000');
    expect(execution).toMatchObject({ status: 'SUCCEEDED', output: expect.objectContaining({ status: 'loaded', rows: 4 }) });

    const after = await hourlyFacts('ag_hourly');
    // Hour 10: exactly the rows from before (not recomputed, so the sneaky row is not counted).
    expect(after.filter((r) => r['bucket'] === hour('10'))).toEqual(before.filter((r) => r['bucket'] === hour('10')));
    // Hours 11 (late event) and 12 are recomputed from the raw table.
    expect(after.filter((r) => r['bucket'] !== hour('10'))).toEqual(await hourlyDirect('ag_visits', "visited_at >= '2026-11-20 11:00:00'"));
    const campaign1At11 = (r: Array<Record<string, unknown>>) => r.find((x) => x['bucket'] === hour('11') && x['campaign_id'] === 1)!['visits'];
    expect(campaign1At11(after)).toBe(Number(campaign1At11(before)) + 1);
    // The load's affected hours are the partition's hour and the late event's.
    expect(await rows(p(), "SELECT hour FROM forklift.affected_hours WHERE load_id = 'ag_visits-20261120T120000' ORDER BY 1")).toEqual([
      { hour: hour('11') },
      { hour: hour('12') },
    ]);
  });

  it('a day-grain distinct count is the distinct count over the day, not the sum of hours, rolled up from the distinct-key sets of its hours', async () => {
    const [daily] = await rows(p(), 'SELECT bucket, visitors::int AS visitors FROM facts.ag_daily_visitors');
    expect(daily).toEqual({ bucket: '2026-11-20T00:00:00.000Z', visitors: expect.any(Number) });
    // The load of 12 recomputed the key sets of hours 11 and 12 only, then the day from the key sets:
    // the sneaky row of hour 10 (a new visitor, never loaded by Forklift) is not counted; no raw row of hour 10 was read.
    expect(daily!['visitors']).toBe(await count(p(), "SELECT COUNT(DISTINCT visitor_id) AS n FROM events.ag_visits WHERE visit_id <> 'sneaky'"));
    expect(daily!['visitors']).toBeLessThan(await count(p(), 'SELECT COUNT(DISTINCT visitor_id) AS n FROM events.ag_visits'));
    const sumOfHours = await count(p(), "SELECT SUM(n) AS n FROM (SELECT COUNT(DISTINCT visitor_id) AS n FROM events.ag_visits GROUP BY DATE_TRUNC('hour', visited_at)) h");
    expect(sumOfHours).toBeGreaterThan(Number(daily!['visitors']));
  });

  it('a forced reload leaves no duplicates in the raw or the fact tables', async () => {
    const reload = await runManual(p(), { table: 'ag_visits', date: '2026-11-20T11', force: true });
    expect(reload.output).toMatchObject({ status: 'loaded', rows: 4 });
    expect(await rows(p(), 'SELECT COUNT(*)::int AS n, COUNT(DISTINCT visit_id)::int AS ids FROM events.ag_visits')).toEqual([{ n: 15, ids: 15 }]);
    expect(await count(p(), 'SELECT COUNT(*) AS n FROM (SELECT bucket, campaign_id FROM facts.ag_hourly GROUP BY 1, 2 HAVING COUNT(*) > 1) d')).toBe(0);
    expect(await count(p(), 'SELECT COUNT(*) AS n FROM (SELECT bucket FROM facts.ag_daily_visitors GROUP BY 1 HAVING COUNT(*) > 1) d')).toBe(0);
    // Hour 11 (reloaded) still equals the raw rows; 12's late event of 11 is still counted once.
    expect((await hourlyFacts('ag_hourly')).filter((r) => r['bucket'] === hour('11'))).toEqual(
      await hourlyDirect('ag_visits', "visited_at >= '2026-11-20 11:00:00' AND visited_at < '2026-11-20 12:00:00'"),
    );
  });

  it('an aggregate-only run recomputes exactly its time range', async () => {
    // Behind Forklift's back again, in hour 12 (outside the range).
    await p().stack.redshiftData.server.query(
      "INSERT INTO events.ag_visits (visit_id, visitor_id, campaign_id, visited_at, duration_ms) VALUES ('sneaky-12', 'visitor-8', 2, '2026-11-20 12:10:00', 7)",
    );
    const before = await hourlyFacts('ag_hourly');
    const run = await runManual(p(), { aggregateOnly: true, aggregates: ['ag_hourly'], start: '2026-11-20T10:00:00Z', end: '2026-11-20T11:00:00Z' });
    expect(run).toMatchObject({ status: 'SUCCEEDED', output: expect.objectContaining({ status: 'aggregated' }) });
    const after = await hourlyFacts('ag_hourly');
    // Hour 10 now counts the sneaky row; hours 11 and 12 are untouched (12 does not count sneaky-12).
    expect(after.filter((r) => r['bucket'] === hour('10'))).toEqual(await hourlyDirect('ag_visits', "visited_at < '2026-11-20 11:00:00'"));
    expect(after.filter((r) => r['bucket'] === hour('10'))).not.toEqual(before.filter((r) => r['bucket'] === hour('10')));
    expect(after.filter((r) => r['bucket'] !== hour('10'))).toEqual(before.filter((r) => r['bucket'] !== hour('10')));
  });
});

describe('aggregates of aggregates (dep_visits)', () => {
  it('run in dependency order; a daily avg from hourly sums and counts is exact', async () => {
    // Hours with different row counts: the average of hourly averages would be wrong.
    await putAndSettle([object('dep/visits/2026-11-20T10/a.json', visits('10', 5, { campaign: 1, duration: (i) => 100 * (i + 1) }))]);
    await putAndSettle([object('dep/visits/2026-11-20T11/a.json', visits('11', 1, { campaign: 1, duration: () => 10_000 }))]);

    const [daily] = await rows(p(), 'SELECT bucket, campaign_id, visits::int AS visits, avg_duration_ms, avg_duration_ms_sum, avg_duration_ms_count::int AS n FROM facts.dep_daily');
    const rawAvg = (await rows(p(), 'SELECT AVG(duration_ms::float8) AS a FROM events.dep_visits'))[0]!['a'];
    // If the daily ran before the hourly in the second load, it would miss hour 11.
    expect(daily).toEqual({ bucket: '2026-11-20T00:00:00.000Z', campaign_id: 1, visits: 6, avg_duration_ms: rawAvg, avg_duration_ms_sum: 11_500, n: 6 });
    expect(rawAvg).toBeCloseTo(11_500 / 6, 9);
    const avgOfAvgs = (await rows(p(), 'SELECT AVG(avg_duration_ms) AS a FROM facts.dep_hourly'))[0]!['a'];
    expect(avgOfAvgs).not.toBeCloseTo(Number(rawAvg), 3);
  });
});

describe('durable aggregate work (sw_visits)', () => {
  const daily = () => rows(p(), 'SELECT bucket, campaign_id, visits::int AS visits, visitors::int AS visitors FROM facts.sw_daily_visitors ORDER BY 1, 2');
  const dailyDirect = () =>
    rows(
      p(),
      "SELECT DATE_TRUNC('day', visited_at) AS bucket, campaign_id, COUNT(*)::int AS visits, COUNT(DISTINCT visitor_id)::int AS visitors FROM events.sw_visits GROUP BY 1, 2 ORDER BY 1, 2",
    );

  it('a load whose aggregate work was lost stays pending; the sweep (freshness) heals it with no manual step', async () => {
    await putAndSettle([object('sw/visits/2026-11-20T10/a.json', visits('10', 6))]);
    expect(await daily()).toEqual(await dailyDirect());
    // The load of 11 commits, then its aggregate transaction is lost (the execution was killed):
    // simulated by undoing what that transaction did: its done marks and its buckets.
    await putAndSettle([object('sw/visits/2026-11-20T11/a.json', visits('11', 5, { visitors: 7 }))]);
    const load = 'sw_visits-20261120T110000';
    await p().stack.redshiftData.server.query(`DELETE FROM forklift.aggregated_loads WHERE load_id = '${load}'`);
    await p().stack.redshiftData.server.query("DELETE FROM facts.sw_hourly WHERE bucket >= '2026-11-20 11:00:00'");
    await p().stack.redshiftData.server.query("UPDATE facts.sw_daily_visitors SET visits = 0");
    expect(await daily()).not.toEqual(await dailyDirect());
    // The load committed 10 minutes ago: past the grace period left to its own execution.
    await p().stack.redshiftData.server.query(`UPDATE forklift.loads SET finished_at = finished_at - INTERVAL '10 minutes' WHERE load_id = '${load}'`);

    const freshness = (await p().checkFreshness()) as Record<string, { pendingAggregateMinutes?: number; pendingLoads?: number; sweep?: string }>;
    expect(freshness['sw_visits']).toMatchObject({ pendingLoads: 1, sweep: expect.stringMatching(/^sw_visits-agg-/) });
    expect(freshness['sw_visits']!.pendingAggregateMinutes).toBeGreaterThanOrEqual(10);
    await p().settle();
    const sweep = (await p().executions()).find((e) => e.name === freshness['sw_visits']!.sweep);
    expect(sweep).toMatchObject({ status: 'SUCCEEDED', output: expect.objectContaining({ status: 'aggregated' }) });
    expect(await daily()).toEqual(await dailyDirect());
    expect(await rows(p(), 'SELECT bucket, campaign_id, visits::int AS visits FROM facts.sw_hourly ORDER BY 1, 2')).toEqual(
      await rows(p(), "SELECT DATE_TRUNC('hour', visited_at) AS bucket, campaign_id, COUNT(*)::int AS visits FROM events.sw_visits GROUP BY 1, 2 ORDER BY 1, 2"),
    );
    // Nothing pending any more: the next sweep starts nothing.
    const again = (await p().checkFreshness()) as Record<string, { pendingLoads?: number; sweep?: string }>;
    expect(again['sw_visits']).toMatchObject({ pendingLoads: 0 });
    expect(again['sw_visits']!.sweep).toBeUndefined();
  }, 600_000);
});

describe('Data API limits: 12 aggregates on one table (tw_visits)', () => {
  it('a load recomputes all 12 in several batches of at most 40 statements; every fact equals a GROUP BY over raw', async () => {
    const mark = p().stack.redshiftData.server.stats.statements.length;
    await putAndSettle([object('tw/visits/2026-11-20T10/a.json', visits('10', 8)), object('tw/visits/2026-11-20T11/a.json', visits('11', 3))]);
    const executions = (await executionsOf(p(), 'tw_visits')).filter((e) => e.input['table'] === 'tw_visits');
    expect(executions.map((e) => [e.status, e.output?.['status']])).toEqual([
      ['SUCCEEDED', 'loaded'],
      ['SUCCEEDED', 'loaded'],
    ]);
    const steps = executions[0]!.output!['steps'] as Array<{ kind: string; name: string }>;
    expect(steps.filter((s) => s.kind === 'fact').map((s) => s.name).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `tw_${i}`).sort());
    expect(statementsSince(p(), mark).filter((s) => /^LOCK "facts"\."tw_/.test(s)).length).toBeGreaterThanOrEqual(4);
    for (let i = 0; i < 12; i++) {
      const grain = i % 2 === 0 ? 'hour' : 'day';
      expect(await rows(p(), `SELECT bucket, campaign_id, visits::int AS visits, visitors::int AS visitors FROM facts.tw_${i} ORDER BY 1, 2`)).toEqual(
        await rows(
          p(),
          `SELECT DATE_TRUNC('${grain}', visited_at) AS bucket, campaign_id, COUNT(*)::int AS visits, COUNT(DISTINCT visitor_id)::int AS visitors FROM events.tw_visits GROUP BY 1, 2 ORDER BY 1, 2`,
        ),
      );
    }
  }, 180_000);
});

describe('the example pipeline: a 3-day backfill with its dimension', () => {
  it('72 hourly partitions recompute 72 hourly buckets; facts equal a GROUP BY over raw; day distincts are exact; facts join the campaigns snapshot', async () => {
    const sample = generateSample({ now: new Date('2026-11-23T00:30:00Z'), days: 3, filesPerPartition: 1, visitsPerHour: 20, campaigns: 4 });
    expect(sample.filter((o) => o.key.startsWith('events/visits/'))).toHaveLength(72);
    await putAndSettle(sample);

    const executions = (await p().executions()).filter((e) => e.input['table'] === 'visits');
    expect(executions).toHaveLength(72);
    expect(executions.filter((e) => e.status !== 'SUCCEEDED' || e.output?.['status'] !== 'loaded')).toEqual([]);
    expect(await count(p(), 'SELECT COUNT(DISTINCT bucket) AS n FROM facts.visits_hourly')).toBe(72);

    const facts = await rows(p(), 'SELECT bucket, campaign_id, visits::int AS visits, visitors::int AS visitors, revenue::text AS revenue, avg_duration_ms FROM facts.visits_hourly ORDER BY 1, 2');
    expect(facts).toEqual(await hourlyDirect('visits'));
    expect(await rows(p(), 'SELECT bucket, campaign_id, visits::int AS visits, visitors::int AS visitors FROM facts.visitors_daily ORDER BY 1, 2')).toEqual(
      await rows(p(), "SELECT DATE_TRUNC('day', visited_at) AS bucket, campaign_id, COUNT(*)::int AS visits, COUNT(DISTINCT visitor_id)::int AS visitors FROM events.visits GROUP BY 1, 2 ORDER BY 1, 2"),
    );
    const summed = await count(p(), 'SELECT SUM(visitors) AS n FROM facts.visits_hourly');
    expect(summed).toBeGreaterThan(await count(p(), 'SELECT SUM(visitors) AS n FROM facts.visitors_daily'));

    // The campaigns snapshot arrived in the same put: every fact row joins to the dimension.
    expect(await count(p(), 'SELECT COUNT(*) AS n FROM events.campaigns')).toBe(4);
    expect(await count(p(), 'SELECT COUNT(*) AS n FROM facts.visits_hourly f LEFT JOIN events.campaigns c ON c.campaign_id = f.campaign_id WHERE c.campaign_id IS NULL')).toBe(0);
    expect(await rows(p(), 'SELECT c.channel, SUM(f.visits)::int AS visits FROM facts.visits_hourly f JOIN events.campaigns c USING (campaign_id) GROUP BY 1 ORDER BY 1')).toEqual(
      await rows(p(), 'SELECT c.channel, COUNT(*)::int AS visits FROM events.visits v JOIN events.campaigns c USING (campaign_id) GROUP BY 1 ORDER BY 1'),
    );
  }, 600_000);
});

describe('appends into hours already loaded (la_visits)', () => {
  const dailyFacts = () =>
    rows(
      p(),
      'SELECT bucket, campaign_id, visits::int AS visits, visitors::int AS visitors, revenue::text AS revenue, avg_duration_ms, first, longest FROM facts.la_daily ORDER BY 1, 2',
    );
  const dailyDirect = () =>
    rows(
      p(),
      `SELECT DATE_TRUNC('day', visited_at) AS bucket, campaign_id, COUNT(*)::int AS visits, COUNT(DISTINCT visitor_id)::int AS visitors, SUM(revenue)::text AS revenue, ` +
        'AVG(duration_ms::float8) AS avg_duration_ms, MIN(visited_at) AS first, MAX(duration_ms) AS longest FROM events.la_visits GROUP BY 1, 2 ORDER BY 1, 2',
    );

  it('late rows of loaded hours add their partials and new distinct keys: every day-grain measure equals a GROUP BY over raw', async () => {
    await putAndSettle([object('la/visits/2026-11-20T10/a.json', visits('10', 8, { visitors: 4 })), object('la/visits/2026-11-20T11/a.json', visits('11', 5))]);
    expect(await dailyFacts()).toEqual(await dailyDirect());
    // Partition 12: late rows of hours 10 and 11, visitors old and new, an earlier minute, a longer duration, a NULL revenue.
    const late = [
      ...visits('10', 3, { minute: 0, visitors: 6, duration: (i) => 90_000 + i }),
      ...visits('11', 2, { minute: 59, campaign: 2, visitors: 1 }),
      ...visits('12', 4),
    ];
    await putAndSettle([object('la/visits/2026-11-20T12/a.json', late)]);
    const [execution] = (await executionsOf(p(), 'la_visits')).filter((e) => e.name === 'la_visits-20261120T120000');
    expect(execution).toMatchObject({ status: 'SUCCEEDED', output: expect.objectContaining({ status: 'loaded', rows: late.length }) });
    expect(await dailyFacts()).toEqual(await dailyDirect());
    // A second partition of late rows of hour 10, with visitors the day already counted.
    await putAndSettle([object('la/visits/2026-11-20T13/a.json', [...visits('10', 4, { visitors: 2 }), ...visits('13', 2)])]);
    expect(await dailyFacts()).toEqual(await dailyDirect());
  });
});
