// Bundles each Lambda handler on its own (small cold starts): dist/functions/<name>/index.js.
// CDK's NodejsFunction does the same at deploy time; this is for `npm run build` and size checks.
import { build } from 'esbuild';
import { existsSync, statSync } from 'node:fs';

const names = ['discover', 'prepare', 'report', 'record-failure', 'freshness'];
for (const name of names) {
  const entry = `functions/${name}/handler.ts`;
  if (!existsSync(entry)) throw new Error(`missing handler ${entry}`);
  const outfile = `dist/functions/${name}/index.js`;
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    sourcemap: true,
    legalComments: 'none',
  });
  console.log(`${outfile} ${(statSync(outfile).size / 1024).toFixed(0)} KiB`);
}
