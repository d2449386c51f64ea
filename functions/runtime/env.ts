/**
 * Dependencies of the deployed functions, from the environment: the validated
 * config (a JSON file bundled beside the handler), the SDK clients, the warehouse
 * port, logs and metrics. Built once per container, on first use. Nothing else
 * in functions/ reads process.env.
 */
import { readFileSync } from 'node:fs';
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { parseConfig } from '../core/config/load';
import type { ForkliftConfig } from '../core/config/schema';
import { ConfigError } from '../core/errors';
import { EnvVar, MetricName } from '../core/metricNames';
import { DataApiWarehouse, warehouseTarget, type Warehouse } from '../adapters/warehouse';
import { createObservability, type Log, type MetricsSink } from './observability';

/** What the handlers are built from. */
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

/** Read and validate the config JSON at `path`. */
export function readConfig(path: string): ForkliftConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError([{ path: '', message: `cannot read config JSON: ${(err as Error).message}` }], path, { cause: err });
  }
  return parseConfig(raw, path);
}

/** Build the dependencies from `env` (process.env by default). */
export function depsFromEnvironment(env: NodeJS.ProcessEnv = process.env): RuntimeDeps {
  const configPath = env[EnvVar.ConfigPath];
  if (!configPath) {
    throw new ConfigError([{ path: '', message: `environment variable ${EnvVar.ConfigPath} is not set` }]);
  }
  const config = readConfig(configPath);
  const { log, metrics } = createObservability();
  const redshiftData = new RedshiftDataClient({});
  const warehouse = new DataApiWarehouse(redshiftData, warehouseTarget(config.warehouse), {
    onError: () => metrics.add(MetricName.DataApiErrors, 'Count', 1),
  });
  return {
    config,
    s3: new S3Client({}),
    sfn: new SFNClient({}),
    redshiftData,
    warehouse,
    stateMachineArn: env[EnvVar.StateMachineArn] ?? '',
    log,
    metrics,
    now: () => new Date(),
  };
}

/**
 * A Lambda entry point that builds its handler on the first invocation (cold start) and
 * reuses it, so importing a handler module has no side effects (tests, the local stack).
 */
export function lazyHandler<E, R>(build: (deps: RuntimeDeps) => (event: E) => Promise<R>): (event: E) => Promise<R> {
  let built: ((event: E) => Promise<R>) | undefined;
  return (event: E) => {
    built ??= build(depsFromEnvironment());
    return built(event);
  };
}
