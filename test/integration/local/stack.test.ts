/** The whole local stack: starts, wires Step Functions to the local Data API and S3, stops cleanly. */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, type DescribeExecutionCommandOutput, ListStateMachinesCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { S3EventRecord } from 'aws-lambda';
import { loadDefinition, startLocalStack, type LocalStack } from '../../../local/stack';

const LOAD_ASL = join(__dirname, '../../../statemachines/load.asl.json');
const FUNCTIONS = {
  PrepareFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:forklift-prepare',
  RecordFailureFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:forklift-record-failure',
  ReportFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:forklift-report',
};

/** Submits SQL, polls with a SecondsPath Wait until FINISHED, like the load state machine does. */
const SQL_DEFINITION = {
  StartAt: 'Submit',
  States: {
    Submit: {
      Type: 'Task',
      Resource: 'arn:aws:states:::aws-sdk:redshiftdata:executeStatement',
      Parameters: { WorkgroupName: 'local', Database: 'dev', 'Sql.$': '$.sql' },
      ResultSelector: { 'Id.$': '$.Id' },
      ResultPath: '$.statement',
      Next: 'Pause',
    },
    Pause: { Type: 'Wait', SecondsPath: '$.pollSeconds', Next: 'Describe' },
    Describe: {
      Type: 'Task',
      Resource: 'arn:aws:states:::aws-sdk:redshiftdata:describeStatement',
      Parameters: { 'Id.$': '$.statement.Id' },
      ResultSelector: { 'Status.$': '$.Status' },
      ResultPath: '$.described',
      Next: 'Done?',
    },
    'Done?': {
      Type: 'Choice',
      Choices: [
        { Variable: '$.described.Status', StringEquals: 'FINISHED', Next: 'Done' },
        { Variable: '$.described.Status', StringEquals: 'FAILED', Next: 'Failed' },
      ],
      Default: 'Pause',
    },
    Failed: { Type: 'Fail', Error: 'StatementFailedError' },
    Done: { Type: 'Succeed' },
  },
};

describe('local stack', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack({
      buckets: ['landing'],
      waitScale: 0.01,
      stateMachines: [
        { name: 'forklift-load', definitionFile: LOAD_ASL, substitutions: FUNCTIONS },
        { name: 'sql', definition: SQL_DEFINITION },
      ],
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  async function finished(client: SFNClient, executionArn: string): Promise<DescribeExecutionCommandOutput> {
    for (;;) {
      const out = await client.send(new DescribeExecutionCommand({ executionArn }));
      if (out.status !== 'RUNNING') return out;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  it('lays out the data dir and serves every endpoint to fresh SDK clients', async () => {
    expect(existsSync(join(stack.dataDir, 's3'))).toBe(true);
    expect(existsSync(join(stack.dataDir, 'warehouse'))).toBe(true);
    const s3 = new S3Client(stack.clientConfig('s3'));
    expect((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual(['landing']);
    s3.destroy();
    const sfn = new SFNClient(stack.clientConfig('stepFunctions'));
    const machines = await sfn.send(new ListStateMachinesCommand({}));
    expect(machines.stateMachines?.map((m) => m.name).sort()).toEqual(['forklift-load', 'sql']);
    sfn.destroy();
    expect(stack.stepFunctions.stateMachineArns).toEqual({
      'forklift-load': 'arn:aws:states:us-east-1:000000000000:stateMachine:forklift-load',
      sql: 'arn:aws:states:us-east-1:000000000000:stateMachine:sql',
    });
    expect(stack.clientConfig('redshiftData')).toEqual({
      endpoint: stack.redshiftData.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });

  it('delivers S3 ObjectCreated records', async () => {
    const records: S3EventRecord[] = [];
    stack.s3.onObjectCreated((r) => records.push(...r));
    await stack.s3.client.send(new PutObjectCommand({ Bucket: 'landing', Key: 'visits/a b.json', Body: '{}' }));
    await stack.s3.idle();
    expect(records.map((r) => [r.eventName, r.s3.bucket.name, r.s3.object.key, r.s3.object.size])).toEqual([
      ['ObjectCreated:Put', 'landing', 'visits/a+b.json', 2],
    ]);
  });

  it('runs aws-sdk:redshiftdata tasks against the local Data API with scaled SecondsPath waits', async () => {
    const sfn = stack.stepFunctions.client;
    // The Wait's timer is observed, not the elapsed time (timings belong to npm run bench).
    const timers = jest.spyOn(globalThis, 'setTimeout');
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: stack.stepFunctions.stateMachineArns.sql,
        name: 'create-t',
        input: JSON.stringify({ sql: 'create table stack_probe (id integer)', pollSeconds: 40 }),
      }),
    );
    let out: Awaited<ReturnType<typeof finished>>;
    let armed: unknown[];
    try {
      out = await finished(sfn, executionArn!);
    } finally {
      armed = timers.mock.calls.map((call) => call[1]);
      timers.mockRestore();
    }
    expect({ status: out.status, error: out.error, cause: out.cause }).toEqual({ status: 'SUCCEEDED' });
    // 40 s at waitScale 0.01 arms a 400 ms timer per poll: scaled, but not skipped.
    expect(armed).toContain(400);
    const rows = await stack.redshiftData.server.query<{ n: number }>(
      "select count(*)::int as n from information_schema.tables where table_name = 'stack_probe'",
    );
    expect(rows[0]?.n).toBe(1);
    const stats = stack.stepFunctions.server.executionStats(executionArn!);
    expect(stats.dataApiSubmissions).toBe(1);
    expect(stats.taskCalls[0]).toMatchObject({ resourceType: 'aws-sdk:redshiftdata', action: 'executeStatement' });
    expect(stats.taskCalls.slice(1).every((c) => c.action === 'describeStatement')).toBe(true);
  });

  it('fails clearly on a placeholder left unsubstituted, before starting anything', async () => {
    await expect(loadDefinition(LOAD_ASL, { PrepareFunctionArn: FUNCTIONS.PrepareFunctionArn })).rejects.toThrow(
      /no substitution for \$\{RecordFailureFunctionArn\}, \$\{ReportFunctionArn\}|no substitution for \$\{ReportFunctionArn\}, \$\{RecordFailureFunctionArn\}/,
    );
    const dir = await mkdtemp(join(tmpdir(), 'forklift-stack-test-'));
    try {
      const file = join(dir, 'sm.asl.json');
      await writeFile(file, JSON.stringify({ StartAt: 'T', States: { T: { Type: 'Task', Resource: '${Missing}', End: true } } }));
      await expect(
        startLocalStack({ dataDir: join(dir, 'data'), buckets: ['b'], stateMachines: [{ name: 'x', definitionFile: file }] }),
      ).rejects.toThrow('no substitution for ${Missing}');
      expect(existsSync(join(dir, 'data', 's3'))).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stops every service and removes its temp dir', async () => {
    const other = await startLocalStack({ buckets: ['tmp'] });
    const { dataDir } = other;
    const endpoints = [other.s3.endpoint, other.redshiftData.endpoint, other.stepFunctions.endpoint];
    expect(existsSync(dataDir)).toBe(true);
    await other.stop();
    expect(existsSync(dataDir)).toBe(false);
    for (const endpoint of endpoints) {
      await expect(fetch(endpoint, { method: 'POST' })).rejects.toThrow();
    }
  });
});
