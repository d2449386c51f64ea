/**
 * Task resources mapped generically by their ARN, never by state name:
 * `arn:aws:states:::aws-sdk:<service>:<action>` calls the real AWS SDK v3 client of that service,
 * Lambda ARNs and `arn:aws:states:::lambda:invoke` call in-process handlers.
 */
import { randomUUID } from 'node:crypto';
import * as RedshiftDataSdk from '@aws-sdk/client-redshift-data';
import { TaskError } from './errors';
import { LOCAL_REGION } from './names';

/** The part of the Lambda context the local runner hands a handler. */
export interface LambdaContext {
  functionName: string;
  awsRequestId: string;
  /** Milliseconds left before the function's configured timeout (a large number when it has none). */
  getRemainingTimeInMillis(): number;
}

/** An in-process Lambda handler: receives the event (and a context), returns the payload (or throws). */
export type LambdaHandler = (event: unknown, context: LambdaContext) => Promise<unknown>;

/** A registered function: its handler and, as configured on AWS, its timeout. */
export interface LambdaFunction {
  handler: LambdaHandler;
  /** Enforced like Lambda: past it the invocation fails with `Lambda.Unknown` (omitted = no limit). */
  timeoutSeconds?: number;
}

/** A JSON value as tasks exchange them. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** What a Task resource is, and how Step Functions names it in history events. */
export type ParsedResource =
  | { kind: 'sdk'; service: string; action: string; resourceType: string; resource: string }
  | { kind: 'lambdaArn'; functionName: string; resourceType: 'lambda'; resource: string }
  | { kind: 'lambdaInvoke'; resourceType: 'lambda'; resource: 'invoke' }
  | { kind: 'unknown'; resourceType: string; resource: string };

/** An SDK v3 client: anything with `send(command)`. */
export interface SdkClient {
  send(command: unknown): Promise<unknown>;
}

/** An SDK service reachable through `arn:aws:states:::aws-sdk:<key>:<action>`. */
interface SdkService {
  /** Prefix of error names, as AWS names SDK integration errors (`RedshiftData.ValidationException`). */
  errorPrefix: string;
  /** The SDK package's exports, where `<Action>Command` classes are looked up. */
  commands: Record<string, unknown>;
}

const SDK_SERVICES: Record<string, SdkService> = {
  redshiftdata: { errorPrefix: 'RedshiftData', commands: RedshiftDataSdk as unknown as Record<string, unknown> },
};

/** The SDK services the runner can dispatch to (keys of `arn:aws:states:::aws-sdk:<key>:...`). */
export const SUPPORTED_SDK_SERVICES = Object.keys(SDK_SERVICES);

const SDK_ARN = /^arn:aws:states:::aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)$/;
const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:([A-Za-z0-9_-]+)(?::[A-Za-z0-9$_-]+)?$/;

/** Classifies a Task `Resource`. */
export function parseResource(resource: string): ParsedResource {
  const sdk = SDK_ARN.exec(resource);
  if (sdk) {
    const [, service = '', action = ''] = sdk;
    return { kind: 'sdk', service, action, resourceType: `aws-sdk:${service}`, resource: action };
  }
  const lambda = LAMBDA_ARN.exec(resource);
  if (lambda) return { kind: 'lambdaArn', functionName: lambda[1] ?? '', resourceType: 'lambda', resource };
  if (resource === 'arn:aws:states:::lambda:invoke') return { kind: 'lambdaInvoke', resourceType: 'lambda', resource: 'invoke' };
  return { kind: 'unknown', resourceType: 'unknown', resource };
}

/** One Task state found in a definition. */
export interface TaskStateRef {
  name: string;
  resource: string;
}

/** One Wait or retrying state found in a definition (their local overrides are keyed by name). */
export interface StateRef {
  name: string;
  state: Record<string, unknown>;
}

/** Every state of a definition, including those inside Map iterators and Parallel branches. */
export function walkStates(definition: unknown): StateRef[] {
  const found: StateRef[] = [];
  const visit = (machine: unknown): void => {
    if (!isObject(machine) || !isObject(machine.States)) return;
    for (const [name, state] of Object.entries(machine.States)) {
      if (!isObject(state)) continue;
      found.push({ name, state });
      if (state.Type === 'Map') visit(state.ItemProcessor ?? state.Iterator);
      if (state.Type === 'Parallel' && Array.isArray(state.Branches)) state.Branches.forEach(visit);
    }
  };
  visit(definition);
  return found;
}

/**
 * The Task states of a definition by name. aws-local-stepfunctions keys its local handlers by
 * state name across nested machines, so one name bound to two different resources is refused.
 */
export function taskStates(definition: unknown): Map<string, string> {
  const byName = new Map<string, string>();
  for (const { name, state } of walkStates(definition)) {
    if (state.Type !== 'Task') continue;
    const resource = typeof state.Resource === 'string' ? state.Resource : '';
    const seen = byName.get(name);
    if (seen !== undefined && seen !== resource) {
      throw new Error(`Task state name '${name}' is used with two resources (${seen}, ${resource}); the local runner needs unique names`);
    }
    byName.set(name, resource);
  }
  return byName;
}

/** What a task invocation needs from its surroundings. */
export interface TaskDependencies {
  lambdas: ReadonlyMap<string, LambdaFunction>;
  sdkClients: ReadonlyMap<string, SdkClient>;
}

/** Runs one Task resource with its effective parameters and returns its result. */
export async function invokeResource(parsed: ParsedResource, input: Json, deps: TaskDependencies): Promise<Json> {
  switch (parsed.kind) {
    case 'sdk':
      return invokeSdk(parsed.service, parsed.action, input, deps);
    case 'lambdaArn':
      return invokeLambda(parsed.resource, input, deps);
    case 'lambdaInvoke': {
      const params = isObject(input) ? input : {};
      const fn = params.FunctionName;
      if (typeof fn !== 'string') {
        throw new TaskError('States.Runtime', 'lambda:invoke needs a string FunctionName parameter');
      }
      const payload = await invokeLambda(fn, (params.Payload as Json | undefined) ?? {}, deps);
      return { ExecutedVersion: '$LATEST', Payload: payload, StatusCode: 200 };
    }
    case 'unknown':
      throw new TaskError(
        'States.Runtime',
        `no local handler for Task resource '${parsed.resource}' (supported: arn:aws:states:::aws-sdk:{${SUPPORTED_SDK_SERVICES.join(',')}}:<action>, Lambda function ARNs, arn:aws:states:::lambda:invoke)`,
      );
  }
}

/** Finds a registered handler by the exact key, or by the function name inside an ARN. */
export function findLambda(lambdas: ReadonlyMap<string, LambdaFunction>, nameOrArn: string): LambdaFunction | undefined {
  const exact = lambdas.get(nameOrArn);
  if (exact) return exact;
  const name = functionName(nameOrArn);
  for (const [key, handler] of lambdas) {
    if (functionName(key) === name) return handler;
  }
  return undefined;
}

function functionName(nameOrArn: string): string {
  const match = LAMBDA_ARN.exec(nameOrArn);
  return match ? (match[1] ?? nameOrArn) : nameOrArn.split(':')[0] ?? nameOrArn;
}

async function invokeLambda(nameOrArn: string, event: Json, deps: TaskDependencies): Promise<Json> {
  const fn = findLambda(deps.lambdas, nameOrArn);
  if (!fn) {
    throw new TaskError(
      'Lambda.ResourceNotFoundException',
      `Function not found: ${nameOrArn} (register it with registerLambda or the lambdas option)`,
    );
  }
  let result: unknown;
  try {
    // The JSON round trip is the Lambda boundary: handlers never share objects with the runner.
    result = await invokeWithTimeout(fn, functionName(nameOrArn), roundTrip(event));
  } catch (error) {
    if (error instanceof TaskError) throw error;
    const errorType = error instanceof Error ? error.name : 'Error';
    const errorMessage = error instanceof Error ? error.message : String(error);
    throw new TaskError(errorType, JSON.stringify({ errorType, errorMessage }));
  }
  return roundTrip(result);
}

/**
 * Calls a handler as Lambda does: with a context whose remaining time counts down from the
 * function's timeout, and failing the invocation when the timeout passes. Step Functions reports
 * a function timeout as `Lambda.Unknown` (Developer Guide, "Handle Lambda service exceptions":
 * unhandled errors, out-of-memory errors and function timeouts), which `States.TaskFailed` and
 * `States.ALL` match. Unlike Lambda, the handler's promise cannot be killed: it runs on, unheard.
 */
export async function invokeWithTimeout(fn: LambdaFunction, name: string, event: unknown): Promise<unknown> {
  const requestId = randomUUID();
  const started = Date.now();
  const timeoutMs = fn.timeoutSeconds === undefined ? undefined : fn.timeoutSeconds * 1000;
  const context: LambdaContext = {
    functionName: name,
    awsRequestId: requestId,
    getRemainingTimeInMillis: () => (timeoutMs === undefined ? 900_000 : Math.max(0, timeoutMs - (Date.now() - started))),
  };
  if (timeoutMs === undefined) return fn.handler(event, context);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(lambdaTimeout(requestId, fn.timeoutSeconds ?? 0)), timeoutMs);
  });
  try {
    return await Promise.race([fn.handler(event, context), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error Step Functions reports for a function that ran past its timeout. */
export function lambdaTimeout(requestId: string, timeoutSeconds: number): TaskError {
  const payload = { errorMessage: `${new Date().toISOString()} ${requestId} Task timed out after ${timeoutSeconds.toFixed(2)} seconds` };
  return new TaskError(
    'Lambda.Unknown',
    `The cause could not be determined because Lambda did not return an error type. Returned payload: ${JSON.stringify(payload)}`,
  );
}

async function invokeSdk(serviceKey: string, action: string, input: Json, deps: TaskDependencies): Promise<Json> {
  const service = SDK_SERVICES[serviceKey];
  const client = deps.sdkClients.get(serviceKey);
  if (!service || !client) {
    throw new TaskError('States.Runtime', `no local client for SDK service '${serviceKey}' (arn:aws:states:::aws-sdk:${serviceKey}:${action})`);
  }
  const commandName = `${action.charAt(0).toUpperCase()}${action.slice(1)}Command`;
  const Command = service.commands[commandName];
  if (typeof Command !== 'function') {
    throw new TaskError(`${service.errorPrefix}.SdkClientException`, `unknown action '${action}' (no ${commandName} in the SDK)`);
  }
  let output: unknown;
  try {
    output = await client.send(new (Command as new (input: unknown) => unknown)(input ?? {}));
  } catch (error) {
    throw sdkTaskError(service.errorPrefix, error, service.commands);
  }
  const { $metadata: _ignored, ...rest } = (output ?? {}) as Record<string, unknown>;
  return pascalCaseKeys(roundTrip(rest));
}

/**
 * Step Functions returns AWS SDK integration results with PascalCase member names
 * (`Records[0][0].StringValue`, not the SDK's `stringValue`); do the same so the
 * definition's paths are the ones that work on AWS.
 */
export function pascalCaseKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(pascalCaseKeys);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [key.charAt(0).toUpperCase() + key.slice(1), pascalCaseKeys(child as Json)]),
  );
}

/**
 * The error name Step Functions gives an SDK integration failure: `<Service>.<Exception>` for an
 * exception the service's API model declares (`RedshiftData.ValidationException`), and the
 * generic `<Service>.<Service>Exception` for one it does not model, such as the Data API's
 * `ThrottlingException` (its model has no such shape; the service answers it anyway). A request
 * that never got an answer is `<Service>.SdkClientException`. The cause reads as AWS writes it.
 */
function sdkTaskError(prefix: string, error: unknown, modeled: Record<string, unknown>): TaskError {
  if (!(error instanceof Error)) return new TaskError(`${prefix}.SdkClientException`, String(error));
  const meta = (error as { $metadata?: { httpStatusCode?: number; requestId?: string } }).$metadata;
  const isService = (error as { $fault?: unknown }).$fault !== undefined && meta?.httpStatusCode !== undefined;
  if (!isService) return new TaskError(`${prefix}.SdkClientException`, error.message);
  const shape = modeled[error.name];
  const isModeled = typeof shape === 'function' && error instanceof (shape as new (...args: never[]) => unknown);
  const name = isModeled ? error.name : `${prefix}Exception`;
  return new TaskError(
    `${prefix}.${name}`,
    `${error.message} (Service: ${prefix}, Status Code: ${meta?.httpStatusCode}, Error Code: ${error.name}, Request ID: ${meta?.requestId ?? ''})`,
  );
}

function roundTrip(value: unknown): Json {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as Json);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The region Task history events report. */
export const TASK_REGION = LOCAL_REGION;
