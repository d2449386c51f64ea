/**
 * How a Lambda function is bundled: one set of esbuild settings for the CDK stack
 * (infra/functions.ts, through scripts/bundle.ts), `npm run build` (scripts/bundle.ts) and the
 * bundle report (scripts/bundle-report.ts). No aws-cdk-lib import here, so the scripts stay light.
 *
 * Why these settings (measured by `npm run bundle-report`, BENCHMARKS.md "Function bundles"):
 * - `mainFields: module, main`. With esbuild's node default (`main` first) every SDK package
 *   resolves to its CommonJS build, while packages with an `exports` map resolve through the
 *   `module` condition to their ES build. A CommonJS `require('@aws-sdk/core/client')` of that
 *   ES barrel keeps the whole barrel, including the browser user-agent code and `bowser`, and
 *   nothing of the CommonJS builds can be tree-shaken (~all of `@smithy/core`). ES builds
 *   throughout let esbuild drop what the code does not use.
 * - `@aws-sdk/credential-provider-node` aliased to functions/runtime/lambdaCredentials.ts: on
 *   Lambda the role's credentials are in the environment; the rest of the default chain (SSO,
 *   INI, process, web identity, IMDS/ECS and the nested STS/SSO clients) never runs there.
 * - `@smithy/core/event-streams` aliased to functions/runtime/noEventStreams.ts: only S3's
 *   SelectObjectContent streams events, and no function calls it (~15 KiB per S3 bundle).
 * - The clients' schema modules with literal keys ({@link sdkSchemaLiteralKeys}): the generated
 *   schemas write trait objects with computed keys (`{ [_hH]: _xarc }`, `_hH = "httpHeader"`),
 *   which esbuild must assume have side effects, so it keeps the schema of every operation of
 *   every client (66 KiB of S3 alone). With the same keys as string literals the schemas are
 *   plain data and only those of the operations a function sends stay.
 * The SDK stays bundled (not left to the runtime's copy): the versions package-lock.json pins.
 * The plugin needs esbuild's JS API: the CDK stack bundles through scripts/bundle.ts too.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { BuildOptions, Plugin } from 'esbuild';

/** The repository root. */
const ROOT = resolve(__dirname, '..');

/** esbuild target matching the functions' runtime (infra/functions.ts RUNTIME, Node.js 24). */
export const BUNDLE_TARGET = 'node24';

/** ES builds first (see above). */
export const BUNDLE_MAIN_FIELDS = ['module', 'main'];

/** Package → replacement file, for every function bundle. */
export const BUNDLE_ALIASES: Record<string, string> = {
  '@aws-sdk/credential-provider-node': join(ROOT, 'functions', 'runtime', 'lambdaCredentials.ts'),
  '@smithy/core/event-streams': join(ROOT, 'functions', 'runtime', 'noEventStreams.ts'),
};

/** A generated client's schema module: @aws-sdk/client-<name>/dist-es/schemas/schemas_<n>.js. */
const SCHEMA_MODULE = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/;

/**
 * `source` with every object key `[_name]:` written as the string literal its top-level
 * `const _name = "...";` holds: the same objects, but side-effect free for tree shaking.
 * Only keys in object position (after `{` or `,`) and names bound to one string literal change.
 */
export function literalSchemaKeys(source: string): string {
  const strings = new Map<string, string>();
  for (const m of source.matchAll(/^const (\w+) = ("(?:[^"\\\n]|\\.)*");$/gm)) strings.set(m[1]!, m[2]!);
  return source.replace(/([{,]\s*)\[(\w+)\]:/g, (all, before: string, name: string) => {
    const literal = strings.get(name);
    return literal === undefined ? all : `${before}${literal}:`;
  });
}

/** esbuild plugin: {@link literalSchemaKeys} on the SDK clients' schema modules. */
export const sdkSchemaLiteralKeys: Plugin = {
  name: 'sdk-schema-literal-keys',
  setup(build) {
    build.onLoad({ filter: SCHEMA_MODULE }, async (args) => ({ contents: literalSchemaKeys(await readFile(args.path, 'utf8')), loader: 'js' }));
  },
};

/** The handler of a function: functions/<name>/handler.ts. */
export const functionEntry = (name: string): string => join(ROOT, 'functions', name, 'handler.ts');

/** esbuild build options of one function bundle (`entry` defaults to the function's handler). */
export function functionBuildOptions(name: string, outfile: string, entry: string = functionEntry(name)): BuildOptions & { outfile: string } {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node' as const,
    target: BUNDLE_TARGET,
    format: 'cjs' as const,
    minify: true,
    treeShaking: true,
    sourcemap: true,
    legalComments: 'none' as const,
    mainFields: BUNDLE_MAIN_FIELDS,
    alias: BUNDLE_ALIASES,
    plugins: [sdkSchemaLiteralKeys],
  };
}
