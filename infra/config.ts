/**
 * The pipeline config as the CDK app sees it: validated with the same loader as
 * the CLI (an invalid file fails synthesis with every problem listed by path),
 * plus the deployed document (the parsed config, tagged with its format), which
 * is bundled beside each handler as `forklift.config.json`.
 */
import { deployedConfigDocument } from '../functions/core/config/deployed';
import { DEFAULT_CONFIG_PATH, loadConfigFile } from '../functions/core/config/load';
import type { ForkliftConfig } from '../functions/core/config/schema';
import { ConfigError } from '../functions/core/errors';
import { checkAggregateLimits } from '../functions/core/sql/aggregate';

/** A validated config and the document it was parsed from. */
export interface LoadedConfig {
  /** Where it was read from. */
  readonly path: string;
  /** The parsed config (defaults applied): what the stack is built from. */
  readonly config: ForkliftConfig;
  /** The deployed document: the functions read it without re-validating (config/deployed.ts). */
  readonly document: unknown;
}

/** Read and validate the config file: throws ConfigError on any problem. */
export function readPipelineConfig(path: string = DEFAULT_CONFIG_PATH): LoadedConfig {
  const config = loadConfigFile(path);
  // Each aggregate's recompute must fit one Data API batch (40 SQLs, 100 KB each) on its own.
  const limits = checkAggregateLimits(config);
  if (limits.length) throw new ConfigError(limits, path);
  return { path, config, document: deployedConfigDocument(config) };
}

/** Which config the app builds: `--context config=...`, then FORKLIFT_CONFIG, then the default file. */
export function configPathFrom(context: unknown, env: NodeJS.ProcessEnv = process.env): string {
  if (typeof context === 'string' && context.length > 0) return context;
  const fromEnv = env['FORKLIFT_CONFIG'];
  return fromEnv && fromEnv.length > 0 ? fromEnv : DEFAULT_CONFIG_PATH;
}
