/**
 * `npm run build`: bundles each Lambda handler on its own (small cold starts) into
 * dist/functions/<name>/index.js, with the settings the CDK stack deploys (infra/bundling.ts).
 * `npm run bundle-report` measures them against a naive bundle of the SDK clients.
 */
import { statSync } from 'node:fs';
import { build } from 'esbuild';
import { FUNCTIONS } from '../functions/core/metricNames';
import { functionBuildOptions } from '../infra/bundling';

async function main(): Promise<void> {
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
