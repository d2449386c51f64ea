/**
 * Reading a config file: YAML text → validated ForkliftConfig, or a ConfigError
 * that lists every problem by path. The entry point for the CLI, the local
 * stack and the CDK app (the Lambdas read the bundled JSON through parse.ts,
 * without the YAML parser).
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { ConfigError } from '../errors';
import { parseConfig } from './parse';
import type { ForkliftConfig } from './schema';

export { configJsonSchema, parseConfig } from './parse';

/** Default config file name, relative to the working directory. */
export const DEFAULT_CONFIG_PATH = 'forklift.config.yaml';

/** Parse YAML text; YAML syntax errors become ConfigErrors with line numbers. */
export function parseConfigText(text: string, source?: string): ForkliftConfig {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    throw new ConfigError(
      doc.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? '?'}`, message: e.message.split('\n')[0] ?? e.message })),
      source,
    );
  }
  return parseConfig(doc.toJS(), source);
}

/** Read and validate a config file. */
export function loadConfigFile(path: string = DEFAULT_CONFIG_PATH): ForkliftConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([{ path: '', message: `cannot read config file: ${(err as Error).message}` }], path, { cause: err });
  }
  return parseConfigText(text, path);
}
