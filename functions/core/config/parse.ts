/**
 * Validating a config object (from YAML or the JSON bundled with the
 * functions): zod, then the cross-checks, every problem reported by path.
 *
 * A file with type errors still gets its cross-checks: the values zod refused are
 * set aside (the invalid value, or the smallest map entry that holds it), the rest
 * is validated again, and the cross-checks run on what remains. A cross-check
 * problem that only follows from a value set aside is not reported twice.
 */
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors';
import { crossCheck } from './crossChecks';
import { configSchema, type ForkliftConfig } from './schema';

type Path = ReadonlyArray<PropertyKey>;

function pathOf(path: Path): string {
  return path.map(String).join('.');
}

/** Validate an already-parsed object (from YAML or JSON). */
export function parseConfig(raw: unknown, source?: string): ForkliftConfig {
  const result = configSchema.safeParse(raw);
  if (result.success) {
    const crossIssues = crossCheck(result.data);
    if (crossIssues.length) throw new ConfigError(crossIssues, source);
    return result.data;
  }
  const issues: ConfigIssue[] = result.error.issues.map((i) => ({ path: pathOf(i.path), message: describeIssue(i, raw) }));
  throw new ConfigError([...issues, ...crossIssuesDespite(raw, result.error.issues)], source);
}

/** Maps whose entries are set aside whole when something inside them is invalid. */
const MAPS = new Set(['tables', 'aggregates', 'columns', 'measures']);
/** Sections whose cross-checks are skipped when they are invalid (a placeholder stands in). */
const PLACEHOLDERS: Record<string, unknown> = {
  warehouse: { database: 'dev', workgroupName: 'placeholder', copyRoleArn: 'arn:aws:iam::000000000000:role/placeholder' },
  landing: { bucketName: 'placeholder' },
};

/**
 * The cross-check problems of `raw` once the values behind `issues` are set aside,
 * leaving out those about what was set aside (its path, or a name it held).
 */
function crossIssuesDespite(raw: unknown, first: readonly z.core.$ZodIssue[]): ConfigIssue[] {
  if (!isObject(raw)) return [];
  const doc = structuredClone(raw);
  const removed: string[][] = [];
  let issues = first;
  for (let round = 0; round < 20; round++) {
    let progress = false;
    for (const issue of issues) progress = setAside(doc, issue, removed) || progress;
    if (!progress) return [];
    const again = configSchema.safeParse(doc);
    if (again.success) return crossCheck(again.data).filter((i) => !aboutRemoved(i, removed));
    issues = again.error.issues;
  }
  return [];
}

/** Remove what `issue` complains about from `doc`; false when nothing could be removed. */
function setAside(doc: Record<string, unknown>, issue: z.core.$ZodIssue, removed: string[][]): boolean {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const parent = valueAt(doc, path);
    if (!isObject(parent)) return false;
    issue.keys.forEach((k) => delete parent[k]);
    return true;
  }
  // The smallest removable thing at or above the path: a map entry, an optional field, or a section.
  for (let end = path.length; end > 0; end--) {
    const target = path.slice(0, end);
    const parentPath = target.slice(0, -1);
    const key = target[target.length - 1]!;
    const parent = valueAt(doc, parentPath);
    if (!isObject(parent) || !(key in parent)) continue;
    const isMapEntry = MAPS.has(parentPath[parentPath.length - 1] ?? '') || parentPath.length === 0;
    if (parentPath.length === 0 && PLACEHOLDERS[key] !== undefined) {
      if (removed.some((r) => r.length === 1 && r[0] === key)) return false;
      parent[key] = structuredClone(PLACEHOLDERS[key]);
    } else if (end === path.length || isMapEntry) {
      delete parent[key];
    } else {
      continue;
    }
    removed.push(target);
    return true;
  }
  const top = path[0];
  if (top !== undefined && PLACEHOLDERS[top] !== undefined && !(top in doc)) {
    doc[top] = structuredClone(PLACEHOLDERS[top]);
    removed.push([top]);
    return true;
  }
  return false;
}

/** A cross-check problem at or under a removed path, or naming a removed map entry. */
function aboutRemoved(issue: ConfigIssue, removed: readonly string[][]): boolean {
  return removed.some((r) => {
    const at = r.join('.');
    if (issue.path === at || issue.path.startsWith(`${at}.`) || at.startsWith(`${issue.path}.`)) return true;
    const name = r[r.length - 1]!;
    return r.length > 1 && MAPS.has(r[r.length - 2]!) && issue.message.includes(`'${name}'`);
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function valueAt(doc: unknown, path: Path): unknown {
  let v: unknown = doc;
  for (const k of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `the string '${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  if (typeof v === 'object') return 'an object';
  return `the ${typeof v} ${String(v)}`;
}

const EXPECTED: Record<string, string> = {
  object: 'an object',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
};

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  if (issue.code === 'invalid_key') return issue.issues.map((i) => i.message).join('; ');
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
  if (issue.code === 'invalid_type') {
    const value = valueAt(raw, issue.path);
    if (value === undefined) return 'is required';
    const expected = EXPECTED[issue.expected] ?? issue.expected;
    const hint =
      issue.path[issue.path.length - 1] === 'format' && typeof value === 'string' ? `: write format: { type: ${value} }` : '';
    return `must be ${expected}, not ${describeValue(value)}${hint}`;
  }
  return issue.message;
}

/** JSON Schema of the config file as written, for editors (yaml-language-server). */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
