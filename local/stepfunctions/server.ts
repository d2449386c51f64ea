/**
 * A local Step Functions endpoint: speaks the service's JSON protocol (awsJson1_0) on 127.0.0.1
 * so the real `@aws-sdk/client-sfn` works with only `endpoint` set, and runs executions with
 * aws-local-stepfunctions. Task resources are dispatched by ARN (see tasks.ts).
 */
import '../polyfills'; // must precede aws-local-stepfunctions (Promise.withResolvers on Node 20)
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError, StateMachine } from 'aws-local-stepfunctions';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { DataLimitExceededError, PAYLOAD_LIMIT_BYTES, SfnServiceError, TaskError, payloadBytes } from './errors';
import { ExecutionHistory, type ExecutionStats, type LibraryEvent } from './history';
import { LOCAL_ACCOUNT, executionArn as makeExecutionArn, nameProblem, stateMachineArn as makeStateMachineArn } from './names';
import {
  invokeResource,
  parseResource,
  taskStates,
  walkStates,
  type Json,
  type LambdaFunction,
  type LambdaHandler,
  type ParsedResource,
  type SdkClient,
} from './tasks';

export type { LambdaContext, LambdaFunction, LambdaHandler, SdkClient } from './tasks';
export type { ExecutionStats, TaskCall } from './history';

/** Options of {@link startStepFunctionsServer}. */
export interface StepFunctionsServerOptions {
  /** Port on 127.0.0.1; 0 or omitted lets the OS pick. */
  port?: number;
  /** In-process Lambda handlers (or handlers with their timeout) by function name or ARN. */
  lambdas?: Record<string, LambdaHandler | LambdaFunction>;
  /** SDK clients for `arn:aws:states:::aws-sdk:<service>:<action>` tasks, by service key. */
  sdkClients?: { redshiftdata?: SdkClient };
  /** Scales Wait states with `Seconds` (0 = no waiting, 0.01 = 1%); omitted = real durations. */
  waitScale?: number;
  /** Scales Retry intervals the same way (backoff is then ignored); omitted = real intervals. */
  retryScale?: number;
  /**
   * Fault injection: stop (abort) an execution as it enters the named state, as StopExecution
   * would. `times` (default 1) counts per rule across executions; `error`/`cause` go to the
   * ExecutionAborted event.
   */
  stopAtState?: StopAtStateRule[];
}

/** One `stopAtState` rule. */
export interface StopAtStateRule {
  state: string;
  /** How many executions this rule stops (default 1). */
  times?: number;
  error?: string;
  cause?: string;
}

/** A state machine to register in code. */
export interface StateMachineRegistration {
  name: string;
  /** The ASL definition as an object, after substitutions. */
  definition: object;
  roleArn?: string;
}

/** The running endpoint. */
export interface LocalStepFunctionsServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Registers (or replaces) a state machine; returns its ARN. */
  registerStateMachine(registration: StateMachineRegistration): string;
  /** Registers an in-process Lambda handler by function name or ARN; a `timeoutSeconds` is enforced as Lambda does. */
  registerLambda(nameOrArn: string, handler: LambdaHandler, options?: { timeoutSeconds?: number }): void;
  /** Sets the SDK client used for `arn:aws:states:::aws-sdk:<service>:*` tasks. */
  setSdkClient(service: 'redshiftdata', client: SdkClient): void;
  /** The execution's history in the GetExecutionHistory shape. */
  executionEvents(executionArn: string): HistoryEvent[];
  /** State transitions and Task calls (Data API submissions) of one execution. */
  executionStats(executionArn: string): ExecutionStats;
  /** Resolves when the execution has ended (history complete). */
  waitForExecution(executionArn: string): Promise<void>;
  /** Aborts running executions and closes the port. */
  stop(): Promise<void>;
}

type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

interface RegisteredStateMachine {
  name: string;
  arn: string;
  roleArn: string;
  definitionText: string;
  machine: StateMachine;
  tasks: Map<string, ParsedResource>;
  waitOverrides: Record<string, number>;
  retryOverrides: Record<string, number[]>;
  creationDate: Date;
  executions: Map<string, ExecutionRecord>;
}

interface ExecutionRecord {
  arn: string;
  name: string;
  machine: RegisteredStateMachine;
  input: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  history: ExecutionHistory;
  abort: () => void;
  done: Promise<void>;
}

const DEFAULT_ROLE = `arn:aws:iam::${LOCAL_ACCOUNT}:role/forklift-local-states`;

/** Starts the endpoint on 127.0.0.1. */
export async function startStepFunctionsServer(options: StepFunctionsServerOptions = {}): Promise<LocalStepFunctionsServer> {
  const lambdas = new Map<string, LambdaFunction>(
    Object.entries(options.lambdas ?? {}).map(([name, fn]) => [name, typeof fn === 'function' ? { handler: fn } : fn]),
  );
  const stopRules = (options.stopAtState ?? []).map((rule) => ({ ...rule, left: rule.times ?? 1 }));
  const sdkClients = new Map<string, SdkClient>(Object.entries(options.sdkClients ?? {}).filter((e): e is [string, SdkClient] => e[1] !== undefined));
  const machines = new Map<string, RegisteredStateMachine>();
  const executions = new Map<string, ExecutionRecord>();

  const register = (registration: StateMachineRegistration): RegisteredStateMachine => {
    const problem = nameProblem(registration.name);
    if (problem) throw new SfnServiceError('InvalidName', `Invalid State Machine Name: '${registration.name}' ${problem}`);
    let machine: StateMachine;
    let tasks: Map<string, string>;
    try {
      machine = new StateMachine(withTaskTimeouts(registration.definition) as StateMachineDefinition);
      tasks = taskStates(registration.definition);
    } catch (error) {
      throw new SfnServiceError('InvalidDefinition', error instanceof Error ? error.message : String(error));
    }
    const arn = makeStateMachineArn(registration.name);
    const registered: RegisteredStateMachine = {
      name: registration.name,
      arn,
      roleArn: registration.roleArn ?? DEFAULT_ROLE,
      definitionText: JSON.stringify(registration.definition),
      machine,
      tasks: new Map([...tasks].map(([name, resource]) => [name, parseResource(resource)])),
      waitOverrides: waitOverrides(registration.definition, options.waitScale),
      retryOverrides: retryOverrides(registration.definition, options.retryScale),
      creationDate: new Date(),
      executions: machines.get(arn)?.executions ?? new Map(),
    };
    machines.set(arn, registered);
    return registered;
  };

  const getMachine = (arn: unknown): RegisteredStateMachine => {
    const found = typeof arn === 'string' ? machines.get(arn) : undefined;
    if (!found) throw new SfnServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${String(arn)}'`);
    return found;
  };

  const getExecution = (arn: unknown): ExecutionRecord => {
    const found = typeof arn === 'string' ? executions.get(arn) : undefined;
    if (!found) throw new SfnServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(arn)}'`);
    return found;
  };

  const startExecution = (machine: RegisteredStateMachine, name: string, input: string): ExecutionRecord => {
    const existing = machine.executions.get(name);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === input) return existing;
      throw new SfnServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${existing.arn}'`);
    }
    let parsedInput: Json;
    try {
      parsedInput = JSON.parse(input) as Json;
    } catch {
      throw new SfnServiceError('InvalidExecutionInput', 'Invalid State Machine Execution Input: the input is not valid JSON');
    }
    const arn = makeExecutionArn(machine.name, name);
    const history = new ExecutionHistory(machine.roleArn);
    const record: ExecutionRecord = {
      arn, name, machine, input, status: 'RUNNING', startDate: new Date(), history, abort: () => undefined, done: Promise.resolve(),
    };

    // Settles every Task of this execution once it is stopped: the library arms a timer of the
    // Task's TimeoutSeconds (86,400 s here) that only a settled Task clears, and a pending one
    // kept the process (and an in-band Jest run) alive for a day.
    const stopped = new AbortController();
    const untilStopped = new Promise<never>((_resolve, reject) => {
      stopped.signal.addEventListener('abort', () => reject(new TaskError('States.Runtime', 'the execution was stopped')), { once: true });
    });
    untilStopped.catch(() => undefined);

    const handlers: Record<string, (input: Json) => Promise<Json>> = {};
    for (const [stateName, parsed] of machine.tasks) {
      handlers[stateName] = async (taskInput) => {
        // Let the library's StateEntered event reach the history before this Task's events.
        await new Promise<void>((resolve) => setImmediate(resolve));
        // Stopped meanwhile (StopExecution, a stopAtState fault): the Task never starts, and the
        // library, whose run is aborted, records nothing more of it.
        if (record.status !== 'RUNNING') throw new TaskError('States.Runtime', 'the execution was stopped');
        const call = history.taskStarted(stateName, parsed, taskInput);
        try {
          if (payloadBytes(taskInput) > PAYLOAD_LIMIT_BYTES) {
            throw new DataLimitExceededError(`The state/task '${stateName}' has an input with a size exceeding the maximum number of bytes service limit.`);
          }
          const output = await Promise.race([invokeResource(parsed, taskInput, { lambdas, sdkClients }), untilStopped]);
          if (payloadBytes(output) > PAYLOAD_LIMIT_BYTES) {
            throw new DataLimitExceededError(`The state/task '${stateName}' returned a result with a size exceeding the maximum number of bytes service limit.`);
          }
          history.taskSucceeded(call, parsed, output);
          return output;
        } catch (error) {
          const failure = error instanceof TaskError ? error : new TaskError('States.TaskFailed', error instanceof Error ? error.message : String(error));
          history.taskFailed(call, parsed, failure.name, failure.message);
          throw failure;
        }
      };
    }

    const run = machine.machine.run(parsedInput, {
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        waitTimeOverrides: machine.waitOverrides,
        retryIntervalOverrides: machine.retryOverrides,
      },
      context: {
        Execution: { Id: arn, Name: name, RoleArn: machine.roleArn, StartTime: record.startDate.toISOString() },
        StateMachine: { Id: machine.arn, Name: machine.name },
      },
    });
    record.abort = () => {
      stopped.abort();
      run.abort();
    };
    const consumed = (async () => {
      for await (const raw of run.eventLogs) {
        const event = raw as unknown as LibraryEvent;
        history.fromLibrary(event);
        if (record.status !== 'RUNNING' || !event.state) continue;
        if (event.type === 'StateEntered') {
          const rule = stopRules.find((r) => r.state === event.state?.name && r.left > 0);
          if (rule) {
            rule.left -= 1;
            stopExecution(record, rule.error ?? 'Forklift.FaultInjected', rule.cause ?? `stopped on entering ${rule.state} (stopAtState fault)`);
          }
        } else if (event.type === 'StateExited' && payloadBytes(event.state.output) > PAYLOAD_LIMIT_BYTES) {
          // A state's output (after ResultPath/OutputPath) past the quota fails the execution: uncatchable.
          failExecution(
            record,
            'States.DataLimitExceeded',
            `The state/task '${event.state.name}' returned a result with a size exceeding the maximum number of bytes service limit.`,
          );
        }
      }
    })();
    record.done = run.result.then(
      (output) => ({ ok: true as const, output }),
      (error: unknown) => ({ ok: false as const, error }),
    ).then(async (outcome) => {
      await Promise.race([consumed, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
      if (record.status !== 'RUNNING') return; // stopped meanwhile
      record.stopDate = new Date();
      if (outcome.ok) {
        record.status = 'SUCCEEDED';
        record.output = JSON.stringify(outcome.output ?? null);
      } else if (outcome.error instanceof ExecutionTimeoutError) {
        record.status = 'TIMED_OUT';
        record.error = 'States.Timeout';
      } else if (outcome.error instanceof ExecutionAbortedError) {
        record.status = 'ABORTED';
      } else {
        record.status = 'FAILED';
        const failure = outcome.error instanceof ExecutionError ? outcome.error.cause : outcome.error;
        if (failure instanceof Error) {
          record.error = failure.name;
          const cause = (failure as { cause?: unknown }).cause ?? failure.message;
          record.cause = typeof cause === 'string' ? cause : JSON.stringify(cause);
        } else {
          record.error = 'States.Runtime';
          record.cause = String(failure);
        }
      }
      history.close();
    });

    machine.executions.set(name, record);
    executions.set(arn, record);
    return record;
  };

  const operations: Record<string, (input: Record<string, unknown>) => unknown> = {
    CreateStateMachine: (input) => {
      const name = String(input.name ?? '');
      let definition: object;
      try {
        definition = JSON.parse(String(input.definition ?? '')) as object;
      } catch {
        throw new SfnServiceError('InvalidDefinition', 'Invalid State Machine Definition: not valid JSON');
      }
      const existing = machines.get(makeStateMachineArn(name));
      if (existing) {
        if (existing.definitionText !== JSON.stringify(definition)) {
          throw new SfnServiceError('StateMachineAlreadyExists', `State Machine Already Exists: '${existing.arn}'`);
        }
        return { stateMachineArn: existing.arn, creationDate: existing.creationDate };
      }
      const registration: StateMachineRegistration = { name, definition };
      if (typeof input.roleArn === 'string') registration.roleArn = input.roleArn;
      const created = register(registration);
      return { stateMachineArn: created.arn, creationDate: created.creationDate };
    },
    DescribeStateMachine: (input) => {
      const m = getMachine(input.stateMachineArn);
      return {
        stateMachineArn: m.arn, name: m.name, status: 'ACTIVE', definition: m.definitionText,
        roleArn: m.roleArn, type: 'STANDARD', creationDate: m.creationDate,
      };
    },
    ListStateMachines: (input) => {
      const all = [...machines.values()].map((m) => ({ stateMachineArn: m.arn, name: m.name, type: 'STANDARD', creationDate: m.creationDate }));
      return paginate(all, input, 'stateMachines');
    },
    StartExecution: (input) => {
      const machine = getMachine(input.stateMachineArn);
      const name = input.name === undefined ? randomUUID() : String(input.name);
      const problem = nameProblem(name);
      if (problem) throw new SfnServiceError('InvalidName', `Invalid Execution Name: '${name}' ${problem}`);
      const record = startExecution(machine, name, input.input === undefined ? '{}' : String(input.input));
      return { executionArn: record.arn, startDate: record.startDate };
    },
    DescribeExecution: (input) => describe(getExecution(input.executionArn)),
    ListExecutions: (input) => {
      const machine = getMachine(input.stateMachineArn);
      const filter = input.statusFilter;
      const listed = [...machine.executions.values()]
        .filter((e) => filter === undefined || e.status === filter)
        .reverse()
        .map((e) => {
          const summary: Record<string, unknown> = {
            executionArn: e.arn, stateMachineArn: machine.arn, name: e.name, status: e.status, startDate: e.startDate,
          };
          if (e.stopDate) summary.stopDate = e.stopDate;
          return summary;
        });
      return paginate(listed, input, 'executions');
    },
    StopExecution: (input) => {
      const record = getExecution(input.executionArn);
      stopExecution(record, typeof input.error === 'string' ? input.error : undefined, typeof input.cause === 'string' ? input.cause : undefined);
      return { stopDate: record.stopDate ?? new Date() };
    },
    GetExecutionHistory: (input) => {
      const record = getExecution(input.executionArn);
      const events = record.history.list();
      if (input.reverseOrder === true) events.reverse();
      return paginate(events, input, 'events');
    },
  };

  const server = createServer((req, res) => {
    void handle(req, res, operations);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    registerStateMachine: (registration) => register(registration).arn,
    registerLambda: (nameOrArn, handler, registration) => {
      lambdas.set(nameOrArn, registration?.timeoutSeconds === undefined ? { handler } : { handler, timeoutSeconds: registration.timeoutSeconds });
    },
    setSdkClient: (service, client) => {
      sdkClients.set(service, client);
    },
    executionEvents: (arn) => getExecution(arn).history.list(),
    executionStats: (arn) => getExecution(arn).history.stats(),
    waitForExecution: (arn) => getExecution(arn).done,
    stop: async () => {
      for (const record of executions.values()) {
        if (record.status === 'RUNNING') operations.StopExecution?.({ executionArn: record.arn, error: 'States.Runtime', cause: 'local endpoint stopped' });
      }
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/** StopExecution: the execution ends ABORTED with an ExecutionAborted event. */
function stopExecution(record: ExecutionRecord, error: string | undefined, cause: string | undefined): void {
  if (record.status !== 'RUNNING') return;
  record.status = 'ABORTED';
  record.stopDate = new Date();
  if (error !== undefined) record.error = error;
  if (cause !== undefined) record.cause = cause;
  record.history.aborted(record.error, record.cause);
  record.history.close();
  record.abort();
}

/** An execution failed by the runner itself (a quota the library does not enforce). */
function failExecution(record: ExecutionRecord, error: string, cause: string): void {
  if (record.status !== 'RUNNING') return;
  record.status = 'FAILED';
  record.stopDate = new Date();
  record.error = error;
  record.cause = cause;
  record.history.fromLibrary({ type: 'ExecutionFailed', timestamp: Date.now(), Error: error, Cause: cause });
  record.history.close();
  record.abort();
}

function describe(record: ExecutionRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    executionArn: record.arn,
    stateMachineArn: record.machine.arn,
    name: record.name,
    status: record.status,
    startDate: record.startDate,
    input: record.input,
    inputDetails: { included: true },
  };
  if (record.stopDate) out.stopDate = record.stopDate;
  if (record.output !== undefined) {
    out.output = record.output;
    out.outputDetails = { included: true };
  }
  if (record.error !== undefined) out.error = record.error;
  if (record.cause !== undefined) out.cause = record.cause;
  return out;
}

/** Pages a list like the service: `maxResults` (default 100, max 1000) and an opaque `nextToken`. */
function paginate<T>(items: T[], input: Record<string, unknown>, key: string): Record<string, unknown> {
  const max = typeof input.maxResults === 'number' && input.maxResults > 0 ? Math.min(input.maxResults, 1000) : 100;
  let start = 0;
  if (typeof input.nextToken === 'string') {
    start = Number(Buffer.from(input.nextToken, 'base64').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) throw new SfnServiceError('InvalidToken', 'Invalid Token');
  }
  const page = items.slice(start, start + max);
  const out: Record<string, unknown> = { [key]: page };
  if (start + max < items.length) out.nextToken = Buffer.from(String(start + max), 'utf8').toString('base64');
  return out;
}

/**
 * Wait overrides keyed by state name (the library's only key). `Seconds` is scaled up front.
 * `SecondsPath`/`Timestamp(Path)` durations are only known inside the library, which reads the
 * override and then, synchronously, evaluates the path and arms its timer: the getter below
 * arms a one-shot scaling of that very next `setTimeout` (disarmed at the next microtask).
 */
function waitOverrides(definition: object, scale: number | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (scale === undefined) return out;
  for (const { name, state } of walkStates(definition)) {
    if (state.Type !== 'Wait') continue;
    if (scale === 0) out[name] = 0;
    else if (typeof state.Seconds === 'number') out[name] = Math.round(state.Seconds * 1000 * scale);
    else {
      Object.defineProperty(out, name, {
        enumerable: true,
        get: () => {
          scaleNextTimer(scale);
          return undefined;
        },
      });
    }
  }
  return out;
}

function scaleNextTimer(scale: number): void {
  const original = globalThis.setTimeout;
  const restore = (): void => {
    globalThis.setTimeout = original;
  };
  const scaled = ((handler: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    restore();
    return original(handler, Math.max(0, Math.round((ms ?? 0) * scale)), ...args);
  }) as typeof setTimeout;
  globalThis.setTimeout = scaled;
  queueMicrotask(() => {
    if (globalThis.setTimeout === scaled) restore();
  });
}

/**
 * The library times Tasks out after 60 s when `TimeoutSeconds` is absent; AWS has no such default.
 * The runner's copy gets one day instead (timers cannot hold AWS's 99999999 s).
 */
function withTaskTimeouts(definition: object): object {
  const copy = JSON.parse(JSON.stringify(definition)) as object;
  for (const { state } of walkStates(copy)) {
    if (state.Type === 'Task' && state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
      state.TimeoutSeconds = 86400;
    }
  }
  return copy;
}

/** Retry pauses scaled per retrier from `IntervalSeconds` (default 1). */
function retryOverrides(definition: object, scale: number | undefined): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  if (scale === undefined) return out;
  for (const { name, state } of walkStates(definition)) {
    if (!Array.isArray(state.Retry)) continue;
    out[name] = state.Retry.map((r: { IntervalSeconds?: number }) => Math.round((r.IntervalSeconds ?? 1) * 1000 * scale));
  }
  return out;
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  operations: Record<string, (input: Record<string, unknown>) => unknown>,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const target = String(req.headers['x-amz-target'] ?? '');
  const op = target.startsWith('AWSStepFunctions.') ? target.slice('AWSStepFunctions.'.length) : '';
  try {
    const operation = operations[op];
    if (req.method !== 'POST' || !operation) throw new SfnServiceError('UnknownOperationException', `unsupported operation '${target}'`);
    const body = Buffer.concat(chunks).toString('utf8');
    let input: Record<string, unknown>;
    try {
      input = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    } catch {
      throw new SfnServiceError('SerializationException', 'request body is not valid JSON');
    }
    send(res, 200, toWire(operation(input)));
  } catch (error) {
    const failure = error instanceof SfnServiceError ? error : new SfnServiceError('InternalFailure', error instanceof Error ? error.message : String(error), 500);
    send(res, failure.statusCode, { __type: failure.type, message: failure.message }, failure.type);
  }
}

function send(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  };
  if (errorType) headers['x-amzn-errortype'] = errorType;
  res.writeHead(status, headers);
  res.end(text);
}

/** awsJson timestamps are epoch seconds with fractional milliseconds. */
function toWire(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, toWire(v)]));
  }
  return value;
}
