/** Shared fixtures of the handler tests: the example config and recording logs/metrics. */
import { loadConfigFile } from '../../../functions/core/config/load';
import type { ForkliftConfig } from '../../../functions/core/config/schema';

/** The example pipeline config (forklift.config.yaml at the repository root). */
export function exampleConfig(): ForkliftConfig {
  return loadConfigFile('forklift.config.yaml');
}

/** A no-op sleep for the Data API adapter. */
export const noSleep = async (): Promise<void> => {};
