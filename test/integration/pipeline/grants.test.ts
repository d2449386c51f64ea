/**
 * A configured read-only group that does not exist in the warehouse never blocks a load: Redshift
 * fails a GRANT to a missing group (`ERROR: group "x" does not exist`, enforced by the local Data
 * API: test/integration/local/redshift-data-ddl.test.ts), so the warehouse-state read looks the
 * groups up in pg_group (Database Developer Guide, "Groups") and the load grants to the existing
 * ones only (the table's, and those of the aggregates recomputed in the load's transaction); Prepare
 * warns, naming the table and the group, and counts GrantsSkipped. Once the group exists, the next
 * load grants.
 */
import type { RecordedMetric } from '../../../functions/runtime/observability';
import { jsonLines, rows, startTestPipeline, testConfig, hourly, type TestPipeline } from './helpers';

const config = testConfig(
  { gr_events: hourly('gr/events/', { readOnlyGroups: ['gr_present', 'gr_later'] }) },
  {
    // Recomputed inside the load's transaction: a GRANT to its missing group would fail the load itself.
    gr_hourly: { schema: 'facts', source: 'gr_events', timeColumn: 'at', grain: 'hour', dimensions: [], measures: { n: { fn: 'count' } }, readOnlyGroups: ['gr_agg_missing'] },
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
