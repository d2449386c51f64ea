/** The Data API's request limits on the local endpoint: batch size, SQL size, ClientToken idempotency, unknown ids. */
import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  ResourceNotFoundException,
  ValidationException,
  type RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import type { RedshiftDataServer } from '../../../local/redshift-data/server';
import { startDataApiWithoutS3, TARGET, waitDone } from './redshift-data.helpers';

let stopDataApi: () => Promise<void> = async () => undefined;
let server: RedshiftDataServer;
let client: RedshiftDataClient;

beforeAll(async () => {
  ({ server, client, stop: stopDataApi } = await startDataApiWithoutS3());
  await server.execute('CREATE TABLE lim_t (v INT)');
});

afterAll(async () => {
  await stopDataApi();
});

test('BatchExecuteStatement takes 1 to 40 SQLs: 41 is a ValidationException, 40 runs', async () => {
  const sqls = (n: number) => Array.from({ length: n }, (_, i) => `SELECT ${i}`);
  await expect(client.send(new BatchExecuteStatementCommand({ ...TARGET, Sqls: sqls(41) }))).rejects.toBeInstanceOf(ValidationException);
  await expect(client.send(new BatchExecuteStatementCommand({ ...TARGET, Sqls: [] }))).rejects.toBeInstanceOf(ValidationException);
  const { Id } = await client.send(new BatchExecuteStatementCommand({ ...TARGET, Sqls: sqls(40) }));
  expect((await waitDone(client, Id as string)).Status).toBe('FINISHED');
});

test('a SQL over 100 KB is a ValidationException, in ExecuteStatement and in a batch', async () => {
  const big = `SELECT '${'x'.repeat(100 * 1024)}'`;
  await expect(client.send(new ExecuteStatementCommand({ ...TARGET, Sql: big }))).rejects.toBeInstanceOf(ValidationException);
  await expect(client.send(new BatchExecuteStatementCommand({ ...TARGET, Sqls: ['SELECT 1', big] }))).rejects.toThrow(/100 KB/);
  const fits = `SELECT '${'x'.repeat(100 * 1024 - 20)}'`;
  const { Id } = await client.send(new ExecuteStatementCommand({ ...TARGET, Sql: fits }));
  expect((await waitDone(client, Id as string)).Status).toBe('FINISHED');
});

test('ClientToken: the same token returns the same statement id and does not run it again', async () => {
  const request = { ...TARGET, Sqls: ['INSERT INTO lim_t VALUES (1)'], ClientToken: 'token-1' };
  const first = await client.send(new BatchExecuteStatementCommand(request));
  await waitDone(client, first.Id as string);
  const again = await client.send(new BatchExecuteStatementCommand(request));
  expect(again.Id).toBe(first.Id);
  const single = await client.send(new ExecuteStatementCommand({ ...TARGET, Sql: 'INSERT INTO lim_t VALUES (2)', ClientToken: 'token-2' }));
  const retried = await client.send(new ExecuteStatementCommand({ ...TARGET, Sql: 'INSERT INTO lim_t VALUES (2)', ClientToken: 'token-2' }));
  expect(retried.Id).toBe(single.Id);
  await waitDone(client, single.Id as string);
  expect(await server.query('SELECT v FROM lim_t ORDER BY v')).toEqual([{ v: 1 }, { v: 2 }]);
  // Another token is another statement.
  const other = await client.send(new BatchExecuteStatementCommand({ ...request, ClientToken: 'token-3' }));
  expect(other.Id).not.toBe(first.Id);
  await waitDone(client, other.Id as string);
});

test('an unknown statement id is a ResourceNotFoundException for Describe, GetStatementResult and Cancel', async () => {
  const Id = '00000000-0000-0000-0000-000000000000';
  await expect(client.send(new DescribeStatementCommand({ Id }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  await expect(client.send(new GetStatementResultCommand({ Id }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  await expect(client.send(new CancelStatementCommand({ Id: `${Id}:1` }))).rejects.toBeInstanceOf(ResourceNotFoundException);
});
