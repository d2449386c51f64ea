/**
 * Dependencies of the deployed functions, from the environment. Each handler
 * composes only the pieces it uses (a function that never calls S3 does not
 * bundle the S3 client: cold starts stay small). Built once per container, on
 * first use. Nothing else in functions/ reads process.env.
 */
import { readFileSync } from 'node:fs';
import type { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { readDeployedConfig } from '../core/config/deployed';
import type { ForkliftConfig } from '../core/config/schema';
import { ConfigError } from '../core/errors';
import { EnvVar } from '../core/metricNames';
import type { Warehouse } from '../adapters/warehouse';
import { createObservability, type Log, type MetricsSink } from './observability';

/** Everything any handler is built from (the local stack provides all of it). */
export interface RuntimeDeps {
  config: ForkliftConfig;
  s3: S3Client;
  sfn: SFNClient;
  redshiftData: RedshiftDataClient;
  warehouse: Warehouse;
  /** The load state machine (discover only; empty elsewhere). */
  stateMachineArn: string;
  log: Log;
  metrics: MetricsSink;
  now: () => Date;
}

/** What every deployed handler gets: the validated config, logs, metrics and the clock. */
export type BaseDeps = Pick<RuntimeDeps, 'config' | 'log' | 'metrics' | 'now'>;

/** Read the config the CDK app validated and deployed beside the handler (no re-validation: see config/deployed.ts). */
export function readConfig(path: string): ForkliftConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError([{ path: '', message: `cannot read config JSON: ${(err as Error).message}` }], path, { cause: err });
  }
  return readDeployedConfig(raw, path);
}

/** The base dependencies from `env` (process.env by default). */
export function baseDepsFromEnvironment(env: NodeJS.ProcessEnv = process.env): BaseDeps {
  const configPath = env[EnvVar.ConfigPath];
  if (!configPath) {
    throw new ConfigError([{ path: '', message: `environment variable ${EnvVar.ConfigPath} is not set` }]);
  }
  const { log, metrics } = createObservability();
  return { config: readConfig(configPath), log, metrics, now: () => new Date() };
}

/** The state machine discover starts, from `env`. */
export function stateMachineArnFromEnvironment(env: NodeJS.ProcessEnv = process.env): string {
  const arn = env[EnvVar.StateMachineArn];
  if (!arn) throw new ConfigError([{ path: '', message: `environment variable ${EnvVar.StateMachineArn} is not set` }]);
  return arn;
}

/**
 * A Lambda entry point that builds its handler on the first invocation (cold start) and
 * reuses it, so importing a handler module has no side effects (tests, the local stack).
 * The invocation context goes through: handlers bound their waits by its remaining time.
 */
export function lazyHandler<E, C, R>(build: () => (event: E, context?: C) => Promise<R>): (event: E, context?: C) => Promise<R> {
  let built: ((event: E, context?: C) => Promise<R>) | undefined;
  return (event: E, context?: C) => {
    built ??= build();
    return built(event, context);
  };
}
