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
import { Command, Option } from 'commander';
import { build } from 'esbuild';
import { FUNCTIONS } from '../functions/core/metricNames';
import { functionBuildOptions } from '../infra/bundling';

interface BundleOptions {
  function?: string;
  outdir?: string;
  entry?: string;
}

async function main(): Promise<void> {
  const options = new Command('bundle.ts')
    .addOption(new Option('--function <name>', 'bundle only this function').choices(FUNCTIONS))
    .option('--outdir <dir>', 'where --function writes index.js')
    .option('--entry <file>', "the handler file (default: the function's own)")
    .parse()
    .opts<BundleOptions>();
  if (options.function !== undefined) {
    if (options.outdir === undefined) throw new Error('bundle.ts: --function needs --outdir <dir>');
    await build({ ...functionBuildOptions(options.function, join(options.outdir, 'index.js'), options.entry), logLevel: 'error' });
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
