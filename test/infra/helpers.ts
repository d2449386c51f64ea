/**
 * Shared helpers of the infra tests: synthesize the stack from a config (the example,
 * or a variant of it), with the real handlers when they exist and a stand-in otherwise.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { stringify, parse } from 'yaml';
import { FUNCTIONS, type FunctionName } from '../../functions/core/metricNames';
import { createForkliftApp, type ForkliftAppOptions } from '../../infra/forkliftApp';
import { defaultEntry, PROJECT_ROOT } from '../../infra/functions';
import type { ForkliftStack } from '../../infra/stack';

/** The example config. */
export const EXAMPLE_CONFIG = join(PROJECT_ROOT, 'forklift.config.yaml');

/** A Serverless workgroup ARN for the tests. */
export const WORKGROUP_ARN = 'arn:aws:redshift-serverless:eu-west-1:123456789012:workgroup/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';

/**
 * Entries for the functions: the real handler when it exists; otherwise a stand-in
 * (the stack needs an entry under the project root), kept out of git in node_modules/.cache.
 */
export function functionEntries(): Partial<Record<FunctionName, string>> {
  const entries: Partial<Record<FunctionName, string>> = {};
  for (const name of FUNCTIONS) {
    if (existsSync(defaultEntry(name))) continue;
    const dir = join(PROJECT_ROOT, 'node_modules', '.cache', 'forklift-infra-stand-in');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'handler.ts');
    if (!existsSync(file)) writeFileSync(file, 'export const handler = async (): Promise<void> => {};\n');
    entries[name] = file;
  }
  return entries;
}

/** The example config document, edited by `edit`, written to a temp file. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests reach into arbitrary depths of the YAML document
type YamlDoc = Record<string, any>;

export function configVariant(edit: (doc: YamlDoc) => void): string {
  const doc = parse(readFileSync(EXAMPLE_CONFIG, 'utf8')) as YamlDoc;
  edit(doc);
  const file = join(mkdtempSync(join(tmpdir(), 'forklift-infra-test-')), 'forklift.config.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

/** A synthesized stack. */
export interface Synthesized {
  readonly app: App;
  readonly stack: ForkliftStack;
  readonly template: Template;
  readonly outdir: string;
}

/** Options of {@link synth}. */
export interface SynthOptions extends Partial<ForkliftAppOptions> {
  /** Bundle the functions with esbuild (slow-ish); off skips bundling, as `cdk` does for unselected stacks. */
  readonly bundle?: boolean;
}

/** Builds the app (with cdk-nag) and synthesizes it: throws if cdk-nag reports an unacknowledged error. */
export function synth(options: SynthOptions = {}): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'forklift-cdk-out-'));
  const app = new App({ outdir, context: options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] } });
  const { stack } = createForkliftApp({
    configPath: EXAMPLE_CONFIG,
    env: { account: '123456789012', region: 'eu-west-1' },
    functionEntries: functionEntries(),
    ...options,
    app,
  });
  app.synth();
  return { app, stack, template: Template.fromStack(stack), outdir };
}

/** A CloudFormation value with `Ref: AWS::Partition` and Fn::Join flattened (for ARN comparisons). */
export function flatten(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(flatten);
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if (obj['Ref'] === 'AWS::Partition') return 'aws';
    const join = obj['Fn::Join'] as [string, unknown[]] | undefined;
    if (join) {
      const parts = join[1].map(flatten);
      if (parts.every((p) => typeof p === 'string')) return parts.join(join[0]);
      return { 'Fn::Join': [join[0], parts] };
    }
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, flatten(v)]));
  }
  return value;
}

/** One statement of an identity policy. */
export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
}

/** Every identity-policy statement attached to the role with this logical id prefix (inline policies). */
export function roleStatements(template: Template, rolePrefix: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const out: Statement[] = [];
  for (const p of Object.values(policies)) {
    const roles = (p['Properties']['Roles'] as Array<{ Ref: string }>).map((r) => r.Ref);
    if (!roles.some((r) => r.startsWith(rolePrefix))) continue;
    out.push(...(p['Properties']['PolicyDocument']['Statement'] as Statement[]).map((s) => flatten(s) as Statement));
  }
  return out;
}

/** Every identity-policy statement in the template (inline policies, role policies, managed policies). */
export function allIdentityStatements(template: Template): Array<{ owner: string; statement: Statement }> {
  const out: Array<{ owner: string; statement: Statement }> = [];
  const push = (owner: string, doc: { Statement: Statement[] } | undefined) => {
    for (const s of doc?.Statement ?? []) out.push({ owner, statement: flatten(s) as Statement });
  };
  for (const [id, p] of Object.entries(template.findResources('AWS::IAM::Policy'))) push(id, p['Properties']['PolicyDocument']);
  for (const [id, p] of Object.entries(template.findResources('AWS::IAM::ManagedPolicy'))) push(id, p['Properties']['PolicyDocument']);
  for (const [id, r] of Object.entries(template.findResources('AWS::IAM::Role'))) {
    for (const p of (r['Properties']['Policies'] ?? []) as Array<{ PolicyDocument: { Statement: Statement[] } }>) push(id, p.PolicyDocument);
  }
  return out;
}

/** `x` as a list. */
export function list<T>(x: T | T[]): T[] {
  return Array.isArray(x) ? x : [x];
}
