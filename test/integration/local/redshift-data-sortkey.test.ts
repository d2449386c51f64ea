/**
 * SORTKEY on the local Data API: a BRIN index on the leading sort-key column (all columns
 * of an interleaved key), so range filters skip what Redshift's zone maps skip.
 * DISTKEY and ENCODE stay dropped.
 */
import { ExecuteStatementCommand, GetStatementResultCommand, type RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import type { RedshiftDataServer } from '../../../local/redshift-data/server';
import { startDataApiWithoutS3, TARGET, waitDone } from './redshift-data.helpers';

let stopDataApi: () => Promise<void> = async () => undefined;
let server: RedshiftDataServer;
let client: RedshiftDataClient;

beforeAll(async () => {
  ({ server, client, stop: stopDataApi } = await startDataApiWithoutS3());
  await run('CREATE SCHEMA IF NOT EXISTS sk');
});

afterAll(async () => {
  await stopDataApi();
});

async function run(Sql: string) {
  const { Id } = await client.send(new ExecuteStatementCommand({ ...TARGET, Sql }));
  const done = await waitDone(client, Id as string);
  if (done.Status !== 'FINISHED') throw new Error(`${Sql}: ${done.Status} ${done.Error}`);
  return Id as string;
}

/** The table's indexes as pg_indexes shows them, read through the Data API. */
async function indexes(table: string): Promise<string[]> {
  const id = await run(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'sk' AND tablename = '${table}' ORDER BY indexname`);
  const res = await client.send(new GetStatementResultCommand({ Id: id }));
  return (res.Records ?? []).map((r) => r[0]?.stringValue ?? '');
}

test('a compound SORTKEY becomes a BRIN index on its first column; DISTKEY and ENCODE add nothing', async () => {
  await run(`CREATE TABLE IF NOT EXISTS sk.compound (
      id BIGINT NOT NULL ENCODE az64,
      seen_at TIMESTAMP NOT NULL ENCODE raw,
      name VARCHAR(20)
    ) DISTSTYLE KEY DISTKEY(id) COMPOUND SORTKEY(seen_at, id)`);
  expect(await indexes('compound')).toEqual(['CREATE INDEX compound_sortkey ON sk.compound USING brin (seen_at)']);
});

test('a column SORTKEY attribute, a bare SORTKEY (cols) and an INTERLEAVED one', async () => {
  await run('CREATE TABLE sk.col_attr (id BIGINT DISTKEY, "Seen At" TIMESTAMP ENCODE raw SORTKEY, n DECIMAL(12,2))');
  expect(await indexes('col_attr')).toEqual(['CREATE INDEX col_attr_sortkey ON sk.col_attr USING brin ("Seen At")']);
  await run('CREATE TABLE sk.bare (a INTEGER, b INTEGER) SORTKEY (b, a)');
  expect(await indexes('bare')).toEqual(['CREATE INDEX bare_sortkey ON sk.bare USING brin (b)']);
  await run('CREATE TABLE sk.inter (a INTEGER, b INTEGER) INTERLEAVED SORTKEY (a, b)');
  expect(await indexes('inter')).toEqual(['CREATE INDEX inter_sortkey ON sk.inter USING brin (a, b)']);
});

test('no SORTKEY, SORTKEY AUTO and DISTKEY alone leave a table without indexes', async () => {
  await run('CREATE TABLE sk.plain (a INTEGER DISTKEY, b INTEGER ENCODE lzo)');
  await run('CREATE TABLE sk.auto (a INTEGER, b INTEGER) SORTKEY AUTO');
  expect(await indexes('plain')).toEqual([]);
  expect(await indexes('auto')).toEqual([]);
});

test('ALTER TABLE … ALTER SORTKEY replaces the index, and NONE drops it', async () => {
  await run('CREATE TABLE sk.altered (a INTEGER, b INTEGER) SORTKEY (a)');
  await run('ALTER TABLE sk.altered ALTER SORTKEY (b, a)');
  expect(await indexes('altered')).toEqual(['CREATE INDEX altered_sortkey ON sk.altered USING brin (b)']);
  await run('ALTER TABLE sk.altered ALTER SORTKEY NONE');
  expect(await indexes('altered')).toEqual([]);
});

test('rows inserted later are summarized at once: a range filter on the sort key reads only their blocks', async () => {
  await run('CREATE TABLE sk.events (id BIGINT, at TIMESTAMP) SORTKEY (at)');
  // Rows written after the index exists, in time order (as loads arrive), straight into PGlite (no upkeep)...
  await server.execute("INSERT INTO sk.events SELECT g, TIMESTAMP '2026-11-01' + g * INTERVAL '1 second' FROM generate_series(1, 200000) g");
  // ...then one small INSERT through the Data API, whose upkeep summarizes every new page; no ANALYZE by hand.
  await run("INSERT INTO sk.events VALUES (200001, TIMESTAMP '2026-11-03 07:00')");
  const plan = await server.query<{ 'QUERY PLAN': string }>(
    "EXPLAIN (ANALYZE, COSTS OFF) SELECT COUNT(*) FROM sk.events WHERE at >= TIMESTAMP '2026-11-02 05:00' AND at < TIMESTAMP '2026-11-02 06:00'",
  );
  const text = plan.map((r) => r['QUERY PLAN']).join('\n');
  expect(text).toContain('Bitmap Index Scan on events_sortkey');
  expect(text).not.toContain('Seq Scan');
  // 3,600 matching rows: the heap blocks read are a few BRIN ranges (128 pages each), not the table's ~1,000 pages.
  const lossy = Number(/Heap Blocks: lossy=(\d+)/.exec(text)?.[1]);
  expect(lossy).toBeGreaterThan(0);
  expect(lossy).toBeLessThanOrEqual(256);
});
