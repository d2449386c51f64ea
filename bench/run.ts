/**
 * `npm run bench` runs every scenario (each a few times, on a fresh local stack per run),
 * prints a table of medians and writes bench/results.json.
 * `npm run bench -- --only <name>` runs one; `--runs <n>` overrides the run count.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { UsageError } from '../cli/errors';
import { positiveInteger } from '../cli/options';
import { median, type Figures, type Scenario } from './lib';
import { scenario as burst } from './scenarios/burst-1000';
import { scenario as concurrency } from './scenarios/concurrency-no-stuck-state';
import { scenario as history } from './scenarios/history';
import { scenario as lateHour } from './scenarios/late-hour';
import { scenario as latency } from './scenarios/latency';
import { scenario as normalLoad } from './scenarios/normal-load';
import { scenario as polling } from './scenarios/polling';
import { scenario as scale } from './scenarios/scale';
import { scenario as soak } from './scenarios/soak';

const SCENARIOS: Scenario[] = [normalLoad, lateHour, burst, concurrency, polling, scale, history, latency, soak];


interface ScenarioResult {
  name: string;
  description: string;
  command: string;
  runs: number;
  median: Figures;
  all: Figures[];
}

/** Numbers: the median; anything else: the value if every run agrees, else the values joined. */
function summarize(runs: Figures[]): Figures {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r)))];
  const out: Figures = {};
  for (const key of keys) {
    const values = runs.map((r) => r[key]).filter((v) => v !== undefined);
    if (values.every((v) => typeof v === 'number')) out[key] = median(values as number[]);
    else out[key] = [...new Set(values.map(String))].join(' | ');
  }
  return out;
}

async function main(): Promise<void> {
  const { only, runs: runsArg } = new Command('bench')
    .addOption(new Option('--only <scenario>', 'run one scenario').choices(SCENARIOS.map((s) => s.name)))
    .option('--runs <n>', "runs per scenario (default: the scenario's own)", (text: string) => positiveInteger(text, '--runs'))
    .parse()
    .opts<{ only?: string; runs?: number }>();
  const selected = only ? SCENARIOS.filter((s) => s.name === only) : SCENARIOS;
  const machine = {
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
  const results: ScenarioResult[] = [];
  for (const scenario of selected) {
    const runs = runsArg ?? scenario.defaultRuns;
    const all: Figures[] = [];
    for (let i = 0; i < runs; i++) {
      const started = Date.now();
      const figures = await scenario.run();
      all.push(figures);
      console.error(`${scenario.name} run ${i + 1}/${runs} (${((Date.now() - started) / 1000).toFixed(1)} s): ${JSON.stringify(figures)}`);
    }
    results.push({
      name: scenario.name,
      description: scenario.description,
      command: `npm run bench -- --only ${scenario.name}${runsArg !== undefined ? ` --runs ${runsArg}` : ''}`,
      runs,
      median: summarize(all),
      all,
    });
  }

  console.log(`\nmachine: ${machine.nproc} cores (${machine.cpu}), ${machine.memoryGiB} GiB, node ${machine.node}, ${machine.platform}`);
  for (const r of results) {
    console.log(`\n${r.name}: ${r.description} (median of ${r.runs} runs)`);
    const width = Math.max(...Object.keys(r.median).map((k) => k.length));
    for (const [k, v] of Object.entries(r.median)) console.log(`  ${k.padEnd(width)}  ${v}`);
  }

  const file = join(__dirname, 'results.json');
  // Merge with an earlier file so `--only` updates one scenario.
  let previous: { scenarios?: ScenarioResult[] } = {};
  try {
    previous = JSON.parse(readFileSync(file, 'utf8')) as typeof previous;
  } catch {
    previous = {};
  }
  const merged = new Map((previous.scenarios ?? []).map((s) => [s.name, s]));
  for (const r of results) merged.set(r.name, r);
  const order = SCENARIOS.map((s) => s.name);
  writeFileSync(
    file,
    JSON.stringify(
      { machine, updatedAt: new Date().toISOString(), scenarios: [...merged.values()].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name)) },
      null,
      2,
    ) + '\n',
  );
  console.log(`\nwrote ${file}`);
}

main().catch((error: unknown) => {
  // A bad option is the user's to fix: its message, not a stack.
  console.error(error instanceof UsageError ? error.message : error);
  process.exit(1);
});
