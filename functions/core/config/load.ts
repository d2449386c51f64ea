/**
 * Reading a config: YAML text → validated ForkliftConfig, or a ConfigError that
 * lists every problem by path. The one entry point for the CLI, the local
 * stack, the CDK app and the Lambda runtime.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors';
import { crossCheck } from './crossChecks';
import { configSchema, type ForkliftConfig } from './schema';

/** Default config file name, relative to the working directory. */
export const DEFAULT_CONFIG_PATH = 'forklift.config.yaml';

function pathOf(path: ReadonlyArray<PropertyKey>): string {
  return path.map(String).join('.');
}

/** Validate an already-parsed object (from YAML or JSON). */
export function parseConfig(raw: unknown, source?: string): ForkliftConfig {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const issues: ConfigIssue[] = result.error.issues.map((i) => ({ path: pathOf(i.path), message: describeIssue(i) }));
    throw new ConfigError(issues, source);
  }
  const crossIssues = crossCheck(result.data);
  if (crossIssues.length) throw new ConfigError(crossIssues, source);
  return result.data;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_key') return issue.issues.map((i) => i.message).join('; ');
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'is required';
  return issue.message;
}

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

/** JSON Schema of the config file as written, for editors (yaml-language-server). */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
