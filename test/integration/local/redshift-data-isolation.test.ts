/**
 * Redshift's serializable isolation on the local Data API: overlapping transactions whose
 * table reads and writes form a cycle fail with 1023; LOCK as the first statement waits for
 * the holder instead; a LOCK after other statements does not help.
 */
import { BatchExecuteStatementCommand, type RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { statementAccess } from '../../../local/redshift-data/isolation';
import type { RedshiftDataServer } from '../../../local/redshift-data/server';
import { startDataApiWithoutS3, TARGET, waitDone } from './redshift-data.helpers';

let stopDataApi: () => Promise<void> = async () => undefined;
let server: RedshiftDataServer;
let client: RedshiftDataClient;

beforeAll(async () => {
  ({ server, client, stop: stopDataApi } = await startDataApiWithoutS3());
  await server.execute('CREATE SCHEMA iso');
  await server.execute('CREATE TABLE iso.a (v INT)');
  await server.execute('CREATE TABLE iso.b (v INT)');
  await server.execute('CREATE TABLE iso.shared (v INT)');
});

afterAll(async () => {
  await stopDataApi();
});

async function submit(Sqls: string[]): Promise<string> {
  const { Id } = await client.send(new BatchExecuteStatementCommand({ ...TARGET, Sqls }));
  return Id as string;
}

/** Submits the batches while the queue is held, so their transactions overlap; returns their descriptions. */
async function overlapping(...batches: string[][]) {
  server.pause();
  const ids: string[] = [];
  for (const b of batches) ids.push(await submit(b));
  server.resume();
  return Promise.all(ids.map((id) => waitDone(client, id)));
}

const ERROR_1023 = /^ERROR: 1023 DETAIL: Serializable isolation violation on table - \d+, transactions forming the cycle are: \d+, \d+ \(pid:\d+\)$/;

test('overlapping transactions that each read what the other writes: the second fails with 1023 and rolls back', async () => {
  const [t1, t2] = await overlapping(
    ['SELECT COUNT(*) FROM iso.a', 'INSERT INTO iso.b VALUES (1)'],
    ['SELECT COUNT(*) FROM iso.b', 'INSERT INTO iso.a VALUES (2)'],
  );
  expect(t1?.Status).toBe('FINISHED');
  expect(t2?.Status).toBe('FAILED');
  expect(t2?.Error).toMatch(ERROR_1023);
  // The statement that closes the cycle fails: T2's write of a table T1 read.
  expect(t2?.SubStatements?.map((s) => s.Status)).toEqual(['FINISHED', 'FAILED']);
  expect(await server.query('SELECT v FROM iso.a')).toEqual([]);
  expect(await server.query('SELECT v FROM iso.b')).toEqual([{ v: 1 }]);
  await server.execute('DELETE FROM iso.b');
});

test('the same transactions one after the other both commit', async () => {
  const t1 = await waitDone(client, await submit(['SELECT COUNT(*) FROM iso.a', 'INSERT INTO iso.b VALUES (1)']));
  const t2 = await waitDone(client, await submit(['SELECT COUNT(*) FROM iso.b', 'INSERT INTO iso.a VALUES (2)']));
  expect([t1.Status, t2.Status]).toEqual(['FINISHED', 'FINISHED']);
  await server.execute('DELETE FROM iso.a');
  await server.execute('DELETE FROM iso.b');
});

test('LOCK as the first statement waits for the holder: both commit, the second sees the first', async () => {
  const [t1, t2] = await overlapping(
    ['LOCK iso.a, iso.b', 'SELECT COUNT(*) FROM iso.a', 'INSERT INTO iso.b SELECT COUNT(*) FROM iso.a'],
    ['LOCK iso.a, iso.b', 'SELECT COUNT(*) FROM iso.b', 'INSERT INTO iso.a SELECT COUNT(*) FROM iso.b'],
  );
  expect([t1?.Status, t2?.Status]).toEqual(['FINISHED', 'FINISHED']);
  expect(await server.query('SELECT v FROM iso.a')).toEqual([{ v: 1 }]);
  await server.execute('DELETE FROM iso.a');
  await server.execute('DELETE FROM iso.b');
});

test('a LOCK after other statements does not prevent the violation', async () => {
  const [t1, t2] = await overlapping(
    ['SELECT 1', 'LOCK iso.a, iso.b', 'SELECT COUNT(*) FROM iso.a', 'INSERT INTO iso.b VALUES (1)'],
    ['SELECT 1', 'LOCK iso.a, iso.b', 'SELECT COUNT(*) FROM iso.b', 'INSERT INTO iso.a VALUES (2)'],
  );
  expect(t1?.Status).toBe('FINISHED');
  expect(t2?.Error).toMatch(ERROR_1023);
  await server.execute('DELETE FROM iso.b');
});

test('blind writes to a shared table and reads of different tables do not conflict', async () => {
  const [t1, t2, t3] = await overlapping(
    ['LOCK iso.a', 'INSERT INTO iso.a SELECT COUNT(*) FROM iso.a', 'INSERT INTO iso.shared VALUES (1)'],
    ['LOCK iso.b', 'INSERT INTO iso.b SELECT COUNT(*) FROM iso.b', 'INSERT INTO iso.shared VALUES (2)'],
    ['SELECT COUNT(*) FROM iso.shared, iso.a'],
  );
  expect([t1?.Status, t2?.Status, t3?.Status]).toEqual(['FINISHED', 'FINISHED', 'FINISHED']);
  // A reader of the shared table that also writes what a writer of it reads: conflict.
  const [w, r] = await overlapping(
    ['SELECT COUNT(*) FROM iso.a', 'INSERT INTO iso.shared VALUES (3)'],
    ['SELECT COUNT(*) FROM iso.shared', 'DELETE FROM iso.a'],
  );
  expect(w?.Status).toBe('FINISHED');
  expect(r?.Error).toMatch(ERROR_1023);
});

test('a held submission runs after later ones and still overlaps them', async () => {
  const release = server.hold((record) => record.subStatements[0]?.sql.includes('held') === true);
  const held = await submit(['SELECT COUNT(*) AS held FROM iso.a', 'INSERT INTO iso.b VALUES (9)']);
  const other = await waitDone(client, await submit(['SELECT COUNT(*) FROM iso.b', 'INSERT INTO iso.a VALUES (9)']));
  expect(other.Status).toBe('FINISHED');
  release();
  const d = await waitDone(client, held);
  expect(d.Error).toMatch(ERROR_1023);
});

test('table accesses are parsed generically: comma joins, unqualified names, CTEs, subqueries, catalog views', () => {
  const names = (list: Array<{ schema?: string; name: string }>) => list.map((r) => (r.schema ? `${r.schema}.${r.name}` : r.name));
  const a = statementAccess(
    'INSERT INTO "S"."Out" (x) WITH recent AS (SELECT * FROM s.events) SELECT r.x FROM recent r, s.dims d JOIN lookup l ON l.k = d.k ' +
      'WHERE EXISTS (SELECT 1 FROM information_schema.tables) AND r.t > (SELECT MAX(t) FROM s.marks)',
  );
  expect(names(a.reads).sort()).toEqual(['lookup', 's.dims', 's.events', 's.marks']);
  expect(names(a.writes)).toEqual(['S.Out']);
  const d = statementAccess('DELETE FROM s.t USING s.u, (SELECT 1) x WHERE s.t.k = s.u.k');
  expect([names(d.reads).sort(), names(d.writes)]).toEqual([['s.t', 's.u'], ['s.t']]);
  expect(names(statementAccess('LOCK s.a, "B"').locks)).toEqual(['s.a', 'B']);
  expect(names(statementAccess("COPY staging (a) FROM 's3://b/k' IAM_ROLE 'r'").writes)).toEqual(['staging']);
  expect(statementAccess("SELECT EXTRACT(hour FROM at) FROM s.t").reads.map((r) => r.name)).toEqual(['at', 't']);
  expect(statementAccess('CREATE TABLE IF NOT EXISTS s.n (a INT)').creates).toEqual({ schema: 's', name: 'n' });
  expect(statementAccess('CREATE TEMP TABLE tmp (LIKE s.t)').creates).toBeUndefined();
});
