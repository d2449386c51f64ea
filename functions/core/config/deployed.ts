/**
 * The config as deployed with the functions: the OUTPUT of parsing (defaults
 * applied, types resolved), validated once at synthesis. Reading it back needs
 * no schema library, which keeps zod and the YAML parser out of the Lambda
 * bundles (cold starts); the format tag guards against a bundle written by
 * another Forklift version.
 */
import { ConfigError } from '../errors';
import type { ForkliftConfig } from './schema';

/** Tag of the deployed document's shape; change it whenever ForkliftConfig's shape changes. */
export const DEPLOYED_CONFIG_FORMAT = 'forklift/parsed-config-v1';

/** What is written beside each handler as forklift.config.json. */
export interface DeployedConfigDocument {
  format: typeof DEPLOYED_CONFIG_FORMAT;
  config: ForkliftConfig;
}

/** The document for a config that parseConfig accepted. */
export function deployedConfigDocument(config: ForkliftConfig): DeployedConfigDocument {
  return { format: DEPLOYED_CONFIG_FORMAT, config };
}

/** The config from a deployed document; refuses anything not written by deployedConfigDocument. */
export function readDeployedConfig(raw: unknown, source: string): ForkliftConfig {
  const doc = raw as Partial<DeployedConfigDocument> | null;
  if (!doc || typeof doc !== 'object' || doc.format !== DEPLOYED_CONFIG_FORMAT || typeof doc.config !== 'object' || doc.config === null) {
    throw new ConfigError(
      [{ path: 'format', message: `not a config deployed by this Forklift version (expected format '${DEPLOYED_CONFIG_FORMAT}'): redeploy with npx cdk deploy` }],
      source,
    );
  }
  const config = doc.config;
  if (!config.warehouse || !config.tables || !config.landing) {
    throw new ConfigError([{ path: 'config', message: 'the deployed config lacks warehouse, landing or tables' }], source);
  }
  return config;
}
