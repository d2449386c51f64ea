/**
 * Redshift Serverless with IAM credentials (no `secretArn`): the Data API runs each IAM role as its
 * own database user `IAMR:<role>` (Management Guide, "Authorizing access to the Data API"), which
 * owns what it creates; another role's user cannot write it without grants. The local Data API
 * models that (test/integration/local/redshift-data-iam-users.test.ts). Here the pipeline runs with
 * each function and the state machine signing as the role the CDK stack gives it (read from the
 * synthesized Serverless template): discover creates the audit schema and the target table, Prepare
 * reads and creates aggregate tables, the state machine's batches write them all. It works only
 * because the stack gives every Data API caller one role (infra/redshiftAccess.ts identityRole).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FUNCTIONS, type FunctionName } from '../../../functions/core/metricNames';
import { pascal } from '../../../infra/functions';
import { startLocalPipeline, type LocalPipeline } from '../../../local/pipeline';
import { configVariant, synth, WORKGROUP_ARN } from '../../infra/helpers';
import { runStatement, TARGET } from '../local/redshift-data.helpers';
import { capturingLog, hourly, jsonLines, rows, TEST_BATCH_WINDOW_MS, TEST_WAIT_SCALE, testConfig } from './helpers';

/** The role (logical id) each function and the state machine run as in the synthesized Serverless stack. */
function deployedRoles(): { functions: Record<FunctionName, string>; stateMachine: string } {
  const configPath = configVariant((doc) => {
    delete doc['warehouse']['dbUser'];
    delete doc['warehouse']['clusterIdentifier'];
    doc['warehouse']['workgroupName'] = 'forklift';
  });
  const { template } = synth({ configPath, workgroupArn: WORKGROUP_ARN });
  const roleOf = (resource: Record<string, unknown> | undefined, property: string): string => {
    const ref = (resource?.['Properties'] as Record<string, { 'Fn::GetAtt': [string, string] }> | undefined)?.[property];
    if (!ref) throw new Error(`no ${property} in ${JSON.stringify(resource)}`);
    return ref['Fn::GetAtt'][0];
  };
  const lambdas = Object.entries(template.findResources('AWS::Lambda::Function'));
  const functions = Object.fromEntries(
    FUNCTIONS.map((name) => {
      const fn = lambdas.find(([id]) => new RegExp(`^Functions${pascal(name)}[0-9A-F]{8}$`).test(id));
      return [name, roleOf(fn?.[1], 'Role')];
    }),
  ) as Record<FunctionName, string>;
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  return { functions, stateMachine: roleOf(machine, 'RoleArn') };
}

const config = testConfig(
  { si_events: hourly('si/events/'), si_raw: hourly('si/raw/') },
  {
    // Recomputed inside the load's batch (Prepare creates its table first).
    si_hourly: { schema: 'facts', source: 'si_events', timeColumn: 'at', grain: 'hour', dimensions: [], measures: { n: { fn: 'count' }, v: { fn: 'sum', column: 'v' } } },
    // Raw SQL: its own aggregate batch after the load.
    si_raw_hourly: {
      schema: 'facts',
      source: 'si_raw',
      timeColumn: 'at',
      grain: 'hour',
      sql: "SELECT DATE_TRUNC('hour', at) AS bucket, COUNT(*) AS n FROM landing.si_raw WHERE at >= {{start}} AND at < {{end}} GROUP BY 1",
      columns: { bucket: { type: 'timestamp', nullable: false }, n: 'bigint' },
    },
  },
);

let pipeline: LocalPipeline;
let dataDir: string;
let roles: ReturnType<typeof deployedRoles>;
beforeAll(async () => {
  roles = deployedRoles();
  dataDir = await mkdtemp(join(tmpdir(), 'forklift-serverless-iam-'));
  pipeline = await startLocalPipeline({
    config,
    dataDir,
    waitScale: TEST_WAIT_SCALE,
    batchWindowMs: TEST_BATCH_WINDOW_MS,
    log: capturingLog(),
    dataApiRoles: roles,
  });
  // README, "Serverless": before the first load an administrator creates the stack's database user
  // (WarehouseDatabaseUser) and lets it create schemas. Here: an unmapped key, the admin user.
  expect(config.warehouse.database).toBe(TARGET.Database);
  for (const sql of [`CREATE USER "IAMR:${roles.stateMachine}" PASSWORD DISABLE`, `GRANT CREATE ON DATABASE ${TARGET.Database} TO "IAMR:${roles.stateMachine}"`]) {
    const done = await runStatement(pipeline.stack.redshiftData.client, sql);
    if (done.Status !== 'FINISHED') throw new Error(`${sql}: ${done.Error}`);
  }
}, 180_000);
afterAll(async () => {
  await pipeline?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const put = (table: string, hour: string, ids: number[]) =>
  pipeline.put([{ key: `si/${table}/2026-11-20T${hour}/part-0.json`, body: jsonLines(ids.map((id) => ({ id, at: `2026-11-20T${hour}:0${id % 10}:00Z`, v: id }))) }]);

it('loads, aggregates and loads again with each Data API caller signing as its deployed role', async () => {
  expect(config.warehouse.workgroupName).toBeDefined();
  expect(config.warehouse.secretArn).toBeUndefined();
  await put('events', '10', [1, 2]);
  await put('raw', '10', [1, 2, 3]);
  await pipeline.settle();
  await put('events', '11', [3]);
  await put('raw', '11', [4]);
  await pipeline.settle();

  const executions = await pipeline.executions();
  // Loads of the two tables run concurrently: their order is not fixed.
  expect(executions.map((e) => `${String(e.input['table'])} ${e.status} ${e.cause ?? ''}`.trim()).sort()).toEqual([
    'si_events SUCCEEDED',
    'si_events SUCCEEDED',
    'si_raw SUCCEEDED',
    'si_raw SUCCEEDED',
  ]);
  expect(await rows(pipeline, 'SELECT id FROM landing.si_events ORDER BY 1')).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
  expect(await rows(pipeline, 'SELECT bucket, n, v FROM facts.si_hourly ORDER BY 1')).toEqual([
    { bucket: '2026-11-20T10:00:00.000Z', n: 2, v: 3 },
    { bucket: '2026-11-20T11:00:00.000Z', n: 1, v: 3 },
  ]);
  expect(await rows(pipeline, 'SELECT bucket, n FROM facts.si_raw_hourly ORDER BY 1')).toEqual([
    { bucket: '2026-11-20T10:00:00.000Z', n: 3 },
    { bucket: '2026-11-20T11:00:00.000Z', n: 1 },
  ]);
  expect(await rows(pipeline, 'SELECT table_name, status FROM forklift.loads ORDER BY partition_date, table_name')).toEqual([
    { table_name: 'landing.si_events', status: 'loaded' },
    { table_name: 'landing.si_raw', status: 'loaded' },
    { table_name: 'landing.si_events', status: 'loaded' },
    { table_name: 'landing.si_raw', status: 'loaded' },
  ]);
  // Everything Forklift created belongs to the one database user of the state machine's role.
  const owners = await rows(pipeline, "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname IN ('forklift', 'landing', 'facts')");
  expect(owners).toEqual([{ tableowner: `IAMR:${roles.stateMachine}` }]);
}, 180_000);
