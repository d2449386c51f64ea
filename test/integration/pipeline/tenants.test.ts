/**
 * A schema per tenant: one config per tenant, sharing one warehouse and one audit schema. The
 * audit knows a table by its schema-qualified name, so tenant_a.events and tenant_b.events never
 * skip each other's partitions; audit rows written before that (bare table names) still count.
 */
import { count, rows, startTestPipeline, testConfig } from './helpers';

const events = (schema: string) => ({
  schema,
  prefix: `${schema}/events/`,
  partition: 'events_{date:yyyy-MM-dd}.json',
  columns: { id: { type: 'integer', nullable: false }, at: 'date' },
  dataDateColumn: 'at',
});
const tenantA = testConfig({ events: events('tenant_a') });
const tenantB = testConfig({ events: events('tenant_b') });
const tenantC = testConfig({ events: events('tenant_c') });

it("two tenants' configs loading `events` into one warehouse do not skip each other's partitions", async () => {
  const a = await startTestPipeline(tenantA);
  const dataDir = a.dataDir;
  try {
    await a.pipeline.put([{ key: 'tenant_a/events/events_2026-01-05.json', body: '{"id": 1, "at": "2026-01-05"}\n' }]);
    await a.pipeline.settle();
  } finally {
    await a.stop({ keepData: true });
  }
  const b = await startTestPipeline(tenantB, { dataDir });
  try {
    // Older than tenant_a's newest partition: it loads, because it is tenant_b's first.
    await b.pipeline.put([{ key: 'tenant_b/events/events_2026-01-03.json', body: '{"id": 2, "at": "2026-01-03"}\n' }]);
    await b.pipeline.settle();
    expect(await count(b.pipeline, 'SELECT COUNT(*) AS n FROM tenant_b.events')).toBe(1);
    expect(await rows(b.pipeline, "SELECT table_name, partition_date FROM forklift.loads WHERE status = 'loaded' ORDER BY 1")).toEqual([
      { table_name: 'tenant_a.events', partition_date: '2026-01-05T00:00:00.000Z' },
      { table_name: 'tenant_b.events', partition_date: '2026-01-03T00:00:00.000Z' },
    ]);

    // An audit row written by an older version (bare name) still counts for the config's table.
    await b.pipeline.stack.redshiftData.server.query(
      "INSERT INTO forklift.loads (load_id, table_name, partition_date, status) VALUES ('legacy-1', 'events', '2026-01-04 00:00:00', 'loaded')",
    );
    await b.pipeline.put([{ key: 'tenant_b/events/events_2026-01-02.json', body: '{"id": 3, "at": "2026-01-02"}\n' }]);
    await b.pipeline.settle();
    const reasons = b.log.entries.filter((e) => e.message === 'load skipped').map((e) => String(e.fields?.['reason']));
    expect(reasons).toEqual([expect.stringContaining('is older than the newest loaded partition 2026-01-04T00:00:00Z')]);
  } finally {
    await b.stop({ keepData: true });
  }
  // A third tenant added later, after the legacy rows were migrated (README: "A schema per tenant").
  const c = await startTestPipeline(tenantC, { dataDir });
  try {
    await c.pipeline.stack.redshiftData.server.query("UPDATE forklift.loads SET table_name = 'tenant_b.events' WHERE table_name = 'events'");
    await c.pipeline.put([{ key: 'tenant_c/events/events_2026-01-01.json', body: '{"id": 4, "at": "2026-01-01"}\n' }]);
    await c.pipeline.settle();
    expect(await count(c.pipeline, 'SELECT COUNT(*) AS n FROM tenant_c.events')).toBe(1);
  } finally {
    await c.stop();
  }
}, 180_000);
