/**
 * The deployed pipeline, on the local stack: the same handlers and the same
 * state machine file, wired the way infra/ wires them on AWS. S3 ObjectCreated
 * events go through an SQS-like batcher (batching window, batch size, partial
 * batch failures redelivered, then a dead-letter list) into discover, which
 * starts executions of statemachines/load.asl.json; its Task states call the
 * prepare, report and record-failure handlers in process.
 */
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand, type ExecutionListItem } from '@aws-sdk/client-sfn';
import type { S3EventRecord, SQSEvent, SQSRecord } from 'aws-lambda';
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { DataApiWarehouse, warehouseTarget } from '../functions/adapters/warehouse';
import type { ForkliftConfig } from '../functions/core/config/schema';
import { createDiscoverHandler } from '../functions/discover/handler';
import { createFreshnessHandler } from '../functions/freshness/handler';
import { createPrepareHandler } from '../functions/prepare/handler';
import { createRecordFailureHandler } from '../functions/record-failure/handler';
import { createReportHandler } from '../functions/report/handler';
import type { RuntimeDeps } from '../functions/runtime/env';
import { recordingMetrics, type Log, type MetricsSink } from '../functions/runtime/observability';
import { DISCOVER_MAX_CONCURRENCY, FUNCTION_SETTINGS } from '../functions/core/functionSettings';
import type { FunctionName } from '../functions/core/metricNames';
import type { PollingOptions } from '../functions/core/submission';
import type { LocalFaults } from './faults';
import { localAwsClientConfig, startLocalStack, type LocalStack } from './stack';
import type { LambdaHandler } from './stepfunctions/server';
import { invokeWithTimeout } from './stepfunctions/tasks';

/** The state machine file: the one CDK deploys. */
export const LOAD_DEFINITION_FILE = join(__dirname, '..', 'statemachines', 'load.asl.json');
export const LOAD_STATE_MACHINE = 'forklift-load';
const ACCOUNT = '000000000000';
const REGION = 'us-east-1';

/** The local ARN of one of our functions (`forklift-<name>`). */
export function localFunctionArn(name: string): string {
  return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:forklift-${name}`;
}

/** The local pipeline's default scale of AWS's waits (Wait states; a 2 s poll waits 100 ms). */
export const DEFAULT_WAIT_SCALE = 0.05;

export interface LocalPipelineOptions {
  config: ForkliftConfig;
  /** Persisted warehouse and bucket (`.forklift` for `npm start`); omitted = temp, removed on stop. */
  dataDir?: string;
  ports?: { s3?: number; redshiftData?: number; stepFunctions?: number };
  /** Scales Wait states; default 0.05 (a 2 s poll waits 100 ms). */
  waitScale?: number;
  /** SQS batching window for discover (ms); default 50. */
  batchWindowMs?: number;
  /** SQS batch size for discover; default 100 (as deployed). */
  batchSize?: number;
  /** Receives before a failing record goes to the dead-letter list; default 5 (as deployed). */
  maxReceiveCount?: number;
  /**
   * How long a record reported in batchItemFailures stays invisible before it is redelivered
   * (the queue's visibility timeout, scaled); default 1 s, short for tests (a test's load takes 0.5-3 s:
   * 5 receives outlast it). `npm start` passes the deployed timeout scaled by the wait scale, as its
   * 220 objects at once make loads take longer. discover reports the events of a partition whose load
   * is running, so they come back once it has committed.
   */
  redeliveryDelayMs?: number;
  log?: Log;
  metrics?: MetricsSink;
  now?: () => Date;
  /** Expected statement durations and bounds of the state machine's polling schedule (Prepare's `polling`). */
  polling?: PollingOptions;
  /** Seconds per function instead of the deployed timeouts (functions/core/functionSettings.ts), e.g. to provoke a timeout. */
  functionTimeouts?: Partial<Record<FunctionName, number>>;
  /** Faults to inject (throttles, errors, stopped executions): see local/faults.ts. */
  faults?: LocalFaults;
  /**
   * How often the handlers poll a statement they wait for (DescribeStatement), in ms; default 5.
   * Deployed: 500 ms. Many concurrent waits at 5 ms flood the local endpoint (a soak: 100,000s of calls).
   */
  handlerPollMs?: number;
  /**
   * The IAM role each caller of the Data API runs as, as deployed (on AWS, its execution role):
   * each role signs with a key of its own, which the local Data API maps to the database user
   * `IAMR:<role>` on a Serverless workgroup without a secret. Omitted: every call signs with one
   * unmapped key (the admin user).
   */
  dataApiRoles?: { functions: Partial<Record<FunctionName, string>>; stateMachine: string };
}

/** One finished (or running) execution, as `npm start` and tests read it. */
export interface ExecutionResult {
  name: string;
  executionArn: string;
  status: string;
  input: Record<string, unknown>;
  output?: Record<string, unknown>;
  error?: string;
  cause?: string;
  startDate?: Date;
  stopDate?: Date;
}

export interface LocalPipeline {
  config: ForkliftConfig;
  stack: LocalStack;
  stateMachineArn: string;
  deps: RuntimeDeps;
  /** Records discover could not handle after maxReceiveCount receives (the DLQ). */
  deadLetters: S3EventRecord[];
  /** Put objects into the landing bucket; their events flow into discover. */
  put(objects: Array<{ key: string; body: Buffer | string }>, options?: { concurrency?: number }): Promise<void>;
  /** Resolves when no event is pending, discover is idle and no execution runs. */
  settle(): Promise<void>;
  /** Executions of the load state machine, oldest first, with outputs. */
  executions(): Promise<ExecutionResult[]>;
  /**
   * Run the freshness function once (as the 15-minute schedule does on AWS); `at` runs it with
   * its clock at that time (a later tick of the schedule: what is pending then counts as stale).
   */
  checkFreshness(at?: Date): Promise<unknown>;
  stop(): Promise<void>;
}

const quietLog: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** Start the local stack and wire the pipeline onto it. */
export async function startLocalPipeline(options: LocalPipelineOptions): Promise<LocalPipeline> {
  const { config } = options;
  // One access key per role (as a role's credentials would be), mapped to the role for the Data API.
  const roles = options.dataApiRoles;
  const roleNames = roles ? [...new Set([roles.stateMachine, ...Object.values(roles.functions)])] : [];
  const keyOf = (role: string): string => `AKIDLOCAL${roleNames.indexOf(role)}`;
  const stack = await startLocalStack({
    ...(roles ? { iamRoles: Object.fromEntries(roleNames.map((r) => [keyOf(r), r])), stateMachineAccessKeyId: keyOf(roles.stateMachine) } : {}),
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    ...(options.ports === undefined ? {} : { ports: options.ports }),
    buckets: [config.landing.bucketName],
    stateMachines: [
      {
        name: LOAD_STATE_MACHINE,
        definitionFile: LOAD_DEFINITION_FILE,
        substitutions: {
          PrepareFunctionArn: localFunctionArn('prepare'),
          ReportFunctionArn: localFunctionArn('report'),
          RecordFailureFunctionArn: localFunctionArn('record-failure'),
        },
      },
    ],
    waitScale: options.waitScale ?? DEFAULT_WAIT_SCALE,
    retryScale: 0.01,
    ...(options.faults ? { faults: options.faults } : {}),
  });
  const stateMachineArn = stack.stepFunctions.stateMachineArns[LOAD_STATE_MACHINE]!;
  const metrics = options.metrics ?? recordingMetrics();
  const timeoutOf = (name: FunctionName): number => options.functionTimeouts?.[name] ?? FUNCTION_SETTINGS[name].timeoutSeconds;
  const deps: RuntimeDeps = {
    config,
    s3: stack.s3.client,
    sfn: stack.stepFunctions.client,
    redshiftData: stack.redshiftData.client,
    warehouse: new DataApiWarehouse(stack.redshiftData.client, warehouseTarget(config.warehouse), { pollMs: options.handlerPollMs ?? 5 }),
    stateMachineArn,
    log: options.log ?? quietLog,
    metrics,
    now: options.now ?? (() => new Date()),
  };
  // A function whose role is given calls the Data API with that role's key.
  const roleClients = new Map<string, RedshiftDataClient>();
  const depsOf = (name: FunctionName): RuntimeDeps => {
    const role = roles?.functions[name];
    if (role === undefined) return deps;
    let client = roleClients.get(role);
    if (!client) {
      client = new RedshiftDataClient(localAwsClientConfig(stack.redshiftData.endpoint, keyOf(role)));
      roleClients.set(role, client);
    }
    return { ...deps, redshiftData: client, warehouse: new DataApiWarehouse(client, warehouseTarget(config.warehouse), { pollMs: options.handlerPollMs ?? 5 }) };
  };
  const server = stack.stepFunctions.server;
  // Each function's configured timeout (functions/core/functionSettings.ts, as deployed) is enforced.
  // Learned durations are wall seconds; this stack's Waits run at waitScale, so a Wait of d / waitScale lasts d.
  const prepare = createPrepareHandler({ ...depsOf('prepare'), polling: { learnedScale: 1 / (options.waitScale ?? DEFAULT_WAIT_SCALE), ...options.polling } });
  // Lambda exit faults (local/faults.ts) sit between the invoker and each handler.
  const faulty = (name: FunctionName, handler: LambdaHandler): LambdaHandler => stack.faults.wrapLambda(name, handler);
  server.registerLambda(localFunctionArn('prepare'), faulty('prepare', prepare as LambdaHandler), { timeoutSeconds: timeoutOf('prepare') });
  server.registerLambda(localFunctionArn('report'), faulty('report', createReportHandler(depsOf('report')) as LambdaHandler), { timeoutSeconds: timeoutOf('report') });
  server.registerLambda(localFunctionArn('record-failure'), faulty('record-failure', createRecordFailureHandler(depsOf('record-failure')) as LambdaHandler), {
    timeoutSeconds: timeoutOf('record-failure'),
  });
  const discoverHandler = faulty('discover', createDiscoverHandler(depsOf('discover')) as LambdaHandler);
  const discoverFunction = { handler: discoverHandler as LambdaHandler, timeoutSeconds: timeoutOf('discover') };
  const discover = (event: SQSEvent) =>
    invokeWithTimeout(discoverFunction, 'forklift-discover', event) as Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }>;
  const freshnessDeps = depsOf('freshness');
  const freshness = createFreshnessHandler(freshnessDeps);

  const queue = new SqsBatcher(
    (event) => discover(event),
    options.batchWindowMs ?? 50,
    options.batchSize ?? 100,
    options.maxReceiveCount ?? 5,
    options.redeliveryDelayMs ?? 1000,
    DISCOVER_MAX_CONCURRENCY,
  );
  stack.s3.onObjectCreated((records) => records.forEach((r) => queue.send(r)));

  const listExecutions = async (): Promise<ExecutionListItem[]> => {
    const items: ExecutionListItem[] = [];
    let nextToken: string | undefined;
    do {
      const page = await stack.stepFunctions.client.send(
        new ListExecutionsCommand({ stateMachineArn, maxResults: 1000, ...(nextToken ? { nextToken } : {}) }),
      );
      items.push(...(page.executions ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return items;
  };

  return {
    config,
    stack,
    stateMachineArn,
    deps,
    deadLetters: queue.deadLetters,
    async put(objects, putOptions) {
      const concurrency = putOptions?.concurrency ?? 16;
      let next = 0;
      const worker = async () => {
        while (next < objects.length) {
          const object = objects[next++]!;
          await stack.s3.client.send(
            new PutObjectCommand({ Bucket: config.landing.bucketName, Key: object.key, Body: object.body }),
          );
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, objects.length) }, worker));
    },
    async settle() {
      for (;;) {
        await stack.s3.idle();
        await queue.idle();
        const running = (await listExecutions()).filter((e) => e.status === 'RUNNING');
        if (running.length === 0 && queue.isIdle()) return;
        await Promise.all(running.map((e) => server.waitForExecution(e.executionArn!)));
      }
    },
    async executions() {
      const items = (await listExecutions()).sort((a, b) => (a.startDate?.getTime() ?? 0) - (b.startDate?.getTime() ?? 0));
      return Promise.all(
        items.map(async (item): Promise<ExecutionResult> => {
          const d = await stack.stepFunctions.client.send(new DescribeExecutionCommand({ executionArn: item.executionArn }));
          return {
            name: d.name ?? '',
            executionArn: d.executionArn ?? '',
            status: d.status ?? 'UNKNOWN',
            input: d.input ? (JSON.parse(d.input) as Record<string, unknown>) : {},
            ...(d.output ? { output: JSON.parse(d.output) as Record<string, unknown> } : {}),
            ...(d.error ? { error: d.error } : {}),
            ...(d.cause ? { cause: d.cause } : {}),
            ...(d.startDate ? { startDate: d.startDate } : {}),
            ...(d.stopDate ? { stopDate: d.stopDate } : {}),
          };
        }),
      );
    },
    checkFreshness: (at) => (at === undefined ? freshness({}) : createFreshnessHandler({ ...freshnessDeps, now: () => at })({})),
    async stop() {
      await queue.idle();
      for (const client of roleClients.values()) client.destroy();
      await stack.stop();
    },
  };
}

/**
 * What SQS + the Lambda event source mapping do for discover: collect records
 * for a batching window (or until a batch is full), invoke with an SQS event,
 * redeliver the records reported in batchItemFailures after a visibility delay
 * (up to maxReceiveCount), then park them in a dead-letter list; at most maxConcurrency
 * batches run at once (the event source mapping's maximum concurrency).
 */
export class SqsBatcher {
  readonly deadLetters: S3EventRecord[] = [];
  private pending: Array<{ record: S3EventRecord; receives: number; id: string }> = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  /** Records waiting out their visibility delay before redelivery. */
  private invisible = 0;
  private waiters: Array<() => void> = [];
  private sequence = 0;

  constructor(
    private readonly invoke: (event: SQSEvent) => Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }>,
    private readonly windowMs: number,
    private readonly batchSize: number,
    private readonly maxReceiveCount: number,
    private readonly redeliveryDelayMs: number,
    /** The event source's maximum concurrency: batches past it stay queued, their receive counts untouched. */
    private readonly maxConcurrency: number,
  ) {}

  send(record: S3EventRecord, receives = 0): void {
    this.pending.push({ record, receives, id: `msg-${++this.sequence}` });
    if (this.pending.length >= this.batchSize) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
  }

  isIdle(): boolean {
    return this.pending.length === 0 && this.inFlight === 0 && this.invisible === 0;
  }

  idle(): Promise<void> {
    return this.isIdle() ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length && this.inFlight < this.maxConcurrency) {
      const batch = this.pending.splice(0, this.batchSize);
      this.inFlight++;
      void this.deliver(batch).finally(() => {
        this.inFlight--;
        if (this.pending.length) this.flush();
        if (this.isIdle()) this.waiters.splice(0).forEach((w) => w());
      });
    }
  }

  private async deliver(batch: Array<{ record: S3EventRecord; receives: number; id: string }>): Promise<void> {
    const event: SQSEvent = { Records: batch.map((m) => sqsRecord(m.id, m.record, m.receives + 1)) };
    let failed: Set<string>;
    try {
      const response = await this.invoke(event);
      failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    } catch {
      failed = new Set(batch.map((m) => m.id)); // the whole invocation failed: every message comes back
    }
    for (const message of batch.filter((m) => failed.has(m.id))) {
      if (message.receives + 1 >= this.maxReceiveCount) this.deadLetters.push(message.record);
      else this.redeliverLater(message.record, message.receives + 1);
    }
  }

  private redeliverLater(record: S3EventRecord, receives: number): void {
    if (this.redeliveryDelayMs <= 0) return this.send(record, receives);
    this.invisible++;
    setTimeout(() => {
      this.invisible--;
      this.send(record, receives);
    }, this.redeliveryDelayMs);
  }
}

function sqsRecord(messageId: string, record: S3EventRecord, receiveCount: number): SQSRecord {
  return {
    messageId,
    receiptHandle: messageId,
    body: JSON.stringify({ Records: [record] }),
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(Date.now()),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:forklift-events`,
    awsRegion: REGION,
  };
}
