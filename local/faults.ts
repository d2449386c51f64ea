/**
 * Fault injection for the local stack, by option (`startLocalStack({ faults })`), never by
 * editing code. Call faults act on the SDK clients the stack hands out (the handlers' and the
 * state machine's), at the HTTP layer: the client receives the very response the service would
 * send (a 400 ThrottlingException, a 503 SlowDown, a 500), so the SDK's own retries, its error
 * classes and Step Functions' error names all behave as on AWS. Execution faults (stop an
 * execution as it enters a state) live in the Step Functions endpoint (`stopAtState`).
 */
import { random } from './sample';
import { TaskError } from './stepfunctions/errors';
import type { StopAtStateRule } from './stepfunctions/server';

/** The services whose clients carry call faults. */
export type FaultService = 'redshiftData' | 's3' | 'stepFunctions';

/**
 * - `throttle`: the service's throttling answer, nothing done (Data API and Step Functions:
 *   400 ThrottlingException; S3: 503 SlowDown).
 * - `error`: a 500 internal error, nothing done (InternalServerException / InternalFailure / InternalError).
 * - `acceptThen500`: the request is performed (a batch is accepted and runs), then answered with that 500.
 * - `reject`: a 400 error no SDK or Retry repeats (ValidationException; S3: InvalidRequest), nothing done:
 *   the calling step fails at once, which is how a test reaches one step's failure path.
 */
export type FaultKind = 'throttle' | 'error' | 'acceptThen500' | 'reject';

/** One call fault rule. */
export interface CallFault {
  service: FaultService;
  /** The API action (`BatchExecuteStatement`, `DescribeStatement`, `GetObject`, `StartExecution` ...); omitted = every action. */
  action?: string;
  kind: FaultKind;
  /** Fault this fraction (0..1) of the matching calls, drawn from the seeded generator. */
  fraction?: number;
  /** Fault these matching calls (1-based: `[1]` is the first `action` call). Neither fraction nor nth = every call. */
  nth?: number[];
  /** At most this many faults from this rule. */
  times?: number;
  /**
   * Data API only: whose calls: `stateMachine` (its aws-sdk Task states, which have their own
   * client as Step Functions is its own caller on AWS) or `functions` (the handlers); omitted = both.
   */
  caller?: FaultCaller;
}

/** Who makes a call: the state machine's SDK integrations or the Lambda handlers. */
export type FaultCaller = 'stateMachine' | 'functions';

/** Which invocations of a function a Lambda fault picks (counted per function, every invocation attempt). */
export interface LambdaInvocationRule {
  /** The function: `discover`, `prepare`, `report`, `record-failure`. */
  function: string;
  /** These invocations of the function (1-based); neither nth nor fraction = every invocation. */
  nth?: number[];
  /** This fraction (0..1) of its invocations, drawn from the seeded generator. */
  fraction?: number;
  /** At most this many faults from this rule. */
  times?: number;
}

/**
 * The Lambda runtime's process killed during an invocation (out of memory, a crash, SIGKILL). On
 * AWS the invocation then answers `FunctionError: Unhandled` with a `Runtime.ExitError` payload,
 * and Step Functions fails the Task with `Lambda.Unknown` (the Developer Guide's "Handle Lambda
 * service exceptions": unhandled errors, out-of-memory errors and timeouts); an SQS event source
 * returns the whole batch to the queue. An in-process handler cannot be killed half-way, so the
 * two ends of "mid-invocation" are offered: killed as it `start`s (nothing done), or at its
 * `end` (everything done, the answer lost).
 */
export interface LambdaExitFault extends LambdaInvocationRule {
  /** Default `end`. */
  at?: 'start' | 'end';
}

/**
 * Lambda refusing an invocation of a function (its concurrency or rate quota reached): nothing
 * runs, and a Task invoking it fails with `Lambda.TooManyRequestsException` (the Developer Guide's
 * "Handle Lambda service exceptions": "When Lambda hits the maximum number of invocations, the
 * error is Lambda.TooManyRequestsException"), which a Task's Retry may repeat.
 */
export type LambdaThrottleFault = LambdaInvocationRule;

/** Every fault option of the local stack. */
export interface LocalFaults {
  /** Throttle or fail calls per service and action. */
  calls?: CallFault[];
  /** Kill the Lambda runtime's process during invocations of a function. */
  lambdaExits?: LambdaExitFault[];
  /** Throttle invocations of a function (nothing runs). */
  lambdaThrottles?: LambdaThrottleFault[];
  /** Stop (abort) executions as they enter a named state. */
  stopAtState?: StopAtStateRule[];
  /** Seed of the `fraction` draws (default 1): the same seed, the same faulted calls. */
  seed?: number;
}

/** One fault that was injected. */
export interface InjectedFault {
  service: FaultService | 'lambda';
  caller: FaultCaller;
  /** The API action, or the function whose runtime exited. */
  action: string;
  kind: FaultKind | 'exit';
  /** 1-based number of the call among the calls of that service, caller and action. */
  call: number;
}

/** Anything with a middleware stack (an AWS SDK v3 client). */
interface MiddlewareClient {
  middlewareStack: { add(middleware: unknown, options: Record<string, unknown>): void };
}

interface RawResponse {
  statusCode: number;
  reason?: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** Applies call faults to clients and records what it injected. */
export class FaultInjector {
  /** Faults injected so far, in order. */
  readonly injected: InjectedFault[] = [];
  private readonly rules: Array<CallFault & { left: number }>;
  private readonly exits: Array<LambdaExitFault & { left: number }>;
  private readonly throttles: Array<LambdaThrottleFault & { left: number }>;
  private readonly counts = new Map<string, number>();
  private readonly random: () => number;

  constructor(faults: LocalFaults = {}) {
    this.rules = (faults.calls ?? []).map((rule) => {
      if (rule.fraction !== undefined && !(rule.fraction >= 0 && rule.fraction <= 1)) {
        throw new Error(`fault ${rule.service}${rule.action ? `:${rule.action}` : ''}: fraction must be within 0..1, got ${rule.fraction}`);
      }
      return { ...rule, left: rule.times ?? Number.POSITIVE_INFINITY };
    });
    const lambdaRules = <R extends LambdaInvocationRule>(rules: R[] | undefined, what: string): Array<R & { left: number }> =>
      (rules ?? []).map((rule) => {
        if (rule.fraction !== undefined && !(rule.fraction >= 0 && rule.fraction <= 1)) {
          throw new Error(`lambda ${what} fault ${rule.function}: fraction must be within 0..1, got ${rule.fraction}`);
        }
        return { ...rule, left: rule.times ?? Number.POSITIVE_INFINITY };
      });
    this.exits = lambdaRules(faults.lambdaExits, 'exit');
    this.throttles = lambdaRules(faults.lambdaThrottles, 'throttle');
    this.random = random(faults.seed ?? 1);
  }

  /**
   * The handler of function `name` as its invocations reach it through the fault rules: an
   * invocation a `lambdaThrottles` rule picks is refused ({@link lambdaThrottleError}), the handler
   * never runs; one a `lambdaExits` rule picks fails as a killed runtime does ({@link runtimeExitError}),
   * before the handler runs (`start`) or after it finished (`end`).
   */
  wrapLambda<E, C, R>(name: string, handler: (event: E, context: C) => Promise<R>): (event: E, context: C) => Promise<R> {
    if (![...this.exits, ...this.throttles].some((r) => r.function === name)) return handler;
    return async (event, context) => {
      const key = `lambda:functions:${name}`;
      const call = (this.counts.get(key) ?? 0) + 1;
      this.counts.set(key, call);
      const picks = (r: LambdaInvocationRule & { left: number }): boolean =>
        r.function === name && r.left > 0 && (r.nth !== undefined ? r.nth.includes(call) : r.fraction !== undefined ? this.random() < r.fraction : true);
      const throttle = this.throttles.find(picks);
      if (throttle) {
        throttle.left -= 1;
        this.injected.push({ service: 'lambda', caller: 'functions', action: name, kind: 'throttle', call });
        throw lambdaThrottleError();
      }
      const rule = this.exits.find(picks);
      if (!rule) return handler(event, context);
      rule.left -= 1;
      this.injected.push({ service: 'lambda', caller: 'functions', action: name, kind: 'exit', call });
      const requestId = (context as { awsRequestId?: string } | undefined)?.awsRequestId ?? `local-${call}`;
      if ((rule.at ?? 'end') === 'end') await handler(event, context);
      throw runtimeExitError(requestId);
    };
  }

  /** Calls seen so far by `service:caller:action` (counted only on clients carrying rules of their service). */
  callCounts(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /** Adds the fault middleware to a client of `service` used by `caller` (no-op without rules for it). */
  attach(client: MiddlewareClient, service: FaultService, caller: FaultCaller = 'functions'): void {
    if (!this.rules.some((r) => r.service === service)) return;
    const middleware = (next: (args: unknown) => Promise<{ response: unknown }>, context: { commandName?: string }) =>
      async (args: unknown): Promise<{ response: unknown }> => {
        const action = (context.commandName ?? '').replace(/Command$/, '');
        const key = `${service}:${caller}:${action}`;
        const call = (this.counts.get(key) ?? 0) + 1;
        this.counts.set(key, call);
        const rule = this.pick(service, caller, action, call);
        if (!rule) return next(args);
        rule.left -= 1;
        this.injected.push({ service, caller, action, kind: rule.kind, call });
        if (rule.kind === 'acceptThen500') {
          const out = await next(args);
          return { ...out, response: errorResponse(service, 'error') };
        }
        return { response: errorResponse(service, rule.kind) };
      };
    // Inside the deserializer (priority low within the deserialize step): it parses our response
    // exactly as one from the wire, and the retry middleware above sees a real service error.
    client.middlewareStack.add(middleware, { step: 'deserialize', priority: 'low', name: `forkliftFaults-${service}` });
  }

  private pick(service: FaultService, caller: FaultCaller, action: string, call: number): (CallFault & { left: number }) | undefined {
    for (const rule of this.rules) {
      if (rule.service !== service || (rule.action !== undefined && rule.action !== action) || rule.left <= 0) continue;
      if (rule.caller !== undefined && rule.caller !== caller) continue;
      if (rule.nth !== undefined) {
        if (rule.nth.includes(call)) return rule;
        continue;
      }
      if (rule.fraction !== undefined) {
        if (this.random() < rule.fraction) return rule;
        continue;
      }
      return rule;
    }
    return undefined;
  }
}

/**
 * What a task sees when the function's runtime exits mid-invocation: Step Functions' `Lambda.Unknown`
 * (a TaskError the local runner passes on as is) whose cause carries Lambda's `Runtime.ExitError` payload.
 */
export function runtimeExitError(requestId: string): TaskError {
  const payload = { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: signal: killed` };
  return new TaskError('Lambda.Unknown', `The cause could not be determined because Lambda did not return an error type. Returned payload: ${JSON.stringify(payload)}`);
}

/** What a task sees when Lambda refuses the invocation for its concurrency or rate quota: `Lambda.TooManyRequestsException`. */
export function lambdaThrottleError(): TaskError {
  return new TaskError(
    'Lambda.TooManyRequestsException',
    'Rate Exceeded. (Service: AWSLambda; Status Code: 429; Error Code: TooManyRequestsException; Request ID: forklift-fault; Proxy: null)',
  );
}

/** The HTTP answer a service gives for a throttle, an internal error or a rejected request. */
function errorResponse(service: FaultService, kind: 'throttle' | 'error' | 'reject'): RawResponse {
  if (service === 's3') {
    const [status, code, message] = kind === 'throttle'
      ? [503, 'SlowDown', 'Please reduce your request rate.']
      : kind === 'reject'
        ? [400, 'InvalidRequest', 'The request was rejected (injected fault).']
        : [500, 'InternalError', 'We encountered an internal error. Please try again.'];
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>forklift-fault</RequestId></Error>`;
    return { statusCode: status, headers: { 'content-type': 'application/xml', 'x-amz-request-id': 'forklift-fault' }, body: Buffer.from(body) };
  }
  const json = service === 'redshiftData' ? 'application/x-amz-json-1.1' : 'application/x-amz-json-1.0';
  const type = kind === 'throttle' ? 'ThrottlingException'
    : kind === 'reject' ? 'ValidationException'
      : service === 'redshiftData' ? 'InternalServerException' : 'InternalFailure';
  const status = kind === 'error' ? 500 : 400;
  const message = kind === 'throttle' ? 'Rate exceeded' : kind === 'reject' ? 'The request was rejected (injected fault)' : 'An internal error occurred (injected fault)';
  return {
    statusCode: status,
    headers: { 'content-type': json, 'x-amzn-errortype': type, 'x-amzn-requestid': 'forklift-fault' },
    body: Buffer.from(JSON.stringify({ __type: type, message })),
  };
}
