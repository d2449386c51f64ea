/**
 * The local Step Functions endpoint is as strict as AWS where the load state machine can trip:
 * a path that selects nothing is States.Runtime (not caught by States.ALL), payloads past 256 KiB
 * are States.DataLimitExceeded, SDK errors carry the names Step Functions gives them, Lambda
 * timeouts are enforced, and a stopAtState fault aborts an execution where asked.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand, StopExecutionCommand, type DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { startStepFunctionsServer, type LocalStepFunctionsServer } from '../../../local/stepfunctions/server';

const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const FN = (name: string): string => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

/** A Data API stand-in: SQL 'throttle' → ThrottlingException (not in the Data API model), 'bad' → ValidationException. */
async function startStubDataApi(): Promise<{ endpoint: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      const sql = String(body.Sql ?? '');
      const error = sql === 'throttle' ? 'ThrottlingException' : sql === 'bad' ? 'ValidationException' : undefined;
      if (error) {
        res.statusCode = 400;
        res.setHeader('x-amzn-errortype', error);
        res.end(JSON.stringify({ __type: error, message: `${error} for '${sql}'` }));
        return;
      }
      res.end(JSON.stringify({ Id: 'stmt-1', Status: 'ABORTED' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const catchAll = (next: string) => [{ ErrorEquals: ['States.ALL'], ResultPath: '$.caught', Next: next }];

let server: LocalStepFunctionsServer;
let stub: Awaited<ReturnType<typeof startStubDataApi>>;
let sfn: SFNClient;
const calls: string[] = [];
let remainingSeen = Number.NaN;

beforeAll(async () => {
  stub = await startStubDataApi();
  server = await startStepFunctionsServer({
    waitScale: 0,
    retryScale: 0,
    sdkClients: { redshiftdata: new RedshiftDataClient({ endpoint: stub.endpoint, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 }) },
    stopAtState: [{ state: 'Second', times: 1 }],
    lambdas: {
      big: async () => ({ blob: 'x'.repeat(300 * 1024) }),
      small: async () => ({ ok: true }),
      first: async () => {
        calls.push('first');
        return {};
      },
      second: async () => {
        calls.push('second');
        return {};
      },
    },
  });
  server.registerLambda(
    'slow',
    async (_event, context) => {
      remainingSeen = context.getRemainingTimeInMillis();
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      return { late: true };
    },
    { timeoutSeconds: 1 },
  );
  sfn = new SFNClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: CREDENTIALS });
});

afterAll(async () => {
  sfn.destroy();
  await server.stop();
  await new Promise((resolve) => stub.server.close(resolve));
});

async function run(name: string, definition: object, input: object = {}): Promise<DescribeExecutionCommandOutput> {
  const stateMachineArn = server.registerStateMachine({ name, definition });
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
  await server.waitForExecution(executionArn!);
  return sfn.send(new DescribeExecutionCommand({ executionArn }));
}

it('a ResultSelector path that selects nothing is States.Runtime, and a States.ALL Catch does not catch it', async () => {
  const out = await run('runtime', {
    StartAt: 'Describe',
    States: {
      Describe: {
        Type: 'Task',
        Resource: 'arn:aws:states:::aws-sdk:redshiftdata:describeStatement',
        Parameters: { Id: 'stmt-1' },
        ResultSelector: { 'Status.$': '$.Status', 'Cause.$': '$.Error' },
        Catch: catchAll('Caught'),
        End: true,
      },
      Caught: { Type: 'Pass', End: true },
    },
  });
  expect(out).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
});

it('a Task result past 256 KiB is States.DataLimitExceeded, which States.ALL does not catch', async () => {
  const out = await run('dataLimit', {
    StartAt: 'Big',
    States: { Big: { Type: 'Task', Resource: FN('big'), Catch: catchAll('Caught'), End: true }, Caught: { Type: 'Pass', End: true } },
  });
  expect(out).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
});

it('a state output past 256 KiB (the input carried along) is States.DataLimitExceeded', async () => {
  const out = await run(
    'dataLimitState',
    { StartAt: 'Small', States: { Small: { Type: 'Task', Resource: FN('small'), ResultPath: '$.small', End: true } } },
    // The input is just under the quota; the Task's result added by ResultPath takes the output past it.
    { carried: 'y'.repeat(256 * 1024 - 19) },
  );
  expect(out).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
});

it('SDK errors: a modeled exception keeps its name, one the Data API does not model surfaces as RedshiftData.RedshiftDataException', async () => {
  const definition = (sql: string) => ({
    StartAt: 'Submit',
    States: {
      Submit: {
        Type: 'Task',
        Resource: 'arn:aws:states:::aws-sdk:redshiftdata:executeStatement',
        Parameters: { ClusterIdentifier: 'c', Database: 'dev', DbUser: 'u', Sql: sql },
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.caught', Next: 'Report' }],
        End: true,
      },
      Report: { Type: 'Fail', ErrorPath: '$.caught.Error', CausePath: '$.caught.Cause' },
    },
  });
  const throttled = await run('throttled', definition('throttle'));
  expect(throttled).toMatchObject({ status: 'FAILED', error: 'RedshiftData.RedshiftDataException' });
  expect(throttled.cause).toMatch(/Service: RedshiftData, Status Code: 400, Error Code: ThrottlingException/);
  const invalid = await run('invalid', definition('bad'));
  expect(invalid).toMatchObject({ status: 'FAILED', error: 'RedshiftData.ValidationException' });
});

it("a Lambda past its configured timeout fails as Lambda.Unknown ('Task timed out'), matched by States.TaskFailed", async () => {
  const out = await run('timeout', {
    StartAt: 'Slow',
    States: {
      Slow: { Type: 'Task', Resource: FN('slow'), Catch: [{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.caught', Next: 'Report' }], End: true },
      Report: { Type: 'Fail', ErrorPath: '$.caught.Error', CausePath: '$.caught.Cause' },
    },
  });
  expect(out).toMatchObject({ status: 'FAILED', error: 'Lambda.Unknown' });
  expect(out.cause).toMatch(/Task timed out after 1\.00 seconds/);
  expect(remainingSeen).toBeGreaterThan(0);
  expect(remainingSeen).toBeLessThanOrEqual(1_000);
});

it('the stopAtState fault aborts an execution as it enters the named state, before its Task runs, once', async () => {
  const definition = {
    StartAt: 'First',
    States: { First: { Type: 'Task', Resource: FN('first'), Next: 'Second' }, Second: { Type: 'Task', Resource: FN('second'), End: true } },
  };
  const stopped = await run('stopAt', definition);
  expect(stopped).toMatchObject({ status: 'ABORTED', error: 'Forklift.FaultInjected' });
  expect(calls).toEqual(['first']);
  const again = await run('stopAt', definition);
  expect(again.status).toBe('SUCCEEDED');
  expect(calls).toEqual(['first', 'first', 'second']);
});

it('a stopped execution settles its Tasks, so the Task timeout timer the library arms is cleared (a pending one held the process for a day)', async () => {
  const armed = new Map<unknown, number>();
  const cleared = new Set<unknown>();
  const realSetTimeout = global.setTimeout;
  const realClearTimeout = global.clearTimeout;
  const setTimeoutSpy = jest.spyOn(global, 'setTimeout').mockImplementation(((handler: () => void, ms?: number) => {
    const id = realSetTimeout(handler, ms);
    armed.set(id, ms ?? 0);
    return id;
  }) as typeof setTimeout);
  const clearTimeoutSpy = jest.spyOn(global, 'clearTimeout').mockImplementation(((id?: NodeJS.Timeout) => {
    cleared.add(id);
    realClearTimeout(id);
  }) as typeof clearTimeout);
  try {
    // A Task whose Lambda has not answered when StopExecution arrives.
    let release: () => void = () => undefined;
    server.registerLambda('hanging', () => new Promise((resolve) => (release = () => resolve({}))));
    const stateMachineArn = server.registerStateMachine({ name: 'stopInFlight', definition: { StartAt: 'Hang', States: { Hang: { Type: 'Task', Resource: FN('hanging'), End: true } } } });
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: '{}' }));
    await new Promise((resolve) => realSetTimeout(resolve, 200));
    await sfn.send(new StopExecutionCommand({ executionArn }));
    await server.waitForExecution(executionArn!);
    await new Promise((resolve) => realSetTimeout(resolve, 50));
    const dayTimers = [...armed].filter(([, ms]) => ms === 86_400_000).map(([id]) => id);
    expect(dayTimers).toHaveLength(1);
    expect(dayTimers.filter((id) => !cleared.has(id))).toEqual([]);
    release();
  } finally {
    setTimeoutSpy.mockRestore();
    clearTimeoutSpy.mockRestore();
  }
});
