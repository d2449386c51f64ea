/**
 * Where commands run: the local stack (the whole pipeline started in process on a
 * data dir) or AWS (the deployed state machine, found in `cdk deploy --outputs-file`
 * or given by ARN). Both give the same SDK clients and warehouse port, so commands
 * never know which one they have.
 */
import { readFileSync } from 'node:fs';
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DataApiWarehouse, warehouseTarget, type Warehouse } from '../functions/adapters/warehouse';
import { DEFAULT_CONFIG_PATH, loadConfigFile } from '../functions/core/config/load';
import type { ForkliftConfig } from '../functions/core/config/schema';
import type { LocalPipeline } from '../local/pipeline';
import { UsageError } from './errors';
import { fromInvocationDir } from './paths';

/** What a command runs against. */
export interface Target {
  kind: 'local' | 'aws';
  config: ForkliftConfig;
  sfn: SFNClient;
  stateMachineArn: string;
  warehouse: Warehouse;
  /** The Data API client behind `warehouse` (for result metadata: column names). */
  redshiftData: RedshiftDataClient;
  s3: S3Client;
  /** How often to poll an execution's status. */
  pollMs: number;
  /** Release clients; stops the local pipeline when the CLI started it. */
  close(): Promise<void>;
}

/** The global options that choose the config and the target. */
export interface GlobalOptions {
  config?: string;
  local?: boolean;
  dataDir?: string;
  outputs?: string;
  stateMachineArn?: string;
  region?: string;
}

/** Default data dir of `--local`: the one `npm start` persists to. */
export const DEFAULT_DATA_DIR = '.forklift';

/** The config path: `--config`, else FORKLIFT_CONFIG, else forklift.config.yaml. */
export function configPath(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): string {
  const given = options.config ?? env.FORKLIFT_CONFIG;
  return given === undefined ? DEFAULT_CONFIG_PATH : fromInvocationDir(given, env);
}

/** Read and validate the config the options name (ConfigError lists every problem). */
export function loadConfig(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): ForkliftConfig {
  return loadConfigFile(configPath(options, env));
}

/** A target over a running local pipeline (tests, `--local`); `close` is what to do at the end. */
export function pipelineTarget(pipeline: LocalPipeline, close: () => Promise<void> = async () => {}): Target {
  return {
    kind: 'local',
    config: pipeline.config,
    sfn: pipeline.stack.stepFunctions.client,
    stateMachineArn: pipeline.stateMachineArn,
    warehouse: pipeline.deps.warehouse,
    redshiftData: pipeline.stack.redshiftData.client,
    s3: pipeline.stack.s3.client,
    pollMs: 25,
    close,
  };
}

/** The load state machine's ARN from a `cdk deploy --outputs-file` JSON: `{ "<stack>": { "StateMachineArn": ... } }`. */
export function stateMachineArnFromOutputs(path: string): string {
  let outputs: unknown;
  try {
    outputs = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read CDK outputs '${path}': ${(err as Error).message}`, { cause: err });
  }
  const arns: string[] = [];
  if (outputs && typeof outputs === 'object') {
    for (const stack of Object.values(outputs as Record<string, unknown>)) {
      const arn = (stack as Record<string, unknown> | null)?.StateMachineArn;
      if (typeof arn === 'string') arns.push(arn);
    }
  }
  if (arns.length !== 1) {
    throw new UsageError(
      arns.length === 0
        ? `CDK outputs '${path}' hold no StateMachineArn output (write them with cdk deploy --outputs-file)`
        : `CDK outputs '${path}' hold ${arns.length} stacks with a StateMachineArn; pass --state-machine-arn`,
    );
  }
  return arns[0]!;
}

/** The region of an ARN (`arn:aws:states:<region>:...`), if it has one. */
function arnRegion(arn: string): string | undefined {
  const region = arn.split(':')[3];
  return region ? region : undefined;
}

/**
 * Resolve the options into a target. `--local` starts the pipeline on `--data-dir`
 * (stopped by `close`); otherwise AWS, with credentials from the default chain.
 */
export async function resolveTarget(options: GlobalOptions, config: ForkliftConfig): Promise<Target> {
  const aws = options.outputs !== undefined || options.stateMachineArn !== undefined;
  if (options.local && aws) throw new UsageError('--local cannot be combined with --outputs or --state-machine-arn');
  if (options.local) {
    // Imported lazily: the local stack (PGlite, s3rver) is a development dependency.
    const { startLocalPipeline } = await import('../local/pipeline');
    const pipeline = await startLocalPipeline({ config, dataDir: options.dataDir === undefined ? DEFAULT_DATA_DIR : fromInvocationDir(options.dataDir) });
    return pipelineTarget(pipeline, async () => {
      await pipeline.settle();
      await pipeline.stop();
    });
  }
  if (!aws) {
    throw new UsageError('no target: pass --local, or --outputs <cdk-outputs.json> / --state-machine-arn <arn> for AWS');
  }
  const stateMachineArn = options.stateMachineArn ?? stateMachineArnFromOutputs(fromInvocationDir(options.outputs!));
  const region = options.region ?? arnRegion(stateMachineArn);
  const clientConfig = region === undefined ? {} : { region };
  const sfn = new SFNClient(clientConfig);
  const s3 = new S3Client(clientConfig);
  const redshiftData = new RedshiftDataClient(clientConfig);
  return {
    kind: 'aws',
    config,
    sfn,
    stateMachineArn,
    warehouse: new DataApiWarehouse(redshiftData, warehouseTarget(config.warehouse)),
    redshiftData,
    s3,
    pollMs: 2000,
    async close() {
      sfn.destroy();
      s3.destroy();
      redshiftData.destroy();
    },
  };
}
