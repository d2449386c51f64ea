/** The local Data API through the real SDK client: statuses, batches, results, dialect, persistence. */
import {
  ActiveStatementsExceededException,
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  ListStatementsCommand,
  ResourceNotFoundException,
  ValidationException,
  type RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedshiftDataServer, type RedshiftDataServer } from '../../../local/redshift-data/server';
import { TARGET, dataClient, waitDone } from './redshift-data.helpers';

const s3 = new S3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
let server: RedshiftDataServer;
let client: RedshiftDataClient;

beforeAll(async () => {
  // PGlite on its own thread (the STARTED-while-running test needs it; the other tests hold either way).
  server = await startRedshiftDataServer({ s3, pageSize: 3, thread: true });
  client = dataClient(server.endpoint);
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
  return { id: Id as string, description: await waitDone(client, Id as string) };
}

test('a batch whose third statement fails leaves nothing behind', async () => {
  const { description } = await batch([
    'CREATE TABLE batch_t (id INTEGER)',
    'INSERT INTO batch_t VALUES (1)',
    'INSERT INTO batch_t VALUES (1/0)',
    'INSERT INTO batch_t VALUES (2)',
  ]);
  expect(description.Status).toBe('FAILED');
  expect(description.Error).toMatch(/division by zero/);
  expect(description.SubStatements?.map((s) => s.Status)).toEqual(['FINISHED', 'FINISHED', 'FAILED', 'ABORTED']);
  expect(description.SubStatements?.[2]?.Error).toMatch(/division by zero/);
  const exists = await server.query<{ t: string | null }>("SELECT to_regclass('public.batch_t')::text AS t");
  expect(exists[0]?.t).toBeNull();
});

test('statements run asynchronously in FIFO order: SUBMITTED, STARTED, FINISHED', async () => {
  server.pause();
  const first = await client.send(new ExecuteStatementCommand({ ...TARGET, Sql: 'SELECT 1 AS one' }));
  const queued = await client.send(new DescribeStatementCommand({ Id: first.Id }));
  expect(queued.Status).toBe('SUBMITTED');
  const seen: string[] = [];
  const off = server.onStatement((record, sub) => {
    if (record.id === first.Id && !sub) seen.push(record.status);
  });
  server.resume();
  const done = await waitDone(client, first.Id as string);
  off();
  expect(done.Status).toBe('FINISHED');
  expect(seen).toEqual(['STARTED', 'FINISHED']);
  expect(done.UpdatedAt!.getTime()).toBeGreaterThanOrEqual(done.CreatedAt!.getTime());
  expect(done.Duration).toBeGreaterThan(0);

  // A batch paused after its first sub-statement is STARTED, with per-sub statuses.
  let offPause = (): void => undefined;
  const paused = new Promise<void>((resolve) => {
    offPause = server.onStatement((record, sub) => {
      if (sub?.id.endsWith(':1') && sub.status === 'FINISHED') {
        server.pause();
        resolve();
      }
    });
  });
  const { Id } = await client.send(new BatchExecuteStatementCommand({ ...TARGET, Sqls: ['SELECT 1', 'SELECT 2'] }));
  await paused;
  const mid = await client.send(new DescribeStatementCommand({ Id }));
  offPause();
  expect(mid.Status).toBe('STARTED');
  expect(mid.SubStatements?.map((s) => s.Status)).toEqual(['FINISHED', 'SUBMITTED']);
  server.resume();
  expect((await waitDone(client, Id as string)).Status).toBe('FINISHED');
});

test('DescribeStatement answers STARTED while a statement runs: SQL does not stall the endpoint', async () => {
  // On AWS the database runs elsewhere; here PGlite has its own thread, so a long statement
  // (a COPY, an aggregate; pg_sleep here) leaves the main thread free to answer polls.
  const sql = 'SELECT pg_sleep(1) AS describe_while_running';
  const events: string[] = [];
  let described: Promise<void> | undefined;
  const off = server.onStatement((record, sub) => {
    if (!sub || sub.sql !== sql) return;
    if (sub.status === 'STARTED') {
      described = client.send(new DescribeStatementCommand({ Id: record.id })).then((d) => {
        events.push(`described ${d.Status}`);
      });
    }
    if (sub.status === 'FINISHED') events.push('statement finished');
  });
  try {
    const done = await run(sql);
    await described;
    expect(done.Status).toBe('FINISHED');
    expect(events).toEqual(['described STARTED', 'statement finished']);
  } finally {
    off();
  }
});

test('CancelStatement aborts a queued statement; cancelling a finished one is a ValidationException', async () => {
  server.pause();
  const { Id } = await client.send(new ExecuteStatementCommand({ ...TARGET, Sql: 'CREATE TABLE never_created (a INT)' }));
  const cancel = await client.send(new CancelStatementCommand({ Id }));
  expect(cancel.Status).toBe(true);
  server.resume();
  const d = await waitDone(client, Id as string);
  expect(d.Status).toBe('ABORTED');
  expect(await server.query("SELECT 1 FROM pg_class WHERE relname = 'never_created'")).toHaveLength(0);
  await expect(client.send(new CancelStatementCommand({ Id }))).rejects.toBeInstanceOf(ValidationException);
});

test('GetStatementResult returns typed Records and ColumnMetadata, paginated with NextToken', async () => {
  const d = await run(`
    SELECT i::int AS i, (i * 10000000000)::bigint AS big, (i + 0.25)::numeric(10,2) AS num, (i % 2 = 0) AS even,
           'v' || i::varchar(10) AS label, ('2026-11-20 13:05:00'::timestamp + i * interval '1 hour') AS ts,
           CASE WHEN i = 3 THEN NULL ELSE i END AS maybe, i / 4.0::float8 AS ratio
      FROM generate_series(1, 7) AS g(i) ORDER BY i`);
  expect(d.Status).toBe('FINISHED');
  expect(d.HasResultSet).toBe(true);
  expect(d.ResultRows).toBe(7);
  const first = await client.send(new GetStatementResultCommand({ Id: d.Id }));
  expect(first.TotalNumRows).toBe(7);
  expect(first.Records).toHaveLength(3);
  expect(first.ColumnMetadata?.map((c) => [c.name, c.typeName])).toEqual([
    ['i', 'int4'],
    ['big', 'int8'],
    ['num', 'numeric'],
    ['even', 'bool'],
    ['label', 'varchar'],
    ['ts', 'timestamp'],
    ['maybe', 'int4'],
    ['ratio', 'float8'],
  ]);
  expect(first.Records?.[0]).toEqual([
    { longValue: 1 },
    { longValue: 10000000000 },
    { stringValue: '1.25' },
    { booleanValue: false },
    { stringValue: 'v1' },
    { stringValue: '2026-11-20 14:05:00' },
    { longValue: 1 },
    { doubleValue: 0.25 },
  ]);
  expect(first.Records?.[2]?.[6]).toEqual({ isNull: true });
  expect(first.NextToken).toBeDefined();
  const second = await client.send(new GetStatementResultCommand({ Id: d.Id, NextToken: first.NextToken }));
  const third = await client.send(new GetStatementResultCommand({ Id: d.Id, NextToken: second.NextToken }));
  expect(second.Records?.map((r) => r[0]?.longValue)).toEqual([4, 5, 6]);
  expect(third.Records?.map((r) => r[0]?.longValue)).toEqual([7]);
  expect(third.NextToken).toBeUndefined();
});

test('sub-statement results of a batch, and errors for ids without results', async () => {
  const { id, description } = await batch([
    'CREATE TEMP TABLE tmp_sub (k VARCHAR(5), n INT)',
    "INSERT INTO tmp_sub VALUES ('a', 1), ('b', 2)",
    'SELECT k, n FROM tmp_sub ORDER BY k',
    'SELECT count(*) AS c FROM tmp_sub',
  ]);
  expect(description.Status).toBe('FINISHED');
  expect(description.SubStatements?.map((s) => [s.Id, s.HasResultSet, s.ResultRows])).toEqual([
    [`${id}:1`, false, -1],
    [`${id}:2`, false, 2],
    [`${id}:3`, true, 2],
    [`${id}:4`, true, 1],
  ]);
  const rows = await client.send(new GetStatementResultCommand({ Id: `${id}:3` }));
  expect(rows.Records).toEqual([
    [{ stringValue: 'a' }, { longValue: 1 }],
    [{ stringValue: 'b' }, { longValue: 2 }],
  ]);
  const count = await client.send(new GetStatementResultCommand({ Id: `${id}:4` }));
  expect(count.Records).toEqual([[{ longValue: 2 }]]);
  const sub = await client.send(new DescribeStatementCommand({ Id: `${id}:3` }));
  expect(sub.QueryString).toBe('SELECT k, n FROM tmp_sub ORDER BY k');
  await expect(client.send(new GetStatementResultCommand({ Id: `${id}:1` }))).rejects.toBeInstanceOf(ValidationException);
  await expect(client.send(new GetStatementResultCommand({ Id: id }))).rejects.toBeInstanceOf(ValidationException);
  await expect(client.send(new DescribeStatementCommand({ Id: 'no-such-id' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  // Each batch is its own session: the temp table is gone afterwards.
  const after = await run('SELECT * FROM tmp_sub');
  expect(after.Status).toBe('FAILED');
  expect(after.Error).toMatch(/tmp_sub.*does not exist/);
});

test('GETDATE() is the start of the current statement, even inside the batch\'s transaction (SYSDATE is the transaction\'s)', async () => {
  const { id, description } = await batch([
    'CREATE TEMP TABLE getdate_t AS SELECT GETDATE() AS g, SYSDATE AS s',
    'SELECT pg_sleep(1.1)',
    'SELECT CASE WHEN GETDATE() > (SELECT g FROM getdate_t) THEN 1 ELSE 0 END AS later, CASE WHEN SYSDATE = (SELECT s FROM getdate_t) THEN 1 ELSE 0 END AS same',
  ]);
  expect(description.Error).toBeUndefined();
  const res = await client.send(new GetStatementResultCommand({ Id: `${id}:3` }));
  expect(res.Records).toEqual([[{ longValue: 1 }, { longValue: 1 }]]);
});

// Database Developer Guide, "EXTRACT function": INTEGER from a TIMESTAMP (TIME, INTERVAL), DOUBLE PRECISION
// from a TIMESTAMPTZ; the millisecond part is the milliseconds within the second.
test('EXTRACT from a TIMESTAMP is an INTEGER, as on Redshift: the fraction of a second is dropped (a TIMESTAMPTZ keeps it)', async () => {
  const { id, description } = await batch([
    "SELECT EXTRACT(EPOCH FROM TIMESTAMP '2009-09-09 12:08:43.101') AS e, EXTRACT(ms FROM TIMESTAMP '2009-09-09 12:08:43.101') AS ms, " +
      "EXTRACT(second FROM TIMESTAMP '2009-09-09 12:08:43.101') AS s, EXTRACT(hour FROM TIMESTAMP '2009-09-09 12:08:43.101') AS h, " +
      "EXTRACT(EPOCH FROM TIMESTAMPTZ '2009-09-09 12:08:43.5+00') AS tz",
  ]);
  expect(description.Error).toBeUndefined();
  const res = await client.send(new GetStatementResultCommand({ Id: `${id}:1` }));
  expect(res.Records).toEqual([[{ longValue: 1252498123 }, { longValue: 101 }, { longValue: 43 }, { longValue: 12 }, { doubleValue: 1252498123.5 }]]);
});

// Database Developer Guide, "DATEDIFF function" and "Date parts for date or timestamp functions": the
// boundaries of the date part crossed between the two; millisecond is ms, msec, millisecond… (not minute's m).
test('DATEDIFF counts milliseconds (millisecond, ms, msec) as Redshift does, and m stays minutes', async () => {
  const { id, description } = await batch([
    "SELECT DATEDIFF(millisecond, TIMESTAMP '2009-09-09 12:08:43.101', TIMESTAMP '2009-09-09 12:08:44') AS a, " +
      "DATEDIFF(ms, TIMESTAMP '2009-09-09 12:08:43.101', TIMESTAMP '2009-09-09 12:08:44') AS b, " +
      "DATEDIFF(msec, TIMESTAMP '2009-09-09 12:08:43.101', TIMESTAMP '2009-09-09 12:10:44') AS c, " +
      "DATEDIFF(m, TIMESTAMP '2009-09-09 12:08:43.101', TIMESTAMP '2009-09-09 12:10:44') AS d",
  ]);
  expect(description.Error).toBeUndefined();
  const res = await client.send(new GetStatementResultCommand({ Id: `${id}:1` }));
  expect(res.Records).toEqual([[{ longValue: 899 }, { longValue: 899 }, { longValue: 120899 }, { longValue: 2 }]]);
});

test('Redshift physical clauses are accepted and dropped; Redshift functions exist', async () => {
  const create = await run(`CREATE TABLE IF NOT EXISTS public.dist_t (
      id BIGINT NOT NULL ENCODE az64 DISTKEY,
      name VARCHAR(MAX) ENCODE lzo,
      note VARCHAR,
      seen_at TIMESTAMP ENCODE raw SORTKEY
    ) DISTSTYLE KEY DISTKEY(id) COMPOUND SORTKEY(seen_at, id) BACKUP NO`);
  expect(create.Error).toBeUndefined();
  expect(create.Status).toBe('FINISHED');
  const cols = await server.query<{ column_name: string; character_maximum_length: number | null }>(
    "SELECT column_name, character_maximum_length FROM information_schema.columns WHERE table_name = 'dist_t' ORDER BY ordinal_position",
  );
  expect(cols.map((c) => [c.column_name, c.character_maximum_length])).toEqual([
    ['id', null],
    ['name', 65535],
    ['note', 256],
    ['seen_at', null],
  ]);
  const { id, description } = await batch([
    "INSERT INTO dist_t VALUES (1, 'a', 'x', GETDATE()), (2, 'a', 'y', GETDATE()), (3, 'b', NULL, GETDATE())",
    'SELECT APPROXIMATE COUNT(DISTINCT name) AS names, NVL(max(note), \'-\') AS m FROM dist_t',
    'LOCK public.dist_t',
    'CREATE GROUP analysts',
    'CREATE GROUP readers',
    'GRANT SELECT ON dist_t TO GROUP readers',
  ]);
  expect(description.Error).toBeUndefined();
  const res = await client.send(new GetStatementResultCommand({ Id: `${id}:2` }));
  expect(res.Records).toEqual([[{ longValue: 2 }, { stringValue: 'y' }]]);
  const roles = await server.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname IN ('readers', 'analysts') ORDER BY 1");
  expect(roles.map((r) => r.rolname)).toEqual(['analysts', 'readers']);
  const grants = await server.query("SELECT 1 FROM information_schema.role_table_grants WHERE grantee = 'readers' AND table_name = 'dist_t'");
  expect(grants).toHaveLength(1);
});

test('SQL Redshift rejects fails the statement with a clear Error', async () => {
  await run('CREATE TABLE rej_t (id INT)');
  const truncate = await batch(['INSERT INTO rej_t VALUES (1)', 'TRUNCATE rej_t']);
  expect(truncate.description.Status).toBe('FAILED');
  expect(truncate.description.Error).toBe('ERROR: TRUNCATE commits implicitly in Redshift; use DELETE inside a transaction');
  expect(await server.query('SELECT * FROM rej_t')).toHaveLength(0);
  expect((await run('TRUNCATE rej_t')).Status).toBe('FINISHED');
  // The catalog alone is fine, as on Redshift.
  expect((await run("SELECT column_name FROM information_schema.columns WHERE table_name = 'rej_t'")).Status).toBe('FINISHED');
  for (const [sql, pattern] of [
    ['CREATE TABLE bad1 (a JSONB)', /JSONB is not supported/],
    ['CREATE TABLE bad2 (id SERIAL, b INT)', /SERIAL is not supported/],
    ['CREATE TABLE bad3 (a TEXT[])', /array/],
    ['CREATE TABLE bad4 (u UUID)', /UUID is not supported/],
    ['INSERT INTO rej_t VALUES (1) ON CONFLICT DO NOTHING', /ON CONFLICT/],
    ['INSERT INTO rej_t VALUES (1) RETURNING id', /RETURNING/],
    [
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'rej_t' UNION ALL SELECT CAST(id AS VARCHAR(10)) FROM public.rej_t",
      /information_schema.columns is a leader-node-only catalog relation and cannot be queried together with public.rej_t/,
    ],
  ] as const) {
    const d = await run(sql);
    expect([sql, d.Status]).toEqual([sql, 'FAILED']);
    expect(d.Error).toMatch(pattern);
  }
});

test('request validation and ListStatements go through the SDK exceptions and shapes', async () => {
  await expect(client.send(new ExecuteStatementCommand({ Sql: 'SELECT 1', Database: 'dev' }))).rejects.toBeInstanceOf(ValidationException);
  await expect(
    client.send(new ExecuteStatementCommand({ Sql: 'SELECT 1', Database: 'dev', ClusterIdentifier: 'c1' })),
  ).rejects.toThrow(/DbUser or SecretArn/);
  const ok = await client.send(new ExecuteStatementCommand({ Sql: 'SELECT :n::int + 1 AS x', Database: 'dev', ClusterIdentifier: 'c1', DbUser: 'u', Parameters: [{ name: 'n', value: '41' }], StatementName: 'param-test' }));
  await waitDone(client, ok.Id as string);
  const r = await client.send(new GetStatementResultCommand({ Id: ok.Id }));
  expect(r.Records).toEqual([[{ longValue: 42 }]]);
  const list = await client.send(new ListStatementsCommand({ StatementName: 'param-test' }));
  expect(list.Statements?.map((s) => [s.Id, s.Status, s.IsBatchStatement])).toEqual([[ok.Id, 'FINISHED', false]]);
  const before = server.stats.submissions;
  await run('SELECT 1');
  expect(server.stats.submissions).toBe(before + 1);
  expect(server.stats.statements.at(-1)).toBe('SELECT 1');
});

test('ActiveStatementsExceededException when too many statements are queued', async () => {
  const small = await startRedshiftDataServer({ s3, pglite: server.db, maxActiveStatements: 2 });
  const c = dataClient(small.endpoint);
  try {
    small.pause();
    await c.send(new ExecuteStatementCommand({ ...TARGET, Sql: 'SELECT 1' }));
    await c.send(new ExecuteStatementCommand({ ...TARGET, Sql: 'SELECT 2' }));
    await expect(c.send(new ExecuteStatementCommand({ ...TARGET, Sql: 'SELECT 3' }))).rejects.toBeInstanceOf(
      ActiveStatementsExceededException,
    );
  } finally {
    c.destroy();
    await small.stop();
  }
});

test('a dataDir persists the warehouse across a restart', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'forklift-pglite-'));
  try {
    const first = await startRedshiftDataServer({ s3, dataDir, thread: true });
    const c1 = dataClient(first.endpoint);
    const { Id } = await c1.send(
      new BatchExecuteStatementCommand({ ...TARGET, Sqls: ['CREATE TABLE kept (id INT) DISTSTYLE ALL', 'INSERT INTO kept VALUES (7), (8)'] }),
    );
    expect((await waitDone(c1, Id as string)).Status).toBe('FINISHED');
    c1.destroy();
    await first.stop();
    // stop() closed PGlite and ended its thread.
    await expect(first.db.query('SELECT 1')).rejects.toThrow(/database thread exited/);
    const second = await startRedshiftDataServer({ s3, dataDir, thread: true });
    const c2 = dataClient(second.endpoint);
    const sel = await c2.send(new ExecuteStatementCommand({ ...TARGET, Sql: 'SELECT sum(id) AS s FROM kept' }));
    await waitDone(c2, sel.Id as string);
    const r = await c2.send(new GetStatementResultCommand({ Id: sel.Id }));
    expect(r.Records).toEqual([[{ longValue: 15 }]]);
    c2.destroy();
    await second.stop();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
