/**
 * statemachines/load.asl.json against the Data API's contract, on the local Step Functions
 * endpoint, with a scripted Data API: statements that are SUBMITTED before they run (no
 * SubStatements), ABORTED (no Error), FAILED with Redshift's serialization conflict (1023),
 * throttled result reads, a submit answered 500 after it was accepted. Every path ends in
 * Report or in RecordFailure; submissions carry the ClientToken of their attempt.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand, type DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { clientToken, pollSchedule } from '../../../functions/core/submission';
import { LOAD_DEFINITION_FILE, localFunctionArn } from '../../../local/pipeline';
import { loadDefinition } from '../../../local/stack';
import { startStepFunctionsServer, type LocalStepFunctionsServer } from '../../../local/stepfunctions/server';

const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const CONFLICT = 'ERROR: 1023 DETAIL: Serializable isolation violation on table - 100413, transactions forming the cycle are: 1, 2 (pid:1)';

/** What the scripted Data API does with a batch whose first SQL is the script's name. */
interface Script {
  /** Statuses DescribeStatement reports, per submission (the last one repeats); FAILED carries `error`. */
  statuses: (submission: number) => string[];
  error?: string;
  /** GetStatementResult calls answered with ThrottlingException first. */
  throttledReads?: number;
  /** BatchExecuteStatement calls accepted, then answered with a 500. */
  acceptThen500?: number;
}

interface Submission {
  id: string;
  script: string;
  token: string | undefined;
  polls: number;
}

async function startScriptedDataApi(scripts: Record<string, Script>): Promise<{ endpoint: string; server: Server; submissions: Submission[] }> {
  const submissions: Submission[] = [];
  const byToken = new Map<string, Submission>();
  const reads = new Map<string, number>();
  const failedAccepts = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      const op = String(req.headers['x-amz-target']).split('.')[1];
      const reply = (status: number, out: unknown, type?: string): void => {
        res.statusCode = status;
        res.setHeader('content-type', 'application/x-amz-json-1.1');
        if (type) res.setHeader('x-amzn-errortype', type);
        res.end(JSON.stringify(type ? { __type: type, message: String(out) } : out));
      };
      if (op === 'BatchExecuteStatement') {
        const script = String((body.Sqls as string[])[0]);
        const token = body.ClientToken as string | undefined;
        // The API contract: the same ClientToken returns the statement it created, without running it again.
        let sub = token ? byToken.get(token) : undefined;
        if (!sub) {
          sub = { id: `stmt-${submissions.length + 1}`, script, token, polls: 0 };
          submissions.push(sub);
          if (token) byToken.set(token, sub);
        }
        const failures = failedAccepts.get(script) ?? 0;
        if (failures < (scripts[script]?.acceptThen500 ?? 0)) {
          failedAccepts.set(script, failures + 1);
          return reply(500, 'internal error after accepting', 'InternalServerException');
        }
        return reply(200, { Id: sub.id, CreatedAt: 1700000000 });
      }
      const id = String(body.Id).split(':')[0];
      const sub = submissions.find((s) => s.id === id)!;
      const script = scripts[sub.script]!;
      if (op === 'DescribeStatement') {
        const nth = submissions.filter((s) => s.script === sub.script).indexOf(sub) + 1;
        const statuses = script.statuses(nth);
        const status = statuses[Math.min(sub.polls, statuses.length - 1)]!;
        sub.polls += 1;
        const out: Record<string, unknown> = { Id: sub.id, Status: status, HasResultSet: false };
        if (status === 'FINISHED') out.SubStatements = [{ Id: `${sub.id}:1`, Status: 'FINISHED', ResultRows: 5, Duration: 1000 }];
        if (status === 'FAILED') out.Error = script.error ?? 'ERROR: something';
        return reply(200, out);
      }
      if (op === 'GetStatementResult') {
        const n = (reads.get(sub.id) ?? 0) + 1;
        reads.set(sub.id, n);
        if (n <= (script.throttledReads ?? 0)) return reply(400, 'Rate exceeded', 'ThrottlingException');
        return reply(200, { Records: [[{ stringValue: 'loaded' }, { stringValue: 'loaded by test' }, { longValue: 5 }]], TotalNumRows: 1 });
      }
      return reply(400, `unsupported ${op}`, 'ValidationException');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, submissions };
}

const always = (...statuses: string[]) => () => statuses;
const SCRIPTS: Record<string, Script> = {
  ok: { statuses: always('SUBMITTED', 'STARTED', 'FINISHED') },
  'load-conflicts-twice': { statuses: (n) => (n <= 2 ? ['STARTED', 'FAILED'] : ['FINISHED']), error: CONFLICT },
  'agg-conflicts-once': { statuses: (n) => (n <= 1 ? ['FAILED'] : ['FINISHED']), error: CONFLICT },
  'conflicts-forever': { statuses: always('FAILED'), error: CONFLICT },
  aborted: { statuses: always('STARTED', 'ABORTED') },
  'copy-error': { statuses: always('FAILED'), error: 'ERROR: Load into table failed. Check stl_load_errors' },
  'throttled-outcome': { statuses: always('FINISHED'), throttledReads: 3 },
  'accepted-then-500': { statuses: always('FINISHED'), acceptThen500: 1 },
};

let api: Awaited<ReturnType<typeof startScriptedDataApi>>;
let server: LocalStepFunctionsServer;
let sfn: SFNClient;
let arn: string;
const failures: Array<{ execution: string; error: unknown }> = [];

beforeAll(async () => {
  api = await startScriptedDataApi(SCRIPTS);
  server = await startStepFunctionsServer({
    waitScale: 0,
    retryScale: 0,
    sdkClients: { redshiftdata: new RedshiftDataClient({ endpoint: api.endpoint, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 }) },
    lambdas: {
      [localFunctionArn('prepare')]: async (event) => {
        const e = event as { input: { load: string; aggregate?: string }; execution: string; phase?: string };
        return e.phase === 'aggregates' ? aggregatePlan(e) : plan(e);
      },
      [localFunctionArn('report')]: async () => ({ status: 'loaded' }),
      [localFunctionArn('record-failure')]: async (event) => {
        const e = event as { execution: string; error: { Error: string; Cause: string } };
        failures.push({ execution: e.execution, error: e.error });
        return { error: e.error.Error, cause: e.error.Cause };
      },
    },
  });
  const definition = await loadDefinition(LOAD_DEFINITION_FILE, {
    PrepareFunctionArn: localFunctionArn('prepare'),
    ReportFunctionArn: localFunctionArn('report'),
    RecordFailureFunctionArn: localFunctionArn('record-failure'),
  });
  arn = server.registerStateMachine({ name: 'load', definition });
  sfn = new SFNClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: CREDENTIALS });
});

afterAll(async () => {
  sfn.destroy();
  await server.stop();
  await new Promise((resolve) => api.server.close(resolve));
});

/** A load plan as Prepare returns it, for the scripted batches. */
function plan(event: { input: { load: string; aggregate?: string }; execution: string }): Record<string, unknown> {
  const target = { ClusterIdentifier: 'c', Database: 'dev', DbUser: 'forklift' };
  const polls = pollSchedule(2, { minSeconds: 1 });
  return {
    action: 'load', reason: 'test', loadId: event.execution, pollSeconds: 1, steps: [],
    loadWait: { seconds: polls[0], index: 0 }, aggregateWait: { seconds: polls[0], index: 0 }, loadPolls: polls, aggregatePolls: polls,
    attempts: { load: 1, aggregate: 1, wait: 0 },
    loadRequest: { ...target, Sqls: [event.input.load], StatementName: event.execution, ClientToken: clientToken(event.execution, 'load', 1) },
    outcomeStatement: 1,
    ...(event.input.aggregate ? { aggregates: ['facts'] } : {}),
  };
}

/** PlanAggregates (Prepare's aggregates phase): one scripted batch. */
function aggregatePlan(event: { input: { aggregate?: string }; execution: string }): Record<string, unknown> {
  const target = { ClusterIdentifier: 'c', Database: 'dev', DbUser: 'forklift' };
  return {
    iteration: 1, steps: [], covered: ['facts'], reason: 'test', pendingLoads: 1,
    request: { ...target, Sqls: [event.input.aggregate], StatementName: `${event.execution}-agg1`, ClientToken: clientToken(event.execution, 'aggregate', 1) },
  };
}

async function run(name: string, input: { load: string; aggregate?: string }): Promise<DescribeExecutionCommandOutput> {
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name, input: JSON.stringify(input) }));
  await server.waitForExecution(executionArn!);
  return sfn.send(new DescribeExecutionCommand({ executionArn }));
}

const submitted = (script: string) => api.submissions.filter((s) => s.script === script);
const failureOf = (execution: string) => failures.filter((f) => f.execution === execution);

it('polls a batch that is SUBMITTED (no SubStatements yet) until FINISHED, then loads and aggregates', async () => {
  const out = await run('polls', { load: 'ok', aggregate: 'ok' });
  expect(out.status).toBe('SUCCEEDED');
  expect(failureOf('polls')).toEqual([]);
});

it('an ABORTED load statement (it has no Error) reaches RecordFailure as StatementAborted', async () => {
  const out = await run('aborted', { load: 'aborted' });
  expect(out).toMatchObject({ status: 'FAILED', error: 'StatementAborted' });
  expect(failureOf('aborted')).toEqual([{ execution: 'aborted', error: { Error: 'StatementAborted', Cause: expect.stringMatching(/was ABORTED/) } }]);
});

it('a FAILED statement reaches RecordFailure with its Error text', async () => {
  const out = await run('copyError', { load: 'copy-error' });
  expect(out).toMatchObject({ status: 'FAILED' });
  expect(failureOf('copyError')[0]?.error).toMatchObject({ Error: 'StatementFailed', Cause: expect.stringMatching(/stl_load_errors/) });
});

it('a 1023 serialization conflict resubmits the batch, each attempt with its own ClientToken, until it commits', async () => {
  const out = await run('conflict', { load: 'load-conflicts-twice', aggregate: 'agg-conflicts-once' });
  expect(out.status).toBe('SUCCEEDED');
  expect(submitted('load-conflicts-twice').map((s) => s.token)).toEqual([1, 2, 3].map((n) => clientToken('conflict', 'load', n)));
  expect(submitted('agg-conflicts-once').map((s) => s.token)).toEqual([1, 2].map((n) => clientToken('conflict', 'aggregate', n)));
  expect(failureOf('conflict')).toEqual([]);
});

it('a conflict that persists ends in RecordFailure after 5 attempts', async () => {
  const out = await run('conflictForever', { load: 'conflicts-forever' });
  expect(out.status).toBe('FAILED');
  expect(submitted('conflicts-forever')).toHaveLength(5);
  expect(failureOf('conflictForever')[0]?.error).toMatchObject({ Error: 'StatementFailed', Cause: expect.stringContaining('Serializable isolation violation') });
});

it('a throttled outcome read after the commit is retried: no failure recorded, the aggregates run', async () => {
  const out = await run('throttledOutcome', { load: 'throttled-outcome', aggregate: 'ok' });
  expect(out.status).toBe('SUCCEEDED');
  expect(failureOf('throttledOutcome')).toEqual([]);
});

it('a submit answered 500 after it was accepted is retried with the same ClientToken: the batch runs once', async () => {
  const out = await run('acceptedThen500', { load: 'accepted-then-500' });
  expect(out.status).toBe('SUCCEEDED');
  expect(submitted('accepted-then-500')).toEqual([expect.objectContaining({ token: clientToken('acceptedThen500', 'load', 1) })]);
});
