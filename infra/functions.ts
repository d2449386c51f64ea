/**
 * The five Lambda functions, one per handler, bundled locally with esbuild by
 * scripts/bundle.ts (infra/bundling.ts settings; SDK v3 clients included, at the versions
 * package-lock.json pins) and shipped with the validated config as `forklift.config.json`.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AssetHashType, DockerImage, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FUNCTION_SETTINGS as SHARED_SETTINGS } from '../functions/core/functionSettings';
import { EnvVar, FUNCTIONS, METRIC_NAMESPACE, SERVICE_NAME, type FunctionName } from '../functions/core/metricNames';

/** The repository root (entries, package-lock.json). */
export const PROJECT_ROOT = resolve(__dirname, '..');
/** Where the deployed functions find the config (Lambda unpacks the bundle into /var/task). */
export const DEPLOYED_CONFIG_PATH = '/var/task/forklift.config.json';
/** The runtime: the newest Node.js this aws-cdk-lib knows (cdk-nag AwsSolutions-L1 asks for it). */
export const RUNTIME = lambda.Runtime.NODEJS_24_X;
export { BUNDLE_TARGET } from './bundling';

/**
 * Timeout and memory of each function, from functions/core/functionSettings.ts (the local
 * stack enforces the same timeouts). discover is also the SQS consumer: the queue's
 * visibility timeout derives from it.
 */
export const FUNCTION_SETTINGS = Object.fromEntries(
  FUNCTIONS.map((name) => [name, { timeout: Duration.seconds(SHARED_SETTINGS[name].timeoutSeconds), memoryMiB: SHARED_SETTINGS[name].memoryMiB }]),
) as Record<FunctionName, { timeout: Duration; memoryMiB: number }>;

export { DISCOVER_MAX_CONCURRENCY } from '../functions/core/functionSettings';

/** Days each function's log group keeps its logs. */
export const FUNCTION_LOG_RETENTION = logs.RetentionDays.ONE_MONTH;

/** The default entry of a function: `functions/<name>/handler.ts`. */
export function defaultEntry(name: FunctionName): string {
  return join(PROJECT_ROOT, 'functions', name, 'handler.ts');
}

/** Props of {@link Functions}. */
export interface FunctionsProps {
  /** The config document to bundle (validated already). */
  readonly configDocument: unknown;
  /** X-Ray active tracing. */
  readonly tracing: boolean;
  /** Test-only: other entry files per function (defaults to functions/<name>/handler.ts). */
  readonly entries?: Partial<Record<FunctionName, string>>;
  /**
   * discover's reserved concurrency; omitted = none. Reserving N needs an account concurrency
   * quota of at least 100 + N (new accounts may have 10), so it is opt-in.
   */
  readonly discoverReservedConcurrency?: number;
  /**
   * Roles given instead of each function's own (RedshiftAccess.identityRole: the functions that
   * call the Data API share it on a Serverless workgroup with IAM credentials).
   */
  readonly roles?: Partial<Record<FunctionName, iam.Role>>;
}

/** The functions by name, each with its own role and log group. */
export class Functions extends Construct {
  /** The function of each handler. */
  readonly byName: Record<FunctionName, lambda.Function>;

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    const configFile = writeConfigFile(props.configDocument);

    const make = (name: FunctionName): lambda.Function => {
      const settings = FUNCTION_SETTINGS[name];
      const logGroup = new logs.LogGroup(this, `${pascal(name)}Logs`, { retention: FUNCTION_LOG_RETENTION });
      // Our own role (or the shared one given), not the AWSLambdaBasicExecutionRole managed
      // policy: it may write to its own log group only.
      const role =
        props.roles?.[name] ??
        new iam.Role(this, `${pascal(name)}Role`, {
          assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
          description: `Forklift ${name} function`,
        });
      role.addToPolicy(
        new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
      );
      return new lambda.Function(this, pascal(name), {
        code: bundledCode(name, props.entries?.[name] ?? defaultEntry(name), configFile),
        handler: 'index.handler',
        runtime: RUNTIME,
        architecture: lambda.Architecture.ARM_64,
        timeout: settings.timeout,
        memorySize: settings.memoryMiB,
        role,
        logGroup,
        ...(name === 'discover' && props.discoverReservedConcurrency !== undefined
          ? { reservedConcurrentExecutions: props.discoverReservedConcurrency }
          : {}),
        tracing: props.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
        description: `Forklift ${name}`,
        environment: {
          POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
          POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
          POWERTOOLS_LOG_LEVEL: 'INFO',
          [EnvVar.ConfigPath]: DEPLOYED_CONFIG_PATH,
          // The bundle ships source maps: stack traces point at the TypeScript.
          NODE_OPTIONS: '--enable-source-maps',
        },
      });
    };

    const byName = {} as Record<FunctionName, lambda.Function>;
    for (const name of FUNCTIONS) byName[name] = make(name);
    this.byName = byName;
  }
}

/**
 * A function's code: `entry` bundled by scripts/bundle.ts (the settings of infra/bundling.ts,
 * which need esbuild's JS API) into index.js and index.js.map, plus the config document. Built
 * locally at synth time, as NodejsFunction does; the asset hash is the output's.
 */
function bundledCode(name: FunctionName, entry: string, configFile: string): lambda.Code {
  return lambda.Code.fromAsset(PROJECT_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never pulled: local bundling always succeeds or throws (no Docker fallback).
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24'),
      local: {
        tryBundle(outputDir: string): boolean {
          const tsx = require.resolve('tsx/cli', { paths: [PROJECT_ROOT] });
          const script = join(PROJECT_ROOT, 'scripts', 'bundle.ts');
          execFileSync(process.execPath, [tsx, script, '--function', name, '--entry', entry, '--outdir', outputDir], {
            cwd: PROJECT_ROOT,
            stdio: ['ignore', 'inherit', 'inherit'],
          });
          copyFileSync(configFile, join(outputDir, 'forklift.config.json'));
          return true;
        },
      },
    },
  });
}

/** Writes the config document to a fresh temp dir; each bundle gets a copy. */
function writeConfigFile(document: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'forklift-config-'));
  const file = join(dir, 'forklift.config.json');
  writeFileSync(file, JSON.stringify(document, null, 2) + '\n');
  return file;
}

/** `record-failure` → `RecordFailure`. */
export function pascal(name: string): string {
  return name
    .split('-')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}
