/** COPY ... FORMAT AS PARQUET on the local Data API: the table must have exactly the file's columns. */
import { type RedshiftDataClient, BatchExecuteStatementCommand } from '@aws-sdk/client-redshift-data';
import { startRedshiftDataServer, type RedshiftDataServer } from '../../../local/redshift-data/server';
import { CLICK_COLUMNS, writeParquet } from '../../fixtures/init/make-parquet';
import { type LocalS3, TARGET, dataClient, startLocalS3, waitDone } from './redshift-data.helpers';

let s3: LocalS3;
let server: RedshiftDataServer;
let client: RedshiftDataClient;
const ROLE = "IAM_ROLE 'arn:aws:iam::123456789012:role/forklift'";
const COLUMNS = 'click_id VARCHAR(64), user_id BIGINT, clicked_at TIMESTAMP, price DOUBLE PRECISION, country VARCHAR(2), is_mobile BOOLEAN';

beforeAll(async () => {
  s3 = await startLocalS3('landing');
  server = await startRedshiftDataServer({ s3: s3.s3 });
  client = dataClient(server.endpoint);
  const at = Date.parse('2026-11-20T10:05:00Z');
  await s3.put('pq/clicks.parquet', writeParquet(CLICK_COLUMNS, [
    ['c1', 1n, BigInt(at), 1.5, 'DE', true],
    ['c2', 2n, BigInt(at + 60_000), null, null, false],
  ]));
});

afterAll(async () => {
  client?.destroy();
  await server?.stop();
  await s3?.close();
});

async function batch(Sqls: string[]) {
  const { Id } = await client.send(new BatchExecuteStatementCommand({ ...TARGET, Sqls }));
  return waitDone(client, Id as string);
}

test('a table with exactly the file\'s columns loads it', async () => {
  const d = await batch([`CREATE TABLE pq_exact (${COLUMNS})`, `COPY pq_exact FROM 's3://landing/pq/clicks.parquet' ${ROLE} FORMAT AS PARQUET`]);
  expect(d.Status).toBe('FINISHED');
  expect(await server.query("SELECT click_id, user_id::int AS u, price, country, is_mobile FROM pq_exact ORDER BY 1")).toEqual([
    { click_id: 'c1', u: 1, price: 1.5, country: 'DE', is_mobile: true },
    { click_id: 'c2', u: 2, price: null, country: null, is_mobile: false },
  ]);
});

test('a table with one more column fails, even with a column list naming only the file\'s columns', async () => {
  const d = await batch([
    `CREATE TABLE pq_extra (${COLUMNS}, _forklift_partition TIMESTAMP)`,
    `COPY pq_extra (click_id, user_id, clicked_at, price, country, is_mobile) FROM 's3://landing/pq/clicks.parquet' ${ROLE} FORMAT AS PARQUET`,
  ]);
  expect(d.Status).toBe('FAILED');
  expect(d.Error).toMatch(/Parquet file has 6 columns .* but table 'pq_extra' has 7: a columnar COPY needs the table's column count to equal the file's/);
});
