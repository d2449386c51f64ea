/**
 * `npm run build`: bundles each Lambda handler on its own (small cold starts) into
 * dist/functions/<name>/index.js, with the settings the CDK stack deploys (infra/bundling.ts).
 * `npm run bundle-report` measures them against a naive bundle of the SDK clients.
 *
 * `tsx scripts/bundle.ts --function <name> --outdir <dir> [--entry <file>]`: one function into
 * <dir>/index.js (+ index.js.map). The CDK stack bundles each function this way
 * (infra/functions.ts): the settings need esbuild's JS API (a plugin), which the esbuild CLI
 * that NodejsFunction runs cannot take.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { FUNCTIONS } from '../functions/core/metricNames';
import { functionBuildOptions } from '../infra/bundling';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const only = arg('function');
  if (only !== undefined) {
    const outdir = arg('outdir');
    if (!(FUNCTIONS as readonly string[]).includes(only) || outdir === undefined) {
      throw new Error(`usage: bundle.ts --function <${FUNCTIONS.join('|')}> --outdir <dir> [--entry <file>] (got --function ${only}, --outdir ${outdir})`);
    }
    await build({ ...functionBuildOptions(only, join(outdir, 'index.js'), arg('entry')), logLevel: 'error' });
    return;
  }
  for (const name of FUNCTIONS) {
    const outfile = `dist/functions/${name}/index.js`;
    await build(functionBuildOptions(name, outfile));
    console.log(`${outfile} ${(statSync(outfile).size / 1024).toFixed(0)} KiB`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
