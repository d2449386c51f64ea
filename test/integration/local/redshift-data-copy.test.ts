/** COPY from the local S3 through the real SDK clients: formats, sources, type checks, stl_load_errors. */
import { GetStatementResultCommand, type RedshiftDataClient, BatchExecuteStatementCommand, ExecuteStatementCommand } from '@aws-sdk/client-redshift-data';
import { gzipSync } from 'node:zlib';
import { startRedshiftDataServer, type RedshiftDataServer } from '../../../local/redshift-data/server';
import { type LocalS3, TARGET, dataClient, startLocalS3, waitDone } from './redshift-data.helpers';

let s3: LocalS3;
let server: RedshiftDataServer;
let client: RedshiftDataClient;
const ROLE = "IAM_ROLE 'arn:aws:iam::123456789012:role/forklift'";

beforeAll(async () => {
  s3 = await startLocalS3('landing');
  server = await startRedshiftDataServer({ s3: s3.s3 });
  client = dataClient(server.endpoint);
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

async function run(Sql: string) {
  const { Id } = await client.send(new ExecuteStatementCommand({ ...TARGET, Sql }));
  return waitDone(client, Id as string);
}

const VISITS_DDL = (name: string): string =>
  `CREATE TABLE ${name} (visit_id BIGINT NOT NULL, campaign_id INTEGER, amount DECIMAL(8,2), ok BOOLEAN,
     page VARCHAR(12), seen_at TIMESTAMP, day DATE, extra VARCHAR(200)) DISTKEY(visit_id) SORTKEY(seen_at)`;

test('COPY JSON auto from a gzip object: keys map to columns, missing keys are NULL, nested values are JSON text', async () => {
  const lines = [
    { visit_id: 1, campaign_id: 10, amount: 12.5, ok: true, page: '/a', seen_at: '2026-11-20T13:05:00Z', day: '2026-11-20', extra: { k: [1, 2] } },
    { visit_id: 2, campaign_id: null, amount: '3', ok: 'f', page: 'é'.repeat(6), seen_at: '2026-11-20 13:05:00.123456+02:00' },
    { visit_id: 3, Campaign_ID: 99, seen_at: '2026-11-20T23:59:59.5-01:00' },
  ];
  await s3.put('json/visits.json.gz', gzipSync(lines.map((l) => JSON.stringify(l)).join('\n') + '\n'));
  const d = await batch([
    VISITS_DDL('visits_json'),
    `COPY visits_json FROM 's3://landing/json/visits.json.gz' ${ROLE} FORMAT AS JSON 'auto' GZIP TIMEFORMAT 'auto' DATEFORMAT 'auto' REGION 'us-east-1' STATUPDATE OFF COMPUPDATE OFF`,
    'SELECT pg_last_copy_count()',
  ]);
  expect(d.Error).toBeUndefined();
  expect(d.SubStatements?.[1]?.ResultRows).toBe(3);
  const count = await client.send(new GetStatementResultCommand({ Id: `${d.Id}:3` }));
  expect(count.Records).toEqual([[{ longValue: 3 }]]);
  const rows = await server.query(
    "SELECT visit_id::int AS id, campaign_id, amount::text AS amount, ok, page, seen_at::text AS seen_at, day::text AS day, extra FROM visits_json ORDER BY visit_id",
  );
  expect(rows).toEqual([
    { id: 1, campaign_id: 10, amount: '12.50', ok: true, page: '/a', seen_at: '2026-11-20 13:05:00', day: '2026-11-20', extra: '{"k":[1,2]}' },
    { id: 2, campaign_id: null, amount: '3.00', ok: false, page: 'éééééé', seen_at: '2026-11-20 11:05:00.123456', day: null, extra: null },
    { id: 3, campaign_id: null, amount: null, ok: null, page: null, seen_at: '2026-11-21 00:59:59.5', day: null, extra: null },
  ]);
  await run('CREATE TABLE visits_ic (visit_id BIGINT, campaign_id INTEGER)');
  const ic = await run(`COPY visits_ic FROM 's3://landing/json/visits.json.gz' ${ROLE} JSON 'auto ignorecase' GZIP`);
  expect(ic.Error).toBeUndefined();
  expect(await server.query('SELECT visit_id::int AS v, campaign_id AS c FROM visits_ic ORDER BY 1')).toEqual([
    { v: 1, c: 10 },
    { v: 2, c: null },
    { v: 3, c: 99 },
  ]);
});

test('COPY with a jsonpaths file and a column list', async () => {
  await s3.put('paths/visits.jsonpaths', JSON.stringify({ jsonpaths: ['$.id', "$['meta']['page']", '$.tags[1]'] }));
  await s3.put('paths/data.json', '{"id": 5, "meta": {"page": "/p"}, "tags": ["x", "y"]}{"id": 6, "meta": {}}\n');
  const d = await batch([
    'CREATE TABLE paths_t (id INT, page VARCHAR(10), tag VARCHAR(5), fixed VARCHAR(5) DEFAULT \'dflt\')',
    `COPY paths_t (id, page, tag) FROM 's3://landing/paths/data.json' ${ROLE} FORMAT JSON 's3://landing/paths/visits.jsonpaths'`,
  ]);
  expect(d.Error).toBeUndefined();
  expect(await server.query('SELECT * FROM paths_t ORDER BY id')).toEqual([
    { id: 5, page: '/p', tag: 'y', fixed: 'dflt' },
    { id: 6, page: null, tag: null, fixed: 'dflt' },
  ]);
});

test('COPY CSV with header, delimiter and quotes; empty fields; a prefix loads every object under it', async () => {
  await s3.put('csv/2026/part-1.csv', 'id;name;score\n1;"semi;colon";1.5\n2;"quote ""q""\nnewline";\n');
  await s3.put('csv/2026/part-2.csv', 'id;name;score\n3;;2\n');
  const d = await batch([
    'CREATE TABLE csv_t (id INT, name VARCHAR(30), score FLOAT8)',
    `COPY csv_t FROM 's3://landing/csv/2026/' ${ROLE} CSV DELIMITER ';' IGNOREHEADER 1 EMPTYASNULL`,
  ]);
  expect(d.Error).toBeUndefined();
  expect(await server.query('SELECT * FROM csv_t ORDER BY id')).toEqual([
    { id: 1, name: 'semi;colon', score: 1.5 },
    { id: 2, name: 'quote "q"\nnewline', score: null },
    { id: 3, name: null, score: 2 },
  ]);
});

test('COPY with a manifest; a missing mandatory entry fails the load', async () => {
  await s3.put('m/a.csv', '1,a\n2,b\n');
  await s3.put('m/b.csv.gz', gzipSync('3,c\n'));
  await s3.put('m/ok.manifest', JSON.stringify({ entries: [{ url: 's3://landing/m/a.csv', mandatory: true }, { url: 's3://landing/m/missing.csv', mandatory: false }] }));
  await s3.put('m/gz.manifest', JSON.stringify({ entries: [{ url: 's3://landing/m/b.csv.gz', mandatory: true, meta: { content_length: 10 } }] }));
  await s3.put('m/bad.manifest', JSON.stringify({ entries: [{ url: 's3://landing/m/nope.csv', mandatory: true }] }));
  await run('CREATE TABLE man_t (id INT, v VARCHAR(3))');
  expect((await run(`COPY man_t FROM 's3://landing/m/ok.manifest' ${ROLE} MANIFEST CSV`)).Error).toBeUndefined();
  expect((await run(`COPY man_t FROM 's3://landing/m/gz.manifest' ${ROLE} CSV GZIP MANIFEST`)).Error).toBeUndefined();
  const bad = await run(`COPY man_t FROM 's3://landing/m/bad.manifest' ${ROLE} MANIFEST CSV`);
  expect(bad.Status).toBe('FAILED');
  expect(bad.Error).toMatch(/s3:\/\/landing\/m\/nope\.csv.*mandatory/);
  expect(await server.query('SELECT * FROM man_t ORDER BY id')).toEqual([
    { id: 1, v: 'a' },
    { id: 2, v: 'b' },
    { id: 3, v: 'c' },
  ]);
});

test('a bad row fails the whole batch, names file, line and column, and is recorded in stl_load_errors / sys_load_error_detail', async () => {
  const good = Array.from({ length: 16 }, (_, i) => JSON.stringify({ visit_id: i + 1, campaign_id: i }));
  const body = [...good, JSON.stringify({ visit_id: 17, campaign_id: 'x1' })].join('\n');
  await s3.put('bad/visits.json.gz', gzipSync(body));
  await run(VISITS_DDL('visits'));
  await run("INSERT INTO visits (visit_id) VALUES (100)");
  const d = await batch([
    'DELETE FROM visits',
    `COPY visits FROM 's3://landing/bad/visits.json.gz' ${ROLE} JSON 'auto' GZIP MAXERROR 0`,
  ]);
  expect(d.Status).toBe('FAILED');
  expect(d.Error).toBe(
    // A Serverless workgroup (TARGET) names its SYS view: it has no STL views.
    "Load into table 'visits' failed. Check 'sys_load_error_detail' system table for details. " +
      "[file s3://landing/bad/visits.json.gz, line 17, column campaign_id: Invalid digit, Value 'x1', Pos 0, Type: Integer]",
  );
  expect(await server.query('SELECT visit_id::int AS v FROM visits')).toEqual([{ v: 100 }]);
  const sys = await run(
    "SELECT trim(file_name) AS f, line_number, trim(column_name) AS c, error_code, trim(error_message) AS r FROM sys_load_error_detail WHERE trim(file_name) LIKE '%bad/visits%'",
  );
  expect((await client.send(new GetStatementResultCommand({ Id: sys.Id }))).Records).toEqual([
    [{ stringValue: 's3://landing/bad/visits.json.gz' }, { longValue: 17 }, { stringValue: 'campaign_id' }, { longValue: 1207 }, { stringValue: 'Invalid digit' }],
  ]);
  const provisioned = { Database: 'dev', ClusterIdentifier: 'forklift', DbUser: 'forklift' };
  const { Id: stlId } = await client.send(
    new ExecuteStatementCommand({
      ...provisioned,
      Sql: "SELECT trim(filename) AS f, line_number, trim(colname) AS c, trim(raw_field_value) AS v, err_code, trim(err_reason) AS r FROM stl_load_errors WHERE trim(filename) LIKE '%bad/visits%'",
    }),
  );
  const errs = await waitDone(client, stlId as string);
  const res = await client.send(new GetStatementResultCommand({ Id: errs.Id }));
  expect(res.Records).toEqual([
    [
      { stringValue: 's3://landing/bad/visits.json.gz' },
      { longValue: 17 },
      { stringValue: 'campaign_id' },
      { stringValue: 'x1' },
      { longValue: 1207 },
      { stringValue: 'Invalid digit' },
    ],
  ]);
});

test('type checks: VARCHAR length in bytes, integer range, decimal precision, NOT NULL, TRUNCATECOLUMNS', async () => {
  await run('CREATE TABLE checks_t (id SMALLINT NOT NULL, s VARCHAR(4), d DECIMAL(4,1))');
  const cases: Array<[string, RegExp]> = [
    ['1,éé€,1\n', /line 1, column s: String length exceeds DDL length/],
    ['1,a,1\n40000,b,1\n', /line 2, column id: Overflow/],
    ['1,a,1234.5\n', /column d: Numeric data overflow/],
    [',a,1\n', /column id: Missing data for not-null field/],
    ['1,a\n', /line 1, column -: Delimiter not found/],
  ];
  for (const [i, [csv, pattern]] of cases.entries()) {
    await s3.put(`checks/${i}.csv`, csv);
    const d = await run(`COPY checks_t FROM 's3://landing/checks/${i}.csv' ${ROLE} CSV`);
    expect([i, d.Status]).toEqual([i, 'FAILED']);
    expect(d.Error).toMatch(pattern);
  }
  await s3.put('checks/trunc.csv', '7,éé€,123.45\n');
  expect((await run(`COPY checks_t FROM 's3://landing/checks/trunc.csv' ${ROLE} CSV TRUNCATECOLUMNS`)).Error).toBeUndefined();
  expect(await server.query('SELECT id, s, d::text AS d FROM checks_t')).toEqual([{ id: 7, s: 'éé', d: '123.5' }]);
});

test('COPY refuses what it cannot do locally with a clear error', async () => {
  await run('CREATE TABLE comp_t (id INT)');
  await s3.put('comp/a.bz2', 'x');
  const bz = await run(`COPY comp_t FROM 's3://landing/comp/a.bz2' ${ROLE} CSV BZIP2`);
  expect(bz.Error).toMatch(/BZIP2 is not supported by the local Data API/);
  const zs = await run(`COPY comp_t FROM 's3://landing/comp/a.bz2' ${ROLE} CSV ZSTD`);
  expect(zs.Error).toMatch(/ZSTD is not supported/);
  const noCreds = await run("COPY comp_t FROM 's3://landing/comp/a.bz2' CSV");
  expect(noCreds.Error).toMatch(/credentials are required/);
  const noPrefix = await run(`COPY comp_t FROM 's3://landing/none/' ${ROLE} CSV`);
  expect(noPrefix.Error).toMatch(/prefix 'none\/' does not exist/);
});

test('one COPY loads 50k gzip CSV rows, empty fields as NULL', async () => {
  const rows = Array.from({ length: 50000 }, (_, i) => `${i},name-${i},${i % 7 === 0 ? '' : i / 4},2026-11-20 10:00:00`).join('\n');
  await s3.put('bulk/rows.csv.gz', gzipSync(rows));
  await run('CREATE TABLE bulk_t (id INT, name VARCHAR(20), x FLOAT8, ts TIMESTAMP)');
  const d = await run(`COPY bulk_t FROM 's3://landing/bulk/rows.csv.gz' ${ROLE} CSV GZIP`);
  expect(d.Error).toBeUndefined();
  expect(d.ResultRows).toBe(50000);
  expect(await server.query('SELECT count(*)::int AS n, count(x)::int AS nx FROM bulk_t')).toEqual([{ n: 50000, nx: 50000 - 7143 }]);
});
