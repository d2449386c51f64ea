/**
 * The whole local stack in one call: S3 (s3rver), the Redshift Data API (PGlite) and Step Functions
 * (aws-local-stepfunctions), each behind its real SDK client. Used by `npm start`, the CLI and tests.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import type { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { ForkliftError } from '../functions/core/errors';
import { FaultInjector, type LocalFaults } from './faults';
import { startRedshiftDataServer, type RedshiftDataServer } from './redshift-data/server';
import { localS3ClientConfig, startLocalS3, type LocalS3, type ObjectCreatedListener } from './s3';
import { startStepFunctionsServer, type LambdaHandler, type LocalStepFunctionsServer } from './stepfunctions/server';

/** A state machine to register: an ASL file with `${Name}` placeholders, or a definition object. */
export interface LocalStateMachine {
  name: string;
  /** Path to an ASL JSON file; `${Name}` placeholders are replaced from `substitutions`. */
  definitionFile?: string;
  definition?: object;
  substitutions?: Record<string, string>;
}

/** Options of {@link startLocalStack}. */
export interface LocalStackOptions {
  /** Root of `<dataDir>/s3` and `<dataDir>/warehouse`; omitted = a temp dir removed on stop. */
  dataDir?: string;
  /** Ports on 127.0.0.1; omitted or 0 = chosen by the OS. */
  ports?: { s3?: number; redshiftData?: number; stepFunctions?: number };
  buckets: string[];
  stateMachines?: LocalStateMachine[];
  /** In-process Lambda handlers by function name or ARN (more via `stepFunctions.server.registerLambda`). */
  lambdas?: Record<string, LambdaHandler>;
  /** Scales Wait states (0 = no waiting); omitted = real durations. */
  waitScale?: number;
  /** Scales Retry intervals; omitted = real intervals. */
  retryScale?: number;
  /** Faults to inject by option (local/faults.ts): throttled or failed calls, stopped executions. */
  faults?: LocalFaults;
  /**
   * Access key id → IAM role name: on a Serverless workgroup without a secret, the Data API runs
   * a call signed with a mapped key as the database user `IAMR:<role>` (startRedshiftDataServer).
   */
  iamRoles?: Readonly<Record<string, string>>;
  /** The access key id the state machine's Data API tasks sign with (its role's); default the stack's. */
  stateMachineAccessKeyId?: string;
}

/** The services a client config can be asked for. */
export type LocalService = 's3' | 'redshiftData' | 'stepFunctions';

/** An SDK client config for a local endpoint. */
export interface LocalClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  forcePathStyle?: boolean;
}

/** The running stack. */
export interface LocalStack {
  dataDir: string;
  s3: { endpoint: string; client: S3Client; onObjectCreated(listener: ObjectCreatedListener): void; idle(): Promise<void> };
  redshiftData: { endpoint: string; client: RedshiftDataClient; server: RedshiftDataServer };
  stepFunctions: { endpoint: string; client: SFNClient; server: LocalStepFunctionsServer; stateMachineArns: Record<string, string> };
  /** The SDK client config reaching one local service (S3 includes forcePathStyle and s3rver's key). */
  clientConfig(service: LocalService): LocalClientConfig;
  /** The faults injected so far (empty without the `faults` option). */
  faults: FaultInjector;
  /** Stops every service, then removes the temp data dir if the stack created it. */
  stop(): Promise<void>;
}

/** The client config for a local endpoint other than S3: us-east-1 and dummy credentials (`accessKeyId`, default `local`). */
export function localAwsClientConfig(endpoint: string, accessKeyId = 'local'): LocalClientConfig {
  return { endpoint, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey: 'local' } };
}

/**
 * Reads an ASL file and replaces `${Name}` placeholders textually (like CDK's
 * DefinitionBody.fromFile substitutions); a placeholder left unsubstituted is an error.
 */
export async function loadDefinition(file: string, substitutions: Record<string, string> = {}): Promise<object> {
  const text = await readFile(file, 'utf8');
  return parseDefinition(text, substitutions, file);
}

/** {@link loadDefinition} on text already read. */
export function parseDefinition(text: string, substitutions: Record<string, string>, source = 'definition'): object {
  const replaced = text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(substitutions, name) ? (substitutions[name] ?? whole) : whole,
  );
  const left = [...new Set(replaced.match(/\$\{[A-Za-z0-9_]+\}/g) ?? [])];
  if (left.length > 0) {
    throw new ForkliftError(`${source}: no substitution for ${left.join(', ')}`);
  }
  try {
    return JSON.parse(replaced) as object;
  } catch (error) {
    throw new ForkliftError(`${source}: not valid JSON after substitutions`, { cause: error });
  }
}

/** Starts S3, the Data API and Step Functions, registers the state machines and returns clients. */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'forklift-local-')));
  const stoppers: Array<() => Promise<void>> = [];
  const faults = new FaultInjector(options.faults);
  const stopAll = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const stop of stoppers.splice(0).reverse()) {
      await stop().catch((error: unknown) => errors.push(error));
    }
    if (ownDir) await rm(dataDir, { recursive: true, force: true });
    if (errors.length > 0) throw new ForkliftError('local stack did not stop cleanly', { cause: errors[0] });
  };

  try {
    // Definitions first: a bad file fails before any port opens.
    const definitions: Array<{ name: string; definition: object }> = [];
    for (const sm of options.stateMachines ?? []) {
      if (sm.definition) definitions.push({ name: sm.name, definition: sm.definition });
      else if (sm.definitionFile) definitions.push({ name: sm.name, definition: await loadDefinition(sm.definitionFile, sm.substitutions) });
      else throw new ForkliftError(`state machine '${sm.name}': give definitionFile or definition`);
    }

    const s3Dir = join(dataDir, 's3');
    const warehouseDir = join(dataDir, 'warehouse');
    await mkdir(s3Dir, { recursive: true });
    await mkdir(warehouseDir, { recursive: true });

    const s3Options: Parameters<typeof startLocalS3>[0] = { dataDir: s3Dir, buckets: options.buckets };
    if (options.ports?.s3 !== undefined) s3Options.port = options.ports.s3;
    const s3: LocalS3 = await startLocalS3(s3Options);
    stoppers.push(() => s3.stop());
    faults.attach(s3.client, 's3');

    const dataOptions: Parameters<typeof startRedshiftDataServer>[0] = { s3: s3.client, dataDir: warehouseDir, ...(options.iamRoles ? { iamRoles: options.iamRoles } : {}) };
    if (options.ports?.redshiftData !== undefined) dataOptions.port = options.ports.redshiftData;
    const redshiftDataServer = await startRedshiftDataServer(dataOptions);
    stoppers.push(() => redshiftDataServer.stop());
    const redshiftDataClient = new RedshiftDataClient(localAwsClientConfig(redshiftDataServer.endpoint));
    stoppers.push(async () => redshiftDataClient.destroy());
    faults.attach(redshiftDataClient, 'redshiftData');

    // The state machine's aws-sdk tasks have their own client: on AWS, Step Functions is its own caller.
    const stateMachineDataClient = new RedshiftDataClient(localAwsClientConfig(redshiftDataServer.endpoint, options.stateMachineAccessKeyId));
    stoppers.push(async () => stateMachineDataClient.destroy());
    faults.attach(stateMachineDataClient, 'redshiftData', 'stateMachine');
    const sfnOptions: Parameters<typeof startStepFunctionsServer>[0] = {
      lambdas: options.lambdas ?? {},
      sdkClients: { redshiftdata: stateMachineDataClient },
    };
    if (options.ports?.stepFunctions !== undefined) sfnOptions.port = options.ports.stepFunctions;
    if (options.waitScale !== undefined) sfnOptions.waitScale = options.waitScale;
    if (options.retryScale !== undefined) sfnOptions.retryScale = options.retryScale;
    if (options.faults?.stopAtState) sfnOptions.stopAtState = options.faults.stopAtState;
    const sfnServer = await startStepFunctionsServer(sfnOptions);
    stoppers.push(() => sfnServer.stop());
    const sfnClient = new SFNClient(localAwsClientConfig(sfnServer.endpoint));
    stoppers.push(async () => sfnClient.destroy());
    faults.attach(sfnClient, 'stepFunctions');

    const stateMachineArns: Record<string, string> = {};
    for (const { name, definition } of definitions) {
      stateMachineArns[name] = sfnServer.registerStateMachine({ name, definition });
    }

    const configs: Record<LocalService, LocalClientConfig> = {
      s3: localS3ClientConfig(s3.endpoint) as LocalClientConfig,
      redshiftData: localAwsClientConfig(redshiftDataServer.endpoint),
      stepFunctions: localAwsClientConfig(sfnServer.endpoint),
    };
    let stopped: Promise<void> | undefined;
    return {
      dataDir,
      s3: { endpoint: s3.endpoint, client: s3.client, onObjectCreated: s3.onObjectCreated, idle: s3.idle },
      redshiftData: { endpoint: redshiftDataServer.endpoint, client: redshiftDataClient, server: redshiftDataServer },
      stepFunctions: { endpoint: sfnServer.endpoint, client: sfnClient, server: sfnServer, stateMachineArns },
      clientConfig: (service) => {
        const config = configs[service];
        return { ...config, credentials: { ...config.credentials } };
      },
      faults,
      stop: () => (stopped ??= stopAll()),
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}
