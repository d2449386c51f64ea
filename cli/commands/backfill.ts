/**
 * `forklift backfill (--table T | --tables A,B | --aggregate A | --all-aggregates) (--days-back N | --start-date S [--end-date E])`:
 * for tables, one load execution per existing partition in the range (from the S3 listing,
 * by key date); for aggregates, aggregate-only executions by day (all enabled aggregates in
 * dependency order, one execution a day, with --all-aggregates). Bounded concurrency, a
 * progress bar on a terminal, a summary table, each execution's steps
 * `(kind, name, rows, seconds)`, exit 1 when any execution failed.
 */
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { listObjects } from '../../functions/adapters/s3';
import { aggregateOrder } from '../../functions/core/config/crossChecks';
import type { ForkliftConfig } from '../../functions/core/config/schema';
import { isoSecond, parseDateArgument, truncateDate } from '../../functions/core/dates';
import { ForkliftError } from '../../functions/core/errors';
import { aggregateRunName, executionName } from '../../functions/core/names';
import { groupPartitions } from '../../functions/core/partitions';
import type { LoadInput } from '../../functions/core/types';
import type { CommandContext } from '../context';
import { ExitCode, UsageError } from '../errors';
import { positiveInteger } from '../options';
import { forEachLimited } from '../../functions/core/concurrency';
import { newRunId, runExecution, type ExecutionOutcome } from '../executions';
import { formatStep, println, renderTable, truncate } from '../format';

interface BackfillOptions {
  table?: string;
  tables?: string;
  aggregate?: string;
  allAggregates?: boolean;
  daysBack?: string;
  startDate?: string;
  endDate?: string;
  force?: boolean;
  concurrency: string;
}

/** One execution of the backfill. */
interface Item {
  label: string;
  name: string;
  input: LoadInput;
}

const DAY = 86_400_000;

/** Register the command. */
export function registerBackfill(program: Command, ctx: CommandContext, done: (code: number) => void): void {
  program
    .command('backfill')
    .description('load every partition of a table in a range, or recompute an aggregate by day')
    .option('--table <table>', 'table whose partitions to load')
    .option('--tables <a,b>', 'several tables, comma-separated (all dimensions, say), one after the other')
    .option('--aggregate <aggregate>', 'aggregate to recompute (aggregate-only executions by day)')
    .option('--all-aggregates', 'every enabled aggregate, in dependency order: one aggregate-only execution a day')
    .option('--days-back <n>', 'from 00:00 UTC n days before today, up to now')
    .option('--start-date <date>', 'first partition date (inclusive)')
    .option('--end-date <date>', 'last date: a day (2026-11-20) is included whole; a timestamp is exclusive (default: now)')
    .option('--force', 'load partitions even if already loaded (replaces their rows, never duplicates)')
    .option('--concurrency <n>', 'executions at once', '4')
    .action(async (options: BackfillOptions) => {
      const chosen = [options.table, options.tables, options.aggregate, options.allAggregates].filter((o) => o !== undefined).length;
      if (chosen !== 1) throw new UsageError('give exactly one of --table, --tables, --aggregate or --all-aggregates');
      const range = rangeOf(options, ctx.now());
      const concurrency = positiveInteger(options.concurrency, '--concurrency');
      const target = await ctx.target();
      const { config } = target;
      const runId = newRunId(ctx.now());
      const tables = options.table !== undefined ? [options.table] : options.tables !== undefined ? listOption(options.tables, '--tables') : [];
      const list = (prefix: string) => listObjects(target.s3, config.landing.bucketName, prefix);
      let items: Item[] = [];
      for (const table of tables) items.push(...(await tableItems(config, table, range, options.force === true, runId, list, tables.length > 1)));
      if (options.aggregate !== undefined) items = aggregateItems(config, [options.aggregate], range, runId);
      if (options.allAggregates) {
        const all = aggregateOrder(config).filter((a) => config.aggregates[a]!.enabled);
        if (all.length === 0) throw new ForkliftError('the config has no enabled aggregate');
        items = aggregateItems(config, all, range, runId);
      }
      const what = tables.length
        ? `table${tables.length > 1 ? 's' : ''} ${tables.join(', ')}`
        : options.aggregate !== undefined ? `aggregate ${options.aggregate}` : `all aggregates (${aggregateOrder(config).filter((a) => config.aggregates[a]!.enabled).join(', ')})`;
      println(ctx.io.stdout, `backfill ${what}: ${items.length} execution${items.length === 1 ? '' : 's'} for [${isoSecond(range.start)}, ${isoSecond(range.end)}), ${concurrency} at once`);
      if (items.length === 0) return done(ExitCode.Ok);

      const bar = ctx.io.stderrIsTTY
        ? new SingleBar({ stream: ctx.io.progressStream ?? process.stderr, format: '{bar} {value}/{total} {label}', hideCursor: true, clearOnComplete: true })
        : undefined;
      bar?.start(items.length, 0, { label: '' });
      const outcomes: Array<ExecutionOutcome | undefined> = new Array(items.length);
      await forEachLimited(items, concurrency, async (item, i) => {
        let outcome: ExecutionOutcome;
        try {
          outcome = await runExecution(target, item.name, item.input);
        } catch (err) {
          outcome = { name: item.name, executionArn: '', status: 'NOT_STARTED', error: (err as Error).name, cause: (err as Error).message };
        }
        outcomes[i] = outcome;
        if (bar) bar.increment({ label: `${item.label} ${statusOf(outcome)}` });
        else println(ctx.io.stderr, `${item.label}: ${statusOf(outcome)}`);
      });
      bar?.stop();

      const rows = items.map((item, i) => {
        const o = outcomes[i]!;
        return [item.label, statusOf(o), o.output && o.output.status !== 'skipped' ? String(o.output.rows) : '-', truncate(detailOf(o), 100), item.name];
      });
      println(ctx.io.stdout);
      println(ctx.io.stdout, renderTable(['partition', 'status', 'rows', 'detail', 'execution'], rows));
      const failures = items.map((item, i) => ({ item, o: outcomes[i]! })).filter(({ o }) => o.status !== 'SUCCEEDED');
      const withSteps = items.map((item, i) => ({ item, o: outcomes[i]! })).filter(({ o }) => o.status === 'SUCCEEDED' && o.output && o.output.steps.length > 0);
      if (withSteps.length) {
        println(ctx.io.stdout);
        println(ctx.io.stdout, 'steps:');
        for (const { item, o } of withSteps) for (const step of o.output!.steps) println(ctx.io.stdout, `  ${item.label}  ${formatStep(step)}`);
      }
      if (failures.length) {
        println(ctx.io.stdout);
        println(ctx.io.stdout, 'failures:');
        for (const { item, o } of failures) println(ctx.io.stdout, `  ${item.label} (${item.name}): ${detailOf(o)}`);
      }
      const count = (s: string) => outcomes.filter((o) => o && statusOf(o) === s).length;
      const failed = outcomes.filter((o) => o && o.status !== 'SUCCEEDED').length;
      println(ctx.io.stdout);
      println(
        ctx.io.stdout,
        `${items.length - failed} succeeded (${count('loaded')} loaded, ${count('skipped')} skipped${count('aggregated') ? `, ${count('aggregated')} aggregated` : ''}), ${failed} failed`,
      );
      done(failed === 0 ? ExitCode.Ok : ExitCode.Failed);
    });
}

/** `loaded` / `skipped` / `aggregated` for succeeded executions, else the execution status. */
function statusOf(o: ExecutionOutcome): string {
  if (o.status === 'SUCCEEDED' && o.output) return o.output.status;
  return o.status.toLowerCase();
}

function detailOf(o: ExecutionOutcome): string {
  if (o.status === 'SUCCEEDED' && o.output) return o.output.reason;
  return `${o.error ?? 'failed'}: ${o.cause ?? '-'}`;
}

/** The backfill range [start, end). */
export function rangeOf(options: Pick<BackfillOptions, 'daysBack' | 'startDate' | 'endDate'>, now: Date): { start: Date; end: Date } {
  if ((options.daysBack === undefined) === (options.startDate === undefined)) throw new UsageError('give exactly one of --days-back or --start-date');
  if (options.daysBack !== undefined && options.endDate !== undefined) throw new UsageError('--end-date goes with --start-date, not --days-back');
  if (options.daysBack !== undefined) {
    const days = positiveInteger(options.daysBack, '--days-back', true);
    return { start: new Date(truncateDate(now, 'day').getTime() - days * DAY), end: now };
  }
  const start = parseDateArgument(options.startDate!);
  let end = now;
  if (options.endDate !== undefined) {
    end = parseDateArgument(options.endDate);
    if (/^\d{4}-\d{2}-\d{2}$/.test(options.endDate.trim())) end = new Date(end.getTime() + DAY);
  }
  if (end.getTime() <= start.getTime()) throw new UsageError(`the range is empty: end ${isoSecond(end)} is not after start ${isoSecond(start)}`);
  return { start, end };
}

/** `a,b` → ['a', 'b'] (no empty names). */
function listOption(text: string, option: string): string[] {
  const names = text.split(',').map((n) => n.trim());
  if (names.some((n) => n === '')) throw new UsageError(`${option} takes names separated by commas, not '${text}'`);
  return [...new Set(names)];
}

/** One load per existing partition of `table` whose key date is in the range. */
async function tableItems(
  config: ForkliftConfig,
  table: string,
  range: { start: Date; end: Date },
  force: boolean,
  runId: string,
  list: (prefix: string) => Promise<Array<{ key: string; size: number; lastModified: Date }>>,
  labelTable = false,
): Promise<Item[]> {
  const t = config.tables[table];
  if (!t) throw new ForkliftError(`unknown table '${table}'; the config has ${Object.keys(config.tables).map((n) => `'${n}'`).join(', ')}`);
  const { partitions } = groupPartitions(config, table, await list(t.prefix));
  return partitions
    .filter((p) => p.date.getTime() >= range.start.getTime() && p.date.getTime() < range.end.getTime())
    .filter((p) => p.files.length > 0)
    .map((p) => {
      const input: LoadInput = { table, date: p.date.toISOString() };
      if (force) input.force = true;
      return { label: `${labelTable ? `${table} ` : ''}${isoSecond(p.date)}`, name: executionName(table, p.date, runId), input };
    });
}

/** Aggregate-only executions of `aggregates` (in dependency order), one per whole UTC day covering the range. */
function aggregateItems(config: ForkliftConfig, aggregates: string[], range: { start: Date; end: Date }, runId: string): Item[] {
  for (const aggregate of aggregates) {
    if (!config.aggregates[aggregate]) {
      throw new ForkliftError(`unknown aggregate '${aggregate}'; the config has ${Object.keys(config.aggregates).map((n) => `'${n}'`).join(', ') || 'none'}`);
    }
  }
  const aggregate = aggregates.length === 1 ? aggregates[0]! : 'all-aggregates';
  const items: Item[] = [];
  for (let day = truncateDate(range.start, 'day').getTime(); day < range.end.getTime(); day += DAY) {
    const start = new Date(day);
    const end = new Date(day + DAY);
    items.push({
      label: `${isoSecond(start).slice(0, 10)}`,
      name: aggregateRunName(aggregate, start, end, runId),
      input: { aggregateOnly: true, aggregates, start: start.toISOString(), end: end.toISOString() },
    });
  }
  return items;
}
