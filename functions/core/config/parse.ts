/**
 * Validating a config object (from YAML or the JSON bundled with the
 * functions): zod, then the cross-checks, every problem reported by path.
 */
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors';
import { crossCheck } from './crossChecks';
import { configSchema, type ForkliftConfig } from './schema';

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

/** JSON Schema of the config file as written, for editors (yaml-language-server). */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
