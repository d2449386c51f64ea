/**
 * How a Lambda function is bundled: one set of esbuild settings for the CDK stack
 * (infra/functions.ts, NodejsFunction), `npm run build` (scripts/bundle.ts) and the bundle
 * report (scripts/bundle-report.ts). No aws-cdk-lib import here, so the scripts stay light.
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
 * The SDK stays bundled (not left to the runtime's copy): the versions package-lock.json pins.
 */
import { join, resolve } from 'node:path';

/** The repository root. */
const ROOT = resolve(__dirname, '..');

/** esbuild target matching the functions' runtime (infra/functions.ts RUNTIME, Node.js 24). */
export const BUNDLE_TARGET = 'node24';

/** ES builds first (see above). */
export const BUNDLE_MAIN_FIELDS = ['module', 'main'];

/** Package → replacement file, for every function bundle. */
export const BUNDLE_ALIASES: Record<string, string> = {
  '@aws-sdk/credential-provider-node': join(ROOT, 'functions', 'runtime', 'lambdaCredentials.ts'),
};

/** The same aliases as esbuild CLI arguments (NodejsFunction's `esbuildArgs`). */
export function aliasArgs(): Record<string, string> {
  return Object.fromEntries(Object.entries(BUNDLE_ALIASES).map(([from, to]) => [`--alias:${from}`, to]));
}

/** The handler of a function: functions/<name>/handler.ts. */
export const functionEntry = (name: string): string => join(ROOT, 'functions', name, 'handler.ts');

/** esbuild build options of one function bundle (as NodejsFunction builds it). */
export function functionBuildOptions(name: string, outfile: string) {
  return {
    entryPoints: [functionEntry(name)],
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
  };
}
