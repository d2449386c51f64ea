/**
 * `npm run bundle-report [-- --runs <n>]`: each function bundle's size and import time
 * against a naive reference bundle of the three SDK clients the functions use.
 *
 * - The reference: an entry that imports S3Client, SFNClient and RedshiftDataClient and
 *   constructs them in an exported function, bundled with esbuild's plain Node settings
 *   (bundle, platform node, cjs, minify, the same target): what a handler that uses the clients
 *   gets without the settings of infra/bundling.ts.
 * - Each function: built as `npm run build` and the CDK stack build it (infra/bundling.ts), and
 *   with the reference's plain settings ("plain"), to show what the settings change.
 * - Import time: a fresh `node` per run, `require` of the bundle timed in-process (wall clock
 *   and the process's CPU time, which a busy machine disturbs less); the files are interleaved
 *   run by run; medians. Handlers are lazy, so importing runs no handler code.
 * Prints a Markdown table (BENCHMARKS.md) and writes bench/bundles.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { build, type BuildOptions } from 'esbuild';
import { UsageError } from '../cli/errors';
import { positiveInteger } from '../cli/options';
import { FUNCTIONS } from '../functions/core/metricNames';
import { BUNDLE_TARGET, functionBuildOptions, functionEntry } from '../infra/bundling';

const ROOT = resolve(__dirname, '..');

const REFERENCE_ENTRY = `import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
export const clients = () => [new S3Client({}), new SFNClient({}), new RedshiftDataClient({})];
`;

/** esbuild's plain Node settings. */
const PLAIN: BuildOptions = { bundle: true, platform: 'node', target: BUNDLE_TARGET, format: 'cjs', minify: true, legalComments: 'none' };

interface Measured {
  bytes: number;
  bowser: boolean;
  smithyCoreBytes: number;
  wallMs: number[];
  cpuMs: number[];
}

async function bundle(options: BuildOptions): Promise<Omit<Measured, 'wallMs' | 'cpuMs'>> {
  const result = await build({ ...options, sourcemap: false, metafile: true, logLevel: 'error' });
  const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined || o.bytes > 0)!;
  const inputs = Object.entries(output.inputs);
  return {
    bytes: output.bytes,
    bowser: inputs.some(([path, i]) => path.includes('node_modules/bowser/') && i.bytesInOutput > 0),
    smithyCoreBytes: inputs.filter(([path]) => path.includes('node_modules/@smithy/core/')).reduce((n, [, i]) => n + i.bytesInOutput, 0),
  };
}

/** One fresh node: [wall ms, CPU ms] of requiring `file`. */
function importOnce(file: string): [number, number] {
  const script =
    'const c=process.cpuUsage(),t=process.hrtime.bigint();' +
    `require(${JSON.stringify(file)});` +
    'const u=process.cpuUsage(c);' +
    'process.stdout.write(JSON.stringify([Number(process.hrtime.bigint()-t)/1e6,(u.user+u.system)/1e3]))';
  // The SDK's Node version notice is not part of what we measure.
  const out = execFileSync(process.execPath, ['--no-warnings', '-e', script], { cwd: tmpdir(), encoding: 'utf8' });
  return JSON.parse(out) as [number, number];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}


async function main(): Promise<void> {
  const { runs } = new Command('bundle-report')
    .option('--runs <n>', 'imports of each bundle; the median is reported', (text: string) => positiveInteger(text, '--runs'), 15)
    .parse()
    .opts<{ runs: number }>();
  const dir = mkdtempSync(join(tmpdir(), 'forklift-bundles-'));
  try {
    const files: Record<string, string> = {};
    const measured: Record<string, Measured> = {};
    const add = async (key: string, options: BuildOptions) => {
      files[key] = join(dir, `${key}.js`);
      measured[key] = { ...(await bundle({ ...options, outfile: files[key] })), wallMs: [], cpuMs: [] };
    };
    await add('reference', { ...PLAIN, stdin: { contents: REFERENCE_ENTRY, resolveDir: ROOT, loader: 'ts', sourcefile: 'reference.ts' } });
    for (const name of FUNCTIONS) {
      await add(name, functionBuildOptions(name, ''));
      await add(`${name} (plain)`, { ...PLAIN, entryPoints: [functionEntry(name)] });
    }
    for (let i = 0; i < runs; i++) {
      for (const key of Object.keys(files)) {
        const [wall, cpu] = importOnce(files[key]!);
        measured[key]!.wallMs.push(wall);
        measured[key]!.cpuMs.push(cpu);
      }
    }
    const ref = measured['reference']!;
    const refWall = median(ref.wallMs);
    const refCpu = median(ref.cpuMs);
    const kib = (b: number) => (b / 1024).toFixed(0);
    const rows = Object.entries(measured).map(([key, m]) => ({
      bundle: key,
      kib: Number(kib(m.bytes)),
      sizeRatio: Number((m.bytes / ref.bytes).toFixed(2)),
      importWallMs: Number(median(m.wallMs).toFixed(1)),
      importCpuMs: Number(median(m.cpuMs).toFixed(1)),
      wallRatio: Number((median(m.wallMs) / refWall).toFixed(2)),
      cpuRatio: Number((median(m.cpuMs) / refCpu).toFixed(2)),
      bowser: m.bowser,
      smithyCoreKiB: Number(kib(m.smithyCoreBytes)),
    }));
    const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}`;
    console.log(`\nmachine: ${machine}; ${runs} imports per bundle, medians; ratios against the reference\n`);
    console.log('| bundle | size | size / ref | import (wall) | wall / ref | import (CPU) | CPU / ref | bowser | @smithy/core |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of rows) {
      console.log(
        `| ${r.bundle} | ${r.kib} KiB | ${r.sizeRatio} | ${r.importWallMs} ms | ${r.wallRatio} | ${r.importCpuMs} ms | ${r.cpuRatio} | ${r.bowser ? 'yes' : 'no'} | ${r.smithyCoreKiB} KiB |`,
      );
    }
    const out = join(ROOT, 'bench', 'bundles.json');
    writeFileSync(out, JSON.stringify({ machine, runs, measuredAt: new Date().toISOString(), rows, all: measured }, null, 2) + '\n');
    console.log(`\nwrote ${out}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  // A bad option is the user's to fix: its message, not a stack.
  console.error(error instanceof UsageError ? error.message : error);
  process.exit(1);
});
