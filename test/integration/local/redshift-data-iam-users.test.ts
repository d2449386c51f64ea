/**
 * Redshift Serverless with IAM credentials: each IAM role is its own database user `IAMR:<role>`
 * (Management Guide, "Authorizing access to the Data API"), created on first use. The local Data
 * API knows the caller's role from the access key id that signed the request (the `iamRoles` map).
 * What one role creates is its own: another role cannot write it until granted.
 */
import { ExecuteStatementCommand, RedshiftDataClient, GetStatementResultCommand } from '@aws-sdk/client-redshift-data';
import { startRedshiftDataServer, type RedshiftDataServer } from '../../../local/redshift-data/server';
import { startLocalS3, TARGET, waitDone, type LocalS3 } from './redshift-data.helpers';

let s3: LocalS3;
let server: RedshiftDataServer;
const clients: RedshiftDataClient[] = [];
const clientAs = (accessKeyId: string): RedshiftDataClient => {
  const c = new RedshiftDataClient({ region: 'us-east-1', endpoint: server.endpoint, credentials: { accessKeyId, secretAccessKey: 'secret' }, maxAttempts: 1 });
  clients.push(c);
  return c;
};

beforeAll(async () => {
  s3 = await startLocalS3();
  server = await startRedshiftDataServer({ s3: s3.s3, iamRoles: { AKIDDISCOVER: 'forklift-discover', AKIDSTATES: 'forklift-states', AKIDFRESH: 'forklift-fresh' } });
  // What README's Serverless section tells the administrator to do before the first load.
  for (const role of ['forklift-discover', 'forklift-states']) {
    await asAdmin(`CREATE USER "IAMR:${role}" PASSWORD DISABLE`);
    await asAdmin(`GRANT CREATE ON DATABASE dev TO "IAMR:${role}"`);
  }
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await server?.stop();
  await s3?.close();
});

/** A statement as the admin user (an unmapped key), which must succeed. */
async function asAdmin(sql: string): Promise<void> {
  const result = await run(clientAs('AKIDADMIN'), sql);
  if (result.Status !== 'FINISHED') throw new Error(`${sql}: ${result.Error}`);
}

async function run(client: RedshiftDataClient, Sql: string, target: Record<string, string> = TARGET) {
  const { Id } = await client.send(new ExecuteStatementCommand({ ...target, Sql }));
  const d = await waitDone(client, Id as string);
  return { ...d, rows: d.Status === 'FINISHED' && d.HasResultSet ? (await client.send(new GetStatementResultCommand({ Id }))).Records : undefined };
}

it("a role's user starts with PUBLIC's privileges only: schema public, and schemas once an administrator grants CREATE on the database", async () => {
  const fresh = clientAs('AKIDFRESH');
  expect((await run(fresh, 'CREATE TABLE public.scratch (id INTEGER)')).Status).toBe('FINISHED');
  const denied = await run(fresh, 'CREATE SCHEMA fresh');
  expect(denied.Status).toBe('FAILED');
  expect(denied.Error).toMatch(/^ERROR: permission denied for database /);
  await asAdmin('GRANT CREATE ON DATABASE dev TO "IAMR:forklift-fresh"');
  expect((await run(fresh, 'CREATE SCHEMA fresh')).Status).toBe('FINISHED');
  expect((await run(clientAs('AKIDADMIN'), 'GRANT CREATE ON DATABASE other TO "IAMR:forklift-fresh"')).Error).toMatch(/database "other" does not exist/);
});

it('runs each role as IAMR:<role>; objects one role creates are not writable by another until granted', async () => {
  const discover = clientAs('AKIDDISCOVER');
  const states = clientAs('AKIDSTATES');
  expect((await run(discover, 'SELECT current_user AS u')).rows).toEqual([[{ stringValue: 'IAMR:forklift-discover' }]]);
  expect((await run(states, 'SELECT current_user AS u')).rows).toEqual([[{ stringValue: 'IAMR:forklift-states' }]]);

  expect((await run(discover, 'CREATE SCHEMA idn')).Status).toBe('FINISHED');
  expect((await run(discover, 'CREATE TABLE idn.t (id INTEGER)')).Status).toBe('FINISHED');
  const denied = await run(states, 'INSERT INTO idn.t VALUES (1)');
  expect(denied.Status).toBe('FAILED');
  expect(denied.Error).toMatch(/^ERROR: permission denied for schema idn/);

  expect((await run(discover, 'GRANT USAGE ON SCHEMA idn TO "IAMR:forklift-states"')).Status).toBe('FINISHED');
  expect((await run(discover, 'GRANT SELECT, INSERT ON idn.t TO "IAMR:forklift-states"')).Status).toBe('FINISHED');
  expect((await run(states, 'INSERT INTO idn.t VALUES (1)')).Status).toBe('FINISHED');
  expect(await server.query("SELECT tableowner FROM pg_tables WHERE schemaname = 'idn'")).toEqual([{ tableowner: 'IAMR:forklift-discover' }]);
});

it('a SecretArn, a provisioned cluster or an unmapped key runs as the admin user', async () => {
  const discover = clientAs('AKIDDISCOVER');
  const withSecret = await run(discover, 'SELECT current_user AS u', { ...TARGET, SecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:admin' });
  expect(withSecret.rows).toEqual([[{ stringValue: 'postgres' }]]);
  const cluster = await run(discover, 'SELECT current_user AS u', { Database: 'dev', ClusterIdentifier: 'c', DbUser: 'admin' });
  expect(cluster.rows).toEqual([[{ stringValue: 'postgres' }]]);
  expect((await run(clientAs('AKIDOTHER'), 'SELECT current_user AS u')).rows).toEqual([[{ stringValue: 'postgres' }]]);
});

it('COPY as a role: into a table of its own it loads; into another role\'s table, permission denied until granted INSERT', async () => {
  const discover = clientAs('AKIDDISCOVER');
  const states = clientAs('AKIDSTATES');
  await s3.put('iam/rows.csv', '1\n2\n');
  const copy = (table: string) => `COPY ${table} FROM 's3://landing/iam/rows.csv' IAM_ROLE 'arn:aws:iam::123456789012:role/copy' CSV`;
  expect((await run(states, 'CREATE SCHEMA cp')).Status).toBe('FINISHED');
  expect((await run(states, 'CREATE TABLE cp.own (id INTEGER)')).Status).toBe('FINISHED');
  expect((await run(states, copy('cp.own'))).Status).toBe('FINISHED');
  expect(await server.query('SELECT count(*)::int AS n FROM cp.own')).toEqual([{ n: 2 }]);

  expect((await run(states, 'GRANT USAGE ON SCHEMA cp TO "IAMR:forklift-discover"')).Status).toBe('FINISHED');
  const denied = await run(discover, copy('cp.own'));
  expect(denied.Status).toBe('FAILED');
  expect(denied.Error).toMatch(/^ERROR: permission denied for (table|relation) own/);
  expect((await run(states, 'GRANT INSERT ON cp.own TO "IAMR:forklift-discover"')).Status).toBe('FINISHED');
  expect((await run(discover, copy('cp.own'))).Status).toBe('FINISHED');
  expect(await server.query('SELECT count(*)::int AS n FROM cp.own')).toEqual([{ n: 4 }]);
});
