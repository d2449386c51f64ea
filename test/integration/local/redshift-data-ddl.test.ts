/**
 * Redshift's DDL rules on the local Data API, each as Redshift states it (sources per test).
 * Every test here failed on the stack before these rules were enforced.
 */
import { BatchExecuteStatementCommand, ExecuteStatementCommand, type RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { S3Client } from '@aws-sdk/client-s3';
import { startRedshiftDataServer, type RedshiftDataServer } from '../../../local/redshift-data/server';
import { TARGET, dataClient, waitDone } from './redshift-data.helpers';

const s3 = new S3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
let server: RedshiftDataServer;
let client: RedshiftDataClient;

beforeAll(async () => {
  server = await startRedshiftDataServer({ s3 });
  client = dataClient(server.endpoint);
  const setup = await batch(['CREATE SCHEMA ddl', 'CREATE TABLE ddl.t (id INTEGER, name VARCHAR(10))']);
  expect(setup.Error).toBeUndefined();
});

afterAll(async () => {
  client?.destroy();
  await server?.stop();
  s3.destroy();
});

async function run(Sql: string) {
  const { Id } = await client.send(new ExecuteStatementCommand({ ...TARGET, Sql }));
  return waitDone(client, Id as string);
}

async function batch(Sqls: string[]) {
  const { Id } = await client.send(new BatchExecuteStatementCommand({ ...TARGET, Sqls }));
  return waitDone(client, Id as string);
}

describe('GRANT and REVOKE name existing grantees (Redshift: group "x" does not exist; Database Developer Guide, "GRANT", "Groups")', () => {
  it('fails a GRANT to a missing group with Redshift\'s text and rolls the batch back', async () => {
    const d = await batch(['CREATE TABLE ddl.g1 (id INTEGER)', 'GRANT SELECT ON ddl.g1 TO GROUP nobody_here']);
    expect(d.Status).toBe('FAILED');
    expect(d.Error).toBe('ERROR: group "nobody_here" does not exist');
    expect(await server.query("SELECT to_regclass('ddl.g1')::text AS t")).toEqual([{ t: null }]);
  });

  it('fails a GRANT to a missing user, and to a missing group among existing ones', async () => {
    expect((await run('GRANT SELECT ON ddl.t TO nobody_user')).Error).toBe('ERROR: user "nobody_user" does not exist');
    expect((await run('CREATE GROUP present_group')).Status).toBe('FINISHED');
    expect((await run('GRANT USAGE ON SCHEMA ddl TO GROUP present_group, GROUP absent_group')).Error).toBe('ERROR: group "absent_group" does not exist');
    expect((await run('ALTER DEFAULT PRIVILEGES IN SCHEMA ddl GRANT SELECT ON TABLES TO GROUP absent_group')).Error).toBe(
      'ERROR: group "absent_group" does not exist',
    );
    expect((await run('REVOKE SELECT ON ddl.t FROM GROUP absent_group')).Error).toBe('ERROR: group "absent_group" does not exist');
  });

  it('grants to a group once CREATE GROUP made it, and to PUBLIC', async () => {
    expect((await run('GRANT SELECT ON ddl.t TO GROUP present_group')).Status).toBe('FINISHED');
    expect((await run('GRANT SELECT ON ddl.t TO PUBLIC')).Status).toBe('FINISHED');
    const grants = await server.query("SELECT grantee FROM information_schema.role_table_grants WHERE table_name = 't' AND table_schema = 'ddl' AND privilege_type = 'SELECT' ORDER BY 1");
    expect(grants.map((g) => g.grantee)).toEqual(expect.arrayContaining(['present_group', 'PUBLIC']));
  });
});
