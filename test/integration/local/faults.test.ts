/**
 * Each fault option of the local stack does what it says (local/faults.ts), through the real
 * SDK clients: throttles and 500s surface as the services' own errors (after the SDK's own
 * retries), an accepted-then-500 submit has run, and fraction draws are seeded.
 */
import { BatchExecuteStatementCommand, ExecuteStatementCommand } from '@aws-sdk/client-redshift-data';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ListStateMachinesCommand } from '@aws-sdk/client-sfn';
import { FaultInjector } from '../../../local/faults';
import { startLocalStack, type LocalStack } from '../../../local/stack';

const TARGET = { ClusterIdentifier: 'local', Database: 'dev', DbUser: 'forklift' };

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack({
    buckets: ['landing'],
    faults: {
      calls: [
        { service: 'redshiftData', action: 'ExecuteStatement', kind: 'throttle', times: 3 },
        { service: 'redshiftData', action: 'BatchExecuteStatement', kind: 'acceptThen500', nth: [1] },
        { service: 's3', action: 'PutObject', kind: 'error', nth: [1] },
        { service: 's3', action: 'GetObject', kind: 'throttle' },
        { service: 'stepFunctions', action: 'ListStateMachines', kind: 'throttle', nth: [1, 2, 3] },
      ],
    },
  });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

const injected = (action: string) => stack.faults.injected.filter((f) => f.action === action);

it('throttle: the Data API answers ThrottlingException to every attempt until `times` runs out', async () => {
  const send = () => stack.redshiftData.client.send(new ExecuteStatementCommand({ ...TARGET, Sql: 'select 1' }));
  await expect(send()).rejects.toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
  expect(injected('ExecuteStatement').map((f) => f.call)).toEqual([1, 2, 3]); // the SDK tried 3 times
  await expect(send()).resolves.toMatchObject({ Id: expect.any(String) });
});

it('acceptThen500: the submit runs, the client is told 500; its retry carries the same ClientToken (the SDK fills it) and gets that statement back', async () => {
  const before = stack.redshiftData.server.stats.submissions;
  const out = await stack.redshiftData.client.send(
    new BatchExecuteStatementCommand({ ...TARGET, Sqls: ['create table fault_probe (id integer)', 'insert into fault_probe values (1)'] }),
  );
  expect(out.Id).toEqual(expect.any(String));
  expect(injected('BatchExecuteStatement')).toEqual([{ service: 'redshiftData', caller: 'functions', action: 'BatchExecuteStatement', kind: 'acceptThen500', call: 1 }]);
  // Accepted once: the SDK's retry repeated the idempotency token, and the Data API honours it.
  expect(stack.redshiftData.server.stats.submissions - before).toBe(1);
  await expect(stack.redshiftData.server.query('SELECT id FROM fault_probe')).resolves.toEqual([{ id: 1 }]);
});

it('error (nth): the first S3 PutObject gets a 500 InternalError, which the SDK retries', async () => {
  await stack.s3.client.send(new PutObjectCommand({ Bucket: 'landing', Key: 'a/b.json', Body: '{}' }));
  expect(injected('PutObject').map((f) => f.kind)).toEqual(['error']);
  await expect(stack.s3.client.send(new HeadObjectCommand({ Bucket: 'landing', Key: 'a/b.json' }))).resolves.toMatchObject({ ContentLength: 2 });
});

it('throttle: S3 answers 503 SlowDown', async () => {
  await expect(stack.s3.client.send(new GetObjectCommand({ Bucket: 'landing', Key: 'a/b.json' }))).rejects.toMatchObject({
    name: 'SlowDown',
    $metadata: { httpStatusCode: 503 },
  });
});

it('throttle: Step Functions answers ThrottlingException to the stack\'s SFN client', async () => {
  await expect(stack.stepFunctions.client.send(new ListStateMachinesCommand({}))).rejects.toMatchObject({ name: 'ThrottlingException' });
  await expect(stack.stepFunctions.client.send(new ListStateMachinesCommand({}))).resolves.toMatchObject({ stateMachines: [] });
});

it('fraction: the same seed faults the same calls; reject is not retried by the SDK', async () => {
  const pattern = async (seed: number): Promise<boolean[]> => {
    const client = new S3Client({ ...stack.clientConfig('s3'), maxAttempts: 1 });
    new FaultInjector({ calls: [{ service: 's3', action: 'HeadObject', kind: 'reject', fraction: 0.5 }], seed }).attach(client, 's3');
    const out: boolean[] = [];
    for (let i = 0; i < 16; i++) {
      out.push(await client.send(new HeadObjectCommand({ Bucket: 'landing', Key: 'a/b.json' })).then(() => true, () => false));
    }
    client.destroy();
    return out;
  };
  const first = await pattern(7);
  expect(await pattern(7)).toEqual(first);
  expect(first.filter((ok) => !ok).length).toBeGreaterThan(0);
  expect(first.filter((ok) => ok).length).toBeGreaterThan(0);
});

it('a fraction outside 0..1 is refused by name', () => {
  expect(() => new FaultInjector({ calls: [{ service: 'redshiftData', action: 'DescribeStatement', kind: 'throttle', fraction: 2 }] })).toThrow(
    /fault redshiftData:DescribeStatement: fraction must be within 0\.\.1, got 2/,
  );
});

it('lambdaThrottles: the picked invocations fail as Lambda.TooManyRequestsException and never reach the handler', async () => {
  const injector = new FaultInjector({ lambdaThrottles: [{ function: 'record-failure', times: 2 }] });
  const ran: number[] = [];
  const invoke = injector.wrapLambda('record-failure', async (event: number) => {
    ran.push(event);
    return event;
  });
  await expect(invoke(1, {})).rejects.toMatchObject({ name: 'Lambda.TooManyRequestsException', message: expect.stringMatching(/Status Code: 429/) });
  await expect(invoke(2, {})).rejects.toMatchObject({ name: 'Lambda.TooManyRequestsException' });
  await expect(invoke(3, {})).resolves.toBe(3);
  expect(ran).toEqual([3]);
  expect(injector.injected).toEqual([1, 2].map((call) => ({ service: 'lambda', caller: 'functions', action: 'record-failure', kind: 'throttle', call })));
  // Another function is not wrapped at all.
  const other = async (): Promise<string> => 'ok';
  expect(injector.wrapLambda('prepare', other)).toBe(other);
});
