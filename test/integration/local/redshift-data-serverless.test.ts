/** Redshift Serverless on the local Data API: a workgroup has the SYS views and no STL/STV/SVL views. */
import { ExecuteStatementCommand, GetStatementResultCommand, type RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { S3Client } from '@aws-sdk/client-s3';
import { startRedshiftDataServer, type RedshiftDataServer } from '../../../local/redshift-data/server';
import { TARGET, dataClient, waitDone } from './redshift-data.helpers';

const s3 = new S3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
let server: RedshiftDataServer;
let client: RedshiftDataClient;
const PROVISIONED = { Database: 'dev', ClusterIdentifier: 'forklift', DbUser: 'forklift' };

beforeAll(async () => {
  server = await startRedshiftDataServer({ s3 });
  client = dataClient(server.endpoint);
});

afterAll(async () => {
  client?.destroy();
  await server?.stop();
  s3.destroy();
});

async function run(target: Record<string, string>, Sql: string) {
  const { Id } = await client.send(new ExecuteStatementCommand({ ...target, Sql } as never));
  return waitDone(client, Id as string);
}

test('a Serverless workgroup has no stl_* views; a provisioned cluster has them', async () => {
  const serverless = await run(TARGET, 'SELECT COUNT(*) FROM stl_load_errors');
  expect(serverless.Status).toBe('FAILED');
  expect(serverless.Error).toBe('ERROR: relation "stl_load_errors" does not exist');
  expect((await run(TARGET, 'SELECT f.x FROM (SELECT 1 AS x) f JOIN STL_QUERY q ON 1 = 1')).Error).toBe('ERROR: relation "stl_query" does not exist');
  expect((await run(PROVISIONED, 'SELECT COUNT(*) FROM stl_load_errors')).Status).toBe('FINISHED');
});

test("sys_load_error_detail exists on both, with AWS's column names", async () => {
  for (const target of [TARGET, PROVISIONED]) {
    const d = await run(target, 'SELECT * FROM sys_load_error_detail LIMIT 1');
    expect(d.Status).toBe('FINISHED');
    const r = await client.send(new GetStatementResultCommand({ Id: d.Id }));
    expect(r.ColumnMetadata?.map((c) => c.name)).toEqual([
      'user_id', 'query_id', 'transaction_id', 'session_id', 'database_name', 'table_id', 'start_time', 'file_name',
      'line_number', 'column_name', 'column_type', 'column_length', 'position', 'error_code', 'error_message',
    ]);
  }
});
