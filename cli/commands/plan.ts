/**
 * `forklift plan --table T [--date D] [--force] [--truncate]`: the SQL a load would run,
 * planned by the same core Prepare uses (functions/core/plan.ts), without running it:
 * it lists S3 and reads the warehouse state (one SELECT, no DDL), writes nothing, and
 * shows the manifest it would write.
 */
import type { Command } from 'commander';
import { listObjects } from '../../functions/adapters/s3';
import { query, readAdoptedData, stateFor, warehouseTarget, type Warehouse } from '../../functions/adapters/warehouse';
import type { ForkliftConfig } from '../../functions/core/config/schema';
import { isoSecond, parseDateArgument } from '../../functions/core/dates';
import { StatementFailedError } from '../../functions/core/errors';
import { previewAggregateBatches } from '../../functions/core/aggregateRun';
import { executionName } from '../../functions/core/names';
import { choosePartition, listingPrefix, planLoad } from '../../functions/core/plan';
import { parseWarehouseState, renderWarehouseStateBatch, STATE_COLUMNS_STATEMENT, STATE_FILES_STATEMENT, STATE_GROUPS_STATEMENT, STATE_LEDGER_STATEMENT } from '../../functions/core/sql/state';
import type { LoadInput, WarehouseState } from '../../functions/core/types';
import type { CommandContext } from '../context';
import { ExitCode } from '../errors';
import { formatBytes, println } from '../format';

/** Options of `plan`. */
interface PlanOptions {
  table: string;
  date?: string;
  force?: boolean;
  truncate?: boolean;
}

/** Register the command. */
export function registerPlan(program: Command, ctx: CommandContext, done: (code: number) => void): void {
  program
    .command('plan')
    .description('print the SQL a load would run (both transactions), without running or writing anything')
    .requiredOption('--table <table>', 'table to plan')
    .option('--date <date>', 'partition: 2026-11-20, 2026-11-20T13 or ISO 8601 (default: the latest)')
    .option('--force', 'plan a load even if the rules would skip it')
    .option('--truncate', 'plan a snapshot load (replace the whole table)')
    .action(async (options: PlanOptions) => {
      const out = (line = '') => println(ctx.io.stdout, line);
      const input: LoadInput = { table: options.table, force: options.force === true, truncate: options.truncate === true };
      if (options.date !== undefined) input.date = isoSecond(parseDateArgument(options.date));
      const target = await ctx.target();
      const { config } = target;
      const now = ctx.now();
      const listing = await listObjects(target.s3, config.landing.bucketName, listingPrefix(config, input));
      const choice = choosePartition(config, input, listing, now);
      const state = choice.kind === 'wait' ? { partitionLoaded: false } : await readStateOnly(target.warehouse, config, choice.table, choice.partition.date);
      const loadId = executionName(choice.table, choice.partition.date);
      const { plan, manifest, preStatements } = planLoad({
        config,
        input,
        loadId,
        startedAt: now,
        now,
        listing,
        state,
        target: warehouseTarget(config.warehouse),
      });

      out(`plan: ${plan.table} partition ${plan.partitionDate ? isoSecond(new Date(plan.partitionDate)) : '-'} (${plan.partitionKey ?? '-'})`);
      out(`  action: ${plan.action}: ${plan.reason}`);
      out(`  files:  ${plan.files ?? 0} (${formatBytes(plan.bytes ?? 0)})${plan.mode ? `   mode: ${plan.mode}` : ''}`);
      out(`  load id: ${loadId} (reload adds a run id to it)`);
      if (plan.action !== 'load') {
        out();
        out(plan.action === 'skip' ? 'nothing would run (use --force to plan a reload)' : `nothing would run yet: Prepare would wait ${plan.waitSeconds ?? 0}s`);
        return done(ExitCode.Ok);
      }
      if (manifest) {
        out();
        out(`manifest (not written): s3://${config.landing.bucketName}/${manifest.key}`);
        out(indent(JSON.stringify(JSON.parse(manifest.body) as unknown, null, 2), 2));
      }
      if (preStatements.length) {
        out();
        out(`before the load, each on its own (${preStatements.length}):`);
        printNumbered(out, preStatements);
      }
      out();
      out(`load transaction (${plan.loadRequest?.Sqls.length ?? 0} statements, one BatchExecuteStatement):`);
      printNumbered(out, plan.loadRequest?.Sqls ?? []);
      if (plan.aggregates?.length && plan.partitionDate) {
        // Planned after the load commits, from the pending hours; previewed here for the partition's own hour.
        const batches = previewAggregateBatches(config, plan.aggregates, [new Date(plan.partitionDate)]);
        batches.forEach((sqls, i) => {
          out();
          out(`aggregate transaction ${i + 1} of ${batches.length} (${sqls.length} statements, after a successful load; previewed for the partition's hour):`);
          printNumbered(out, sqls);
        });
      }
      done(ExitCode.Ok);
    });
}

/**
 * The warehouse state of one partition from the state batch's SELECT alone: the batch's audit
 * DDL would write, and before the first load the audit table does not exist (= nothing loaded).
 */
async function readStateOnly(warehouse: Warehouse, config: ForkliftConfig, table: string, date: Date): Promise<WarehouseState> {
  const sqls = renderWarehouseStateBatch(config, [{ table, candidates: [date] }]);
  const rows = await query(warehouse, sqls[STATE_COLUMNS_STATEMENT - 1]!);
  rows.push(...(await query(warehouse, sqls[STATE_GROUPS_STATEMENT - 1]!)));
  try {
    rows.push(...(await query(warehouse, sqls[STATE_LEDGER_STATEMENT - 1]!)));
    rows.push(...(await query(warehouse, sqls[STATE_FILES_STATEMENT - 1]!)));
  } catch (err) {
    if (!(err instanceof StatementFailedError && /does not exist/i.test(err.message))) throw err;
  }
  const states = parseWarehouseState(rows, [table]);
  await readAdoptedData(warehouse, config, states);
  return stateFor(states.get(table), date);
}

function printNumbered(out: (line?: string) => void, sqls: readonly string[]): void {
  const width = String(sqls.length).length;
  sqls.forEach((sql, i) => {
    const [first, ...rest] = sql.split('\n');
    out(`  ${String(i + 1).padStart(width)}. ${first ?? ''}`);
    for (const line of rest) out(`  ${' '.repeat(width + 2)}${line}`);
  });
}

function indent(text: string, spaces: number): string {
  return text
    .split('\n')
    .map((l) => ' '.repeat(spaces) + l)
    .join('\n');
}
