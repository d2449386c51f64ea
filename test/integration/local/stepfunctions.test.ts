/**
 * The local Step Functions endpoint through the real @aws-sdk/client-sfn: execution-name
 * semantics, Task resources mapped by ARN (Lambda, lambda:invoke, aws-sdk:redshiftdata),
 * Map/Choice/Wait/Retry/Catch, history shape, listing and stopping.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ExecutionAlreadyExists,
  GetExecutionHistoryCommand,
  InvalidName,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  CreateStateMachineCommand,
  DescribeStateMachineCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { startStepFunctionsServer, type LocalStepFunctionsServer } from '../../../local/stepfunctions/server';

const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** A stand-in Data API (awsJson1_1) that records what it receives; SQL containing 'bad' is rejected. */
async function startStubDataApi(): Promise<{ endpoint: string; requests: Array<{ target: string; body: Record<string, unknown> }>; server: Server }> {
  const requests: Array<{ target: string; body: Record<string, unknown> }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      const target = String(req.headers['x-amz-target']);
      requests.push({ target, body });
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (String(body.Sql ?? '').includes('bad')) {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'ValidationException', message: 'syntax error at or near "bad"' }));
        return;
      }
      res.end(JSON.stringify({ Id: `stmt-${requests.length}`, ClusterIdentifier: body.ClusterIdentifier, Database: body.Database, CreatedAt: 1700000000 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}

const LOAD_DEFINITION = {
  StartAt: 'Prepare',
  States: {
    Prepare: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:prepare', ResultPath: '$.prepared', Next: 'Flaky' },
    Flaky: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: 'flaky', 'Payload.$': '$' },
      ResultSelector: { 'attempts.$': '$.Payload.attempts', 'status.$': '$.StatusCode' },
      ResultPath: '$.flaky',
      Retry: [{ ErrorEquals: ['TransientError'], IntervalSeconds: 30, MaxAttempts: 2 }],
      Next: 'Submit',
    },
    Submit: {
      Type: 'Task',
      Resource: 'arn:aws:states:::aws-sdk:redshiftdata:executeStatement',
      Parameters: { ClusterIdentifier: 'local', Database: 'dev', DbUser: 'forklift', 'Sql.$': '$.sql', 'StatementName.$': '$$.Execution.Name' },
      ResultSelector: { 'Id.$': '$.Id' },
      ResultPath: '$.statement',
      Catch: [{ ErrorEquals: ['RedshiftData.ValidationException'], ResultPath: '$.sqlError', Next: 'Tables' }],
      Next: 'Pause',
    },
    Pause: { Type: 'Wait', Seconds: 3600, Next: 'Tables' },
    Tables: {
      Type: 'Map',
      ItemsPath: '$.tables',
      ItemSelector: { 'table.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index' },
      ItemProcessor: {
        StartAt: 'LoadTable',
        States: {
          LoadTable: {
            Type: 'Task',
            Resource: 'arn:aws:lambda:us-east-1:000000000000:function:loadTable',
            Catch: [{ ErrorEquals: ['CopyError'], ResultPath: '$.error', Next: 'Rejected' }],
            End: true,
          },
          Rejected: {
            Type: 'Pass',
            Parameters: { 'table.$': '$.table', failed: true, 'error.$': '$.error.Error', 'cause.$': 'States.StringToJson($.error.Cause)' },
            End: true,
          },
        },
      },
      ResultPath: '$.loaded',
      Next: 'Check',
    },
    Check: { Type: 'Choice', Choices: [{ And: [{ Variable: '$.fail', IsPresent: true }, { Variable: '$.fail', BooleanEquals: true }], Next: 'Boom' }], Default: 'Done' },
    Boom: { Type: 'Fail', Error: 'LoadRejectedError', Cause: 'asked to fail' },
    Done: {
      Type: 'Pass',
      Parameters: {
        'name.$': '$$.Execution.Name',
        'id.$': '$$.Execution.Id',
        'stateMachine.$': '$$.StateMachine.Id',
        'startTime.$': '$$.Execution.StartTime',
        'state.$': '$',
      },
      End: true,
    },
  },
};

const GATE_DEFINITION = {
  StartAt: 'Gate',
  States: { Gate: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:gate', End: true } },
};

describe('local Step Functions endpoint', () => {
  let server: LocalStepFunctionsServer;
  let stub: Awaited<ReturnType<typeof startStubDataApi>>;
  let sfn: SFNClient;
  let loadArn: string;
  let gateArn: string;
  const flakyCalls = new Map<string, number>();
  let releaseGate: () => void = () => undefined;
  let gate = new Promise<void>((resolve) => (releaseGate = resolve));

  class CopyError extends Error {
    constructor(message: string) {
      super(message);
      this.name = 'CopyError';
    }
  }
  class TransientError extends Error {
    constructor() {
      super('try again');
      this.name = 'TransientError';
    }
  }

  beforeAll(async () => {
    stub = await startStubDataApi();
    server = await startStepFunctionsServer({
      waitScale: 0,
      retryScale: 0,
      sdkClients: { redshiftdata: new RedshiftDataClient({ endpoint: stub.endpoint, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 }) },
      lambdas: {
        prepare: async (event) => ({ tables: (event as { tables: string[] }).tables.length }),
        'arn:aws:lambda:us-east-1:000000000000:function:loadTable': async (event) => {
          const { table, index } = event as { table: string; index: number };
          if (table === 'broken') throw new CopyError('bad row in s3://landing/broken/1.json line 3');
          return { table, index, rows: 10 };
        },
        gate: async () => {
          await gate;
          return { released: true };
        },
      },
    });
    // Registered after start, as the stack does once endpoints are known.
    server.registerLambda('flaky', async (event) => {
      const key = JSON.stringify(event);
      const calls = (flakyCalls.get(key) ?? 0) + 1;
      flakyCalls.set(key, calls);
      if (calls === 1) throw new TransientError();
      return { attempts: calls };
    });
    loadArn = server.registerStateMachine({ name: 'load', definition: LOAD_DEFINITION });
    gateArn = server.registerStateMachine({ name: 'gate', definition: GATE_DEFINITION });
    sfn = new SFNClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: CREDENTIALS });
  });

  afterAll(async () => {
    releaseGate();
    sfn.destroy();
    await server.stop();
    await new Promise((resolve) => stub.server.close(resolve));
  });

  async function finished(executionArn: string): Promise<DescribeExecutionCommandOutput> {
    for (;;) {
      const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (out.status !== 'RUNNING') return out;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async function history(executionArn: string): Promise<HistoryEvent[]> {
    return (await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events ?? [];
  }

  it('registers state machines under the AWS ARN shape', async () => {
    expect(loadArn).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:load');
    const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: loadArn }));
    expect(described.name).toBe('load');
    expect(JSON.parse(described.definition ?? '{}')).toEqual(LOAD_DEFINITION);
    const created = await sfn.send(new CreateStateMachineCommand({ name: 'viaApi', definition: JSON.stringify(GATE_DEFINITION), roleArn: 'arn:aws:iam::000000000000:role/x' }));
    expect(created.stateMachineArn).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:viaApi');
  });

  it('runs Map, Choice, Wait, Retry and Catch with Task resources mapped by ARN', async () => {
    const input = { sql: 'select 1', tables: ['visits', 'broken', 'campaigns'] };
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: loadArn, name: 'visits-2024-01-01', input: JSON.stringify(input) }));
    expect(executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:load:visits-2024-01-01');
    const out = await finished(executionArn!);
    expect({ status: out.status, error: out.error, cause: out.cause }).toEqual({ status: 'SUCCEEDED' });
    expect(out.stopDate).toBeInstanceOf(Date);
    expect(JSON.parse(out.input ?? '')).toEqual(input);
    const output = JSON.parse(out.output ?? '{}');
    expect(output.name).toBe('visits-2024-01-01');
    expect(output.id).toBe(executionArn);
    expect(output.stateMachine).toBe(loadArn);
    expect(typeof output.startTime).toBe('string');
    expect(output.state.prepared).toEqual({ tables: 3 });
    expect(output.state.flaky).toEqual({ attempts: 2, status: 200 });
    expect(output.state.statement).toEqual({ Id: expect.stringMatching(/^stmt-/) });
    expect(output.state.loaded).toEqual([
      { table: 'visits', index: 0, rows: 10 },
      { table: 'broken', failed: true, error: 'CopyError', cause: { errorType: 'CopyError', errorMessage: 'bad row in s3://landing/broken/1.json line 3' } },
      { table: 'campaigns', index: 2, rows: 10 },
    ]);
    // The Data API received the effective parameters, context object included.
    const submitted = stub.requests.find((r) => r.body.StatementName === 'visits-2024-01-01');
    expect(submitted).toEqual({
      target: 'RedshiftData.ExecuteStatement',
      // The SDK fills ClientToken (an idempotency token), as it does behind the AWS integration.
      body: { ClusterIdentifier: 'local', Database: 'dev', DbUser: 'forklift', Sql: 'select 1', StatementName: 'visits-2024-01-01', ClientToken: expect.any(String) },
    });
    const stats = server.executionStats(executionArn!);
    expect(stats.dataApiSubmissions).toBe(1);
    // Prepare, Flaky, Submit, Pause, Tables, 3 x LoadTable, Rejected, Check, Done
    expect(stats.stateTransitions).toBe(11);
    expect(stats.taskCalls.filter((c) => c.stateName === 'Flaky')).toHaveLength(2);
  });

  it('routes SDK errors as RedshiftData.<Exception> so a Catch matches them', async () => {
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: loadArn, input: JSON.stringify({ sql: 'bad sql', tables: [] }) }));
    expect(executionArn).toMatch(/:execution:load:[0-9a-f-]{36}$/);
    const out = await finished(executionArn!);
    expect(out.status).toBe('SUCCEEDED');
    const output = JSON.parse(out.output ?? '{}');
    expect(output.state.sqlError.Error).toBe('RedshiftData.ValidationException');
    expect(output.state.sqlError.Cause).toContain('syntax error at or near "bad"');
    expect(output.state.sqlError.Cause).toContain('Service: RedshiftData, Status Code: 400');
    expect((await history(executionArn!)).some((e) => e.type === 'WaitStateEntered')).toBe(false);
    expect(server.executionStats(executionArn!).dataApiSubmissions).toBe(1);
  });

  it('reports GetExecutionHistory in the AWS shape', async () => {
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: loadArn, name: 'history', input: JSON.stringify({ sql: 'select 2', tables: ['a'] }) }));
    await finished(executionArn!);
    const events = await history(executionArn!);
    const types = events.map((e) => e.type);
    expect(events[0]).toMatchObject({ id: 1, previousEventId: 0, type: 'ExecutionStarted' });
    expect(JSON.parse(events[0]?.executionStartedEventDetails?.input ?? '')).toEqual({ sql: 'select 2', tables: ['a'] });
    expect(events.every((e, i) => e.id === i + 1 && e.timestamp instanceof Date && (e.previousEventId ?? -1) < e.id!)).toBe(true);
    expect(types[types.length - 1]).toBe('ExecutionSucceeded');
    expect(types.slice(0, 5)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionSucceeded']);
    const scheduled = events.find((e) => e.type === 'TaskScheduled' && e.taskScheduledEventDetails?.resourceType === 'aws-sdk:redshiftdata');
    expect(scheduled?.taskScheduledEventDetails).toMatchObject({ resource: 'executeStatement', region: 'us-east-1' });
    expect(JSON.parse(scheduled?.taskScheduledEventDetails?.parameters ?? '{}')).toMatchObject({ Sql: 'select 2', StatementName: 'history' });
    const failed = events.find((e) => e.type === 'TaskFailed');
    expect(failed?.taskFailedEventDetails).toMatchObject({ resourceType: 'lambda', resource: 'invoke', error: 'TransientError' });
    expect(JSON.parse(failed?.taskFailedEventDetails?.cause ?? '{}')).toEqual({ errorType: 'TransientError', errorMessage: 'try again' });
    for (const type of ['WaitStateEntered', 'WaitStateExited', 'MapStateEntered', 'MapIterationStarted', 'MapIterationSucceeded', 'MapStateSucceeded', 'MapStateExited', 'ChoiceStateEntered', 'ChoiceStateExited', 'PassStateEntered']) {
      expect(types).toContain(type);
    }
    expect(events.find((e) => e.type === 'ChoiceStateEntered')?.stateEnteredEventDetails?.name).toBe('Check');
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 2, reverseOrder: true }));
    expect(page.events?.map((e) => e.type)[0]).toBe('ExecutionSucceeded');
    expect(page.nextToken).toBeDefined();
  });

  it('fails the execution with the Fail state error and cause', async () => {
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: loadArn, input: JSON.stringify({ sql: 'select 3', tables: [], fail: true }) }));
    const out = await finished(executionArn!);
    expect(out).toMatchObject({ status: 'FAILED', error: 'LoadRejectedError', cause: 'asked to fail' });
    const last = (await history(executionArn!)).pop();
    expect(last).toMatchObject({ type: 'ExecutionFailed', executionFailedEventDetails: { error: 'LoadRejectedError', cause: 'asked to fail' } });
  });

  it('keeps execution names unique per state machine', async () => {
    const input = JSON.stringify({ table: 'visits' });
    const first = await sfn.send(new StartExecutionCommand({ stateMachineArn: gateArn, name: 'visits-h1', input }));
    const again = await sfn.send(new StartExecutionCommand({ stateMachineArn: gateArn, name: 'visits-h1', input }));
    expect(again.executionArn).toBe(first.executionArn);
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: gateArn, name: 'visits-h1', input: '{"table":"other"}' }))).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    // The same name on another state machine is another execution.
    const other = await sfn.send(new StartExecutionCommand({ stateMachineArn: loadArn, name: 'visits-h1', input: JSON.stringify({ sql: 'x', tables: [] }) }));
    expect(other.executionArn).not.toBe(first.executionArn);
    releaseGate();
    expect((await finished(first.executionArn!)).status).toBe('SUCCEEDED');
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: gateArn, name: 'visits-h1', input }))).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    gate = new Promise<void>((resolve) => (releaseGate = resolve));
  });

  it('rejects names AWS rejects', async () => {
    for (const name of ['has space', 'a/b', 'x'.repeat(81), 'tab\there', 'q?', 'dollar$', '']) {
      await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: gateArn, name, input: '{}' }))).rejects.toBeInstanceOf(InvalidName);
    }
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: gateArn, name: 'ok-name_1.2', input: 'not json' }))).rejects.toMatchObject({ name: 'InvalidExecutionInput' });
  });

  it('lists executions by status with paging, and stops a running one', async () => {
    const running = await sfn.send(new StartExecutionCommand({ stateMachineArn: gateArn, name: 'held', input: '{}' }));
    const running2 = await sfn.send(new StartExecutionCommand({ stateMachineArn: gateArn, name: 'held2', input: '{}' }));
    const listRunning = await sfn.send(new ListExecutionsCommand({ stateMachineArn: gateArn, statusFilter: 'RUNNING' }));
    expect(listRunning.executions?.map((e) => e.name)).toEqual(['held2', 'held']);
    const succeeded = await sfn.send(new ListExecutionsCommand({ stateMachineArn: gateArn, statusFilter: 'SUCCEEDED' }));
    expect(succeeded.executions?.map((e) => e.name)).toEqual(['visits-h1']);
    expect(succeeded.executions?.[0]?.stopDate).toBeInstanceOf(Date);
    const page1 = await sfn.send(new ListExecutionsCommand({ stateMachineArn: gateArn, maxResults: 1 }));
    expect(page1.executions).toHaveLength(1);
    const page2 = await sfn.send(new ListExecutionsCommand({ stateMachineArn: gateArn, maxResults: 1, nextToken: page1.nextToken }));
    expect(page2.executions?.[0]?.name).not.toBe(page1.executions?.[0]?.name);

    await sfn.send(new StopExecutionCommand({ executionArn: running.executionArn, error: 'Manual', cause: 'operator stop' }));
    const stopped = await sfn.send(new DescribeExecutionCommand({ executionArn: running.executionArn }));
    expect(stopped).toMatchObject({ status: 'ABORTED', error: 'Manual', cause: 'operator stop' });
    expect((await history(running.executionArn!)).pop()).toMatchObject({ type: 'ExecutionAborted', executionAbortedEventDetails: { error: 'Manual', cause: 'operator stop' } });
    const aborted = await sfn.send(new ListExecutionsCommand({ stateMachineArn: gateArn, statusFilter: 'ABORTED' }));
    expect(aborted.executions?.map((e) => e.name)).toEqual(['held']);
    releaseGate();
    expect((await finished(running2.executionArn!)).status).toBe('SUCCEEDED');
    gate = new Promise<void>((resolve) => (releaseGate = resolve));
  });

  it('fails a Task with an unknown resource clearly', async () => {
    const arn = server.registerStateMachine({
      name: 'unknown',
      definition: { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage', End: true } } },
    });
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn }));
    const out = await finished(executionArn!);
    expect(out.status).toBe('FAILED');
    expect(out.cause).toContain("no local handler for Task resource 'arn:aws:states:::sqs:sendMessage'");
  });

  it('maps Tasks inside Parallel branches and fails with ErrorPath/CausePath', async () => {
    const arn = server.registerStateMachine({
      name: 'parallel',
      definition: {
        StartAt: 'Both',
        States: {
          Both: {
            Type: 'Parallel',
            Branches: [
              { StartAt: 'Left', States: { Left: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:prepare', End: true } } },
              { StartAt: 'Right', States: { Right: { Type: 'Pass', Result: { side: 'right' }, End: true } } },
            ],
            ResultPath: '$.both',
            Next: 'Fail',
          },
          Fail: { Type: 'Fail', ErrorPath: '$.failure.error', CausePath: '$.failure.cause' },
        },
      },
    });
    const input = { tables: ['a', 'b'], failure: { error: 'CopyError', cause: 'line 3: bad int' } };
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, input: JSON.stringify(input) }));
    const out = await finished(executionArn!);
    expect(out).toMatchObject({ status: 'FAILED', error: 'CopyError', cause: 'line 3: bad int' });
    const types = (await history(executionArn!)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['ParallelStateEntered', 'ParallelStateStarted', 'LambdaFunctionSucceeded', 'ParallelStateSucceeded', 'FailStateEntered', 'ExecutionFailed']));
  });

  it('times out an execution past TimeoutSeconds', async () => {
    const arn = server.registerStateMachine({ name: 'slow', definition: { ...GATE_DEFINITION, TimeoutSeconds: 1 } });
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn }));
    const out = await finished(executionArn!);
    expect(out).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    expect((await history(executionArn!)).pop()?.type).toBe('ExecutionTimedOut');
  });
});
