/**
 * Builds the CDK app from a config file, with cdk-nag's AwsSolutions checks: shared
 * by the `cdk` entry (app.ts), the in-process synth script and the tests.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ForkliftError } from '../functions/core/errors';
import type { FunctionName } from '../functions/core/metricNames';
import { configPathFrom, readPipelineConfig } from './config';
import { ForkliftStack } from './stack';

/** Default stack name (also the prefix of its output export names). */
export const DEFAULT_STACK_NAME = 'Forklift';

/** CDK feature flags set on the app before the stack is built. */
export const FEATURE_FLAGS: Readonly<Record<string, boolean>> = {
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
};

/** Options of {@link createForkliftApp}. */
export interface ForkliftAppOptions {
  /** The pipeline config file. */
  readonly configPath: string;
  readonly app?: App;
  readonly stackName?: string;
  readonly tracing?: boolean;
  readonly workgroupArn?: string;
  /** Account and region; env-agnostic when omitted. */
  readonly env?: { account?: string; region?: string };
  /** Test-only: entry files other than functions/<name>/handler.ts. */
  readonly functionEntries?: Partial<Record<FunctionName, string>>;
  /** discover's reserved concurrency; omitted = none. */
  readonly discoverReservedConcurrency?: number;
}

/** The app and its one stack. */
export interface ForkliftApp {
  readonly app: App;
  readonly stack: ForkliftStack;
}

/** Reads and validates the config (a ConfigError lists every problem), builds the stack, adds the nag checks. */
export function createForkliftApp(options: ForkliftAppOptions): ForkliftApp {
  const { config, document } = readPipelineConfig(options.configPath);
  const app = options.app ?? new App();
  // Feature flags the stack relies on, set here so the CLI, the synth script and the tests build the same template:
  // access-log delivery is granted by a bucket policy, not by the legacy LogDeliveryWrite ACL.
  for (const [flag, value] of Object.entries(FEATURE_FLAGS)) app.node.setContext(flag, value);
  const stack = new ForkliftStack(app, options.stackName ?? DEFAULT_STACK_NAME, {
    config,
    configDocument: document,
    description: 'Forklift: loads data landing in S3 into Amazon Redshift',
    ...(options.tracing !== undefined ? { tracing: options.tracing } : {}),
    ...(options.workgroupArn !== undefined ? { workgroupArn: options.workgroupArn } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.functionEntries ? { functionEntries: options.functionEntries } : {}),
    ...(options.discoverReservedConcurrency !== undefined ? { discoverReservedConcurrency: options.discoverReservedConcurrency } : {}),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

/** Reads a context value as a string (the CLI passes `-c key=value` as strings). */
export function contextString(app: App, key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** Reads a context value as a positive integer; anything else is a clear error naming the key. */
export function contextPositiveInteger(app: App, key: string): number | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 1) throw new ForkliftError(`context ${key}: expected a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * Builds the stack from the app's context, as `cdk` and scripts/synth.ts pass it: `config`
 * (or env FORKLIFT_CONFIG; default forklift.config.yaml), `stackName`, `tracing`, `workgroupArn`,
 * `discoverReservedConcurrency` (default none).
 */
export function createForkliftAppFromContext(app: App, env: NodeJS.ProcessEnv = process.env): ForkliftApp {
  const stackName = contextString(app, 'stackName');
  const workgroupArn = contextString(app, 'workgroupArn');
  const account = env['CDK_DEFAULT_ACCOUNT'];
  const region = env['CDK_DEFAULT_REGION'];
  const tracing: unknown = app.node.tryGetContext('tracing');
  const discoverReservedConcurrency = contextPositiveInteger(app, 'discoverReservedConcurrency');
  return createForkliftApp({
    app,
    configPath: configPathFrom(app.node.tryGetContext('config'), env),
    tracing: tracing !== false && tracing !== 'false',
    ...(stackName ? { stackName } : {}),
    ...(workgroupArn ? { workgroupArn } : {}),
    ...(discoverReservedConcurrency !== undefined ? { discoverReservedConcurrency } : {}),
    ...(account || region ? { env: { ...(account ? { account } : {}), ...(region ? { region } : {}) } } : {}),
  });
}
