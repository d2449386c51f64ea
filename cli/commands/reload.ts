/**
 * `forklift reload --table T --date D [--force] [--truncate]`: one execution of the load
 * state machine under a manual name (executionName + run id), waited for; prints the
 * outcome and the per-step lines of Report's summary. Exit 1 when the execution failed.
 */
import type { Command } from 'commander';
import { isoSecond, parseDateArgument } from '../../functions/core/dates';
import { ForkliftError } from '../../functions/core/errors';
import { executionName } from '../../functions/core/names';
import type { LoadInput } from '../../functions/core/types';
import type { CommandContext } from '../context';
import { ExitCode } from '../errors';
import { newRunId, runExecution, type ExecutionOutcome } from '../executions';
import { formatSeconds, formatStep, println } from '../format';

interface ReloadOptions {
  table: string;
  date: string;
  force?: boolean;
  truncate?: boolean;
}

/** Register the command. */
export function registerReload(program: Command, ctx: CommandContext, done: (code: number) => void): void {
  program
    .command('reload')
    .description('load one partition now (one execution, waited for)')
    .requiredOption('--table <table>', 'table to load')
    .requiredOption('--date <date>', 'partition: 2026-11-20, 2026-11-20T13 or ISO 8601')
    .option('--force', 'load even if already loaded or older than the newest (replaces its rows, never duplicates)')
    .option('--truncate', 'replace the whole table with this partition (does not imply --force)')
    .action(async (options: ReloadOptions) => {
      const date = parseDateArgument(options.date);
      const target = await ctx.target();
      if (!target.config.tables[options.table]) {
        throw new ForkliftError(`unknown table '${options.table}'; the config has ${Object.keys(target.config.tables).map((t) => `'${t}'`).join(', ')}`);
      }
      const input: LoadInput = { table: options.table, date: isoSecond(date) };
      if (options.force) input.force = true;
      if (options.truncate) input.truncate = true;
      const name = executionName(options.table, date, newRunId(ctx.now()));
      println(ctx.io.stderr, `started ${name}`);
      const outcome = await runExecution(target, name, input);
      printOutcome((line) => println(ctx.io.stdout, line), outcome);
      done(outcome.status === 'SUCCEEDED' ? ExitCode.Ok : ExitCode.Failed);
    });
}

/** Print one execution's outcome: status line, reason, step lines; or the failure's cause. */
export function printOutcome(out: (line: string) => void, outcome: ExecutionOutcome): void {
  const took = outcome.seconds === undefined ? '' : ` in ${formatSeconds(outcome.seconds)}`;
  if (outcome.status !== 'SUCCEEDED' || !outcome.output) {
    out(`${outcome.name}: ${outcome.status.toLowerCase()}${took}`);
    out(`  error: ${outcome.error ?? 'unknown'}`);
    out(`  cause: ${outcome.cause ?? '-'}`);
    return;
  }
  const s = outcome.output;
  const what = `${s.table ?? '-'} ${s.partitionDate ? isoSecond(new Date(s.partitionDate)) : ''}`.trim();
  if (s.status === 'skipped') {
    out(`${what}: skipped: ${s.reason}`);
  } else {
    out(`${what}: ${s.status}: ${s.rows} rows${s.status === 'loaded' ? ` from ${s.files} file${s.files === 1 ? '' : 's'}` : ''}${took}`);
    out(`  reason: ${s.reason}`);
  }
  for (const step of s.steps) out(`  ${formatStep(step)}`);
  out(`  execution: ${outcome.name}`);
}
