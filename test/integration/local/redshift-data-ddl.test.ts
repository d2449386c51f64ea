/**
 * Redshift's DDL rules on the local Data API, each as Redshift states it (sources per test).
 * Every test here failed on the stack before these rules were enforced.
 */
import type { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import type { RedshiftDataServer } from '../../../local/redshift-data/server';
import { runBatchStatement, runStatement, startDataApiWithoutS3 } from './redshift-data.helpers';

let stopDataApi: () => Promise<void> = async () => undefined;
let server: RedshiftDataServer;
let client: RedshiftDataClient;

beforeAll(async () => {
  ({ server, client, stop: stopDataApi } = await startDataApiWithoutS3());
  const setup = await batch(['CREATE SCHEMA ddl', 'CREATE TABLE ddl.t (id INTEGER, name VARCHAR(10))']);
  expect(setup.Error).toBeUndefined();
});

afterAll(async () => {
  await stopDataApi();
});

const run = (Sql: string) => runStatement(client, Sql);
const batch = (Sqls: string[]) => runBatchStatement(client, Sqls);

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

describe('ALTER TABLE adds one column per statement (Database Developer Guide, ALTER TABLE: "You can add only one column in each ALTER TABLE statement")', () => {
  it('refuses two ADD COLUMN clauses in one ALTER TABLE and leaves the table as it was', async () => {
    const d = await run('ALTER TABLE ddl.t ADD COLUMN a INTEGER, ADD COLUMN b INTEGER');
    expect(d.Status).toBe('FAILED');
    expect(d.Error).toMatch(/^ERROR: syntax error at or near ","/);
    expect((await run('ALTER TABLE ddl.t ADD b2 INTEGER, ADD c2 INTEGER')).Status).toBe('FAILED');
    const columns = await server.query("SELECT column_name FROM information_schema.columns WHERE table_schema = 'ddl' AND table_name = 't' ORDER BY ordinal_position");
    expect(columns.map((c) => c.column_name)).toEqual(['id', 'name']);
  });

  it('accepts one ADD COLUMN per statement, several statements in one batch', async () => {
    const d = await batch(['ALTER TABLE ddl.t ADD COLUMN a INTEGER', 'ALTER TABLE ddl.t ADD COLUMN b VARCHAR(5) ENCODE ZSTD']);
    expect(d.Error).toBeUndefined();
    const columns = await server.query("SELECT column_name FROM information_schema.columns WHERE table_schema = 'ddl' AND table_name = 't' ORDER BY ordinal_position");
    expect(columns.map((c) => c.column_name)).toEqual(['id', 'name', 'a', 'b']);
  });
});

describe('leader-node-only catalog relations are never queried with Redshift tables (Database Developer Guide, "Leader node-only functions", "Querying the catalog tables")', () => {
  const refused = [
    ['a JOIN', "SELECT c.column_name FROM information_schema.columns c JOIN ddl.t ON c.column_name = t.name"],
    ['a comma join', 'SELECT 1 FROM ddl.t, information_schema.tables'],
    ['a subquery', "SELECT id FROM ddl.t WHERE name IN (SELECT column_name FROM information_schema.columns)"],
    ['an unqualified catalog name', 'SELECT t.id FROM ddl.t t JOIN pg_table_def d ON d.tablename = t.name'],
    ['a catalog view in pg_catalog', 'SELECT 1 FROM pg_catalog.pg_roles r, ddl.t'],
    ['a system table', 'SELECT 1 FROM information_schema.tables, sys_load_error_detail'],
    ['a UNION', "SELECT table_name FROM information_schema.tables UNION ALL SELECT name FROM ddl.t"],
  ] as const;
  it.each(refused)('refuses %s', async (_form, sql) => {
    const d = await run(sql);
    expect(d.Status).toBe('FAILED');
    expect(d.Error).toMatch(/^ERROR: Specified types or functions \(one per INFO message\) not supported on Redshift tables\./);
  });

  it('runs catalog-only queries, and the joinable catalog tables (pg_class, pg_namespace) with Redshift tables', async () => {
    for (const sql of [
      "SELECT column_name FROM information_schema.columns WHERE table_schema = 'ddl'",
      'SELECT groname FROM pg_group',
      'SELECT r.rolname FROM pg_roles r JOIN pg_namespace n ON n.nspowner = r.oid',
      "SELECT t.id FROM ddl.t t JOIN pg_class c ON c.relname = 't' JOIN pg_namespace n ON n.oid = c.relnamespace",
      'WITH columns AS (SELECT 1 AS x) SELECT x FROM columns, ddl.t',
    ]) {
      const d = await run(sql);
      expect([sql, d.Status, d.Error]).toEqual([sql, 'FINISHED', undefined]);
    }
  });
});

describe('ENCODE fits the column type (Database Developer Guide, "Compression encodings": the encodings table)', () => {
  it.each([
    ['AZ64 on VARCHAR', 'CREATE TABLE ddl.e1 (id INTEGER, name VARCHAR(10) ENCODE AZ64)', 'name'],
    ['AZ64 on BOOLEAN', 'CREATE TABLE ddl.e2 (flag BOOLEAN ENCODE az64)', 'flag'],
    ['TEXT255 on INTEGER', 'CREATE TABLE ddl.e3 (n INTEGER ENCODE TEXT255)', 'n'],
    ['TEXT32K on CHAR', 'CREATE TABLE ddl.e4 (c CHAR(2) ENCODE text32k)', 'c'],
    ['BYTEDICT on BOOLEAN', 'CREATE TABLE ddl.e5 (b BOOLEAN ENCODE BYTEDICT)', 'b'],
    ['LZO on DOUBLE PRECISION', 'CREATE TABLE ddl.e6 (d DOUBLE PRECISION ENCODE LZO)', 'd'],
    ['AZ64 on an added VARCHAR', 'ALTER TABLE ddl.t ADD COLUMN z VARCHAR(3) ENCODE AZ64', 'z'],
  ])('refuses %s', async (_what, sql, column) => {
    const d = await run(sql);
    expect(d.Status).toBe('FAILED');
    expect(d.Error).toMatch(new RegExp(`^ERROR: invalid encoding type specified for column "${column}"`));
  });

  it('accepts encodings that fit (AZ64 on numbers and timestamps, TEXT255 and BYTEDICT on VARCHAR, ZSTD and RUNLENGTH on anything)', async () => {
    const d = await run(
      'CREATE TABLE ddl.ok_enc (id BIGINT ENCODE AZ64, at TIMESTAMP ENCODE az64, t VARCHAR(20) ENCODE TEXT255, b VARCHAR(20) ENCODE BYTEDICT, f BOOLEAN ENCODE ZSTD, r BOOLEAN ENCODE RUNLENGTH, m VARCHAR(MAX) ENCODE LZO)',
    );
    expect([d.Status, d.Error]).toEqual(['FINISHED', undefined]);
  });
});

describe('VARCHAR widening (Database Developer Guide, ALTER TABLE, ALTER COLUMN … TYPE: not on BYTEDICT, RUNLENGTH, TEXT255 or TEXT32K columns; not within a transaction block)', () => {
  beforeAll(async () => {
    const d = await run('CREATE TABLE ddl.w (a VARCHAR(5) ENCODE BYTEDICT, b VARCHAR(5) ENCODE RUNLENGTH, c VARCHAR(5) ENCODE TEXT255, d VARCHAR(5) ENCODE TEXT32K, e VARCHAR(5) ENCODE ZSTD, f VARCHAR(5))');
    expect(d.Error).toBeUndefined();
  });

  it.each(['a', 'b', 'c', 'd'])('refuses to widen column %s (encoded BYTEDICT, RUNLENGTH, TEXT255, TEXT32K)', async (column) => {
    const d = await run(`ALTER TABLE ddl.w ALTER COLUMN ${column} TYPE VARCHAR(50)`);
    expect(d.Status).toBe('FAILED');
    expect(d.Error).toMatch(new RegExp(`^ERROR: cannot alter type of column "${column}": ALTER COLUMN TYPE is not supported for columns with (BYTEDICT|RUNLENGTH|TEXT255|TEXT32K) encoding`));
  });

  it('widens ZSTD and unencoded columns on their own, never inside a batch (a transaction block)', async () => {
    const inBatch = await batch(['ALTER TABLE ddl.w ALTER COLUMN e TYPE VARCHAR(50)', 'SELECT 1']);
    expect(inBatch.Status).toBe('FAILED');
    expect(inBatch.Error).toBe('ERROR: ALTER TABLE ALTER COLUMN cannot run inside a transaction block');
    expect((await run('ALTER TABLE ddl.w ALTER COLUMN e TYPE VARCHAR(50)')).Status).toBe('FINISHED');
    expect((await run('ALTER TABLE ddl.w ALTER COLUMN f TYPE VARCHAR(50)')).Status).toBe('FINISHED');
    const lengths = await server.query("SELECT column_name, character_maximum_length AS n FROM information_schema.columns WHERE table_schema = 'ddl' AND table_name = 'w' ORDER BY 1");
    expect(lengths).toEqual(['a', 'b', 'c', 'd', 'e', 'f'].map((c) => ({ column_name: c, n: c === 'e' || c === 'f' ? 50 : 5 })));
  });

  it('widens a column after ALTER COLUMN … ENCODE moved it off BYTEDICT', async () => {
    expect((await run('ALTER TABLE ddl.w ALTER COLUMN a ENCODE ZSTD')).Status).toBe('FINISHED');
    expect((await run('ALTER TABLE ddl.w ALTER COLUMN a TYPE VARCHAR(60)')).Status).toBe('FINISHED');
  });
});
