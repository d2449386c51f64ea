/**
 * A configured read-only group that does not exist in the warehouse never blocks a load: Redshift
 * fails a GRANT to a missing group (`ERROR: group "x" does not exist`, enforced by the local Data
 * API: test/integration/local/redshift-data-ddl.test.ts), so the warehouse-state read looks the
 * groups up in pg_group (Database Developer Guide, "Groups") and the load grants to the existing
 * ones only (the table's, and those of the aggregates recomputed in the load's transaction); Prepare
 * warns, naming the table and the group, and counts GrantsSkipped. Once the group exists, the next
 * load grants. The separate aggregate batch (raw-SQL aggregates, backfills, the sweep) reads pg_group
 * with its pending work and does the same.
 */
import type { RecordedMetric } from '../../../functions/runtime/observability';
import { jsonLines, rows, runManual, startTestPipeline, testConfig, hourly, type TestPipeline } from './helpers';

const config = testConfig(
  { gr_events: hourly('gr/events/', { readOnlyGroups: ['gr_present', 'gr_later'] }), gs_events: hourly('gs/events/') },
  {
    // Recomputed inside the load's transaction: a GRANT to its missing group would fail the load itself.
    gr_hourly: { schema: 'facts', source: 'gr_events', timeColumn: 'at', grain: 'hour', dimensions: [], measures: { n: { fn: 'count' } }, readOnlyGroups: ['gr_agg_missing'] },
    // Raw SQL: recomputed by an aggregate batch of its own after the load (and by backfills).
    gs_sql_hourly: {
      schema: 'facts',
      source: 'gs_events',
      timeColumn: 'at',
      grain: 'hour',
      sql: "SELECT DATE_TRUNC('hour', at) AS bucket, COUNT(*) AS n FROM landing.gs_events WHERE at >= {{start}} AND at < {{end}} GROUP BY 1",
      columns: { bucket: { type: 'timestamp', nullable: false }, n: 'bigint' },
      readOnlyGroups: ['gr_present', 'gs_missing'],
    },
  },
);

let t: TestPipeline;
beforeAll(async () => {
  t = await startTestPipeline(config);
  await t.pipeline.stack.redshiftData.server.execute('CREATE GROUP gr_present');
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

const grantees = async (): Promise<string[]> =>
  (await rows(t.pipeline, "SELECT grantee FROM information_schema.role_table_grants WHERE table_schema = 'landing' AND table_name = 'gr_events' AND privilege_type = 'SELECT' AND grantee IN ('gr_present', 'gr_later') ORDER BY 1")).map((r) => String(r['grantee']));
const load = async (hour: string): Promise<void> => {
  await t.pipeline.put([{ key: `gr/events/2026-11-20T${hour}/part-0.json`, body: jsonLines([{ id: Number(hour), at: `2026-11-20T${hour}:05:00Z`, v: 1 }]) }]);
  await t.pipeline.settle();
};

it('loads with a missing group configured, grants to the existing one, warns naming table and group; after CREATE GROUP the next load grants', async () => {
  await load('10');
  expect(await rows(t.pipeline, 'SELECT id FROM landing.gr_events ORDER BY 1')).toEqual([{ id: 10 }]);
  expect(await rows(t.pipeline, "SELECT status FROM forklift.loads WHERE table_name = 'landing.gr_events'")).toEqual([{ status: 'loaded' }]);
  expect(await grantees()).toEqual(['gr_present']);
  const warnings = t.log.entries.filter((e) => e.level === 'warn' && e.fields?.['group'] === 'gr_later');
  expect(warnings).toEqual([
    expect.objectContaining({ message: expect.stringMatching(/table 'gr_events'.*group 'gr_later'.*does not exist/), fields: expect.objectContaining({ table: 'gr_events', group: 'gr_later' }) }),
  ]);
  const recorded = (t.pipeline.deps.metrics as unknown as { recorded: RecordedMetric[] }).recorded;
  expect(recorded.filter((m) => m.name === 'GrantsSkipped')).toEqual([{ name: 'GrantsSkipped', unit: 'Count', value: 2, table: 'gr_events' }]);
  expect(t.log.entries.filter((e) => e.level === 'warn' && e.fields?.['group'] === 'gr_agg_missing')).toHaveLength(1);
  expect(await rows(t.pipeline, 'SELECT n FROM facts.gr_hourly')).toEqual([{ n: 1 }]);

  await t.pipeline.stack.redshiftData.server.execute('CREATE GROUP gr_later');
  await load('11');
  expect(await rows(t.pipeline, 'SELECT id FROM landing.gr_events ORDER BY 1')).toEqual([{ id: 10 }, { id: 11 }]);
  expect(await grantees()).toEqual(['gr_later', 'gr_present']);
  expect(t.log.entries.filter((e) => e.level === 'warn' && e.fields?.['group'] === 'gr_later')).toHaveLength(1);
}, 120_000);

const factGrantees = async (): Promise<string[]> =>
  (await rows(t.pipeline, "SELECT grantee FROM information_schema.role_table_grants WHERE table_schema = 'facts' AND table_name = 'gs_sql_hourly' AND privilege_type = 'SELECT' AND grantee IN ('gr_present', 'gs_missing') ORDER BY 1")).map((r) => String(r['grantee']));

it('the separate aggregate batch (raw SQL, backfill) grants to the existing groups only, warns and counts GrantsSkipped; after CREATE GROUP it grants', async () => {
  const recorded = (t.pipeline.deps.metrics as unknown as { recorded: RecordedMetric[] }).recorded;
  const skippedBefore = recorded.filter((m) => m.name === 'GrantsSkipped').length;
  await t.pipeline.put([{ key: 'gs/events/2026-11-20T10/part-0.json', body: jsonLines([{ id: 1, at: '2026-11-20T10:05:00Z', v: 1 }]) }]);
  await t.pipeline.settle();
  const [execution] = (await t.pipeline.executions()).filter((e) => e.input['table'] === 'gs_events');
  expect(execution).toMatchObject({ status: 'SUCCEEDED' });
  expect(await rows(t.pipeline, 'SELECT n FROM facts.gs_sql_hourly')).toEqual([{ n: 1 }]);
  expect(await factGrantees()).toEqual(['gr_present']);
  const warnings = () => t.log.entries.filter((e) => e.level === 'warn' && e.fields?.['group'] === 'gs_missing');
  expect(warnings()).toEqual([
    expect.objectContaining({ message: expect.stringMatching(/aggregates 'gs_sql_hourly' to group 'gs_missing'.*does not exist/), fields: expect.objectContaining({ aggregates: ['gs_sql_hourly'], group: 'gs_missing' }) }),
  ]);
  expect(recorded.filter((m) => m.name === 'GrantsSkipped').slice(skippedBefore)).toEqual([{ name: 'GrantsSkipped', unit: 'Count', value: 1, table: 'gs_events' }]);

  // A backfill is the same aggregate batch.
  const backfill = await runManual(t.pipeline, { aggregateOnly: true, aggregates: ['gs_sql_hourly'], start: '2026-11-20T00:00:00Z', end: '2026-11-21T00:00:00Z' });
  expect(backfill.status).toBe('SUCCEEDED');
  expect(warnings()).toHaveLength(2);

  await t.pipeline.stack.redshiftData.server.execute('CREATE GROUP gs_missing');
  const after = await runManual(t.pipeline, { aggregateOnly: true, aggregates: ['gs_sql_hourly'], start: '2026-11-20T00:00:00Z', end: '2026-11-21T00:00:00Z' });
  expect(after.status).toBe('SUCCEEDED');
  expect(await factGrantees()).toEqual(['gr_present', 'gs_missing']);
  expect(warnings()).toHaveLength(2);
}, 120_000);
