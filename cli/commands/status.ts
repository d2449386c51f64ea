/**
 * `forklift status [--table T] [--limit 20]`: recent loads from the audit table, running
 * and failed executions (ListExecutions), and each table's data lag against its
 * freshnessSlaMinutes (OK / LATE / NO DATA), and the pending aggregate work with its age.
 */
import { DescribeExecutionCommand, ListExecutionsCommand, type ExecutionListItem, type ExecutionStatus } from '@aws-sdk/client-sfn';
import type { Command } from 'commander';
import { query, type Row, type Warehouse } from '../../functions/adapters/warehouse';
import { ForkliftError, StatementFailedError } from '../../functions/core/errors';
import { aggregatesFedBy, parsePending, renderPendingQuery, summarizePending } from '../../functions/core/sql/aggregate';
import { parseTimestamp } from '../../functions/core/sql/state';
import { auditOwner } from '../../functions/core/sql/audit';
import { renderFreshness, renderRecentLoads } from '../../functions/core/sql/status';
import { dataLagMinutes } from '../../functions/report/handler';
import type { CommandContext } from '../context';
import { ExitCode, UsageError } from '../errors';
import { formatDate, formatMinutes, formatSeconds, println, renderTable, truncate } from '../format';
import type { Target } from '../target';

interface StatusOptions {
  table?: string;
  limit: string;
}

/** Register the command. */
export function registerStatus(program: Command, ctx: CommandContext, done: (code: number) => void): void {
  program
    .command('status')
    .description('recent loads, running and failed executions, and each table\'s data lag')
    .option('--table <table>', 'only this table')
    .option('--limit <n>', 'rows of recent loads and executions', '20')
    .action(async (options: StatusOptions) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive integer, not '${options.limit}'`);
      const target = await ctx.target();
      const { config } = target;
      if (options.table !== undefined && !config.tables[options.table]) {
        throw new ForkliftError(`unknown table '${options.table}'; the config has ${Object.keys(config.tables).map((n) => `'${n}'`).join(', ')}`);
      }
      const out = (line = '') => println(ctx.io.stdout, line);
      const tables = options.table !== undefined ? [options.table] : Object.keys(config.tables);

      const loads = await auditRows(target.warehouse, renderRecentLoads(config, { limit, ...(options.table !== undefined ? { table: options.table } : {}) }));
      out(`recent loads${options.table !== undefined ? ` of ${options.table}` : ''}:`);
      if (loads.length === 0) out('  none');
      else {
        out(
          renderTable(
            ['started', 'table', 'partition', 'status', 'rows', 'files', 'took', 'reason / error'],
            loads.map((r) => {
              const [, table, partition, , , status, reason, files, rows, started, finished, error] = r;
              const s = parseTimestamp(started ?? null);
              const f = parseTimestamp(finished ?? null);
              return [
                formatDate(s),
                auditOwner(config, String(table)) ?? String(table),
                formatDate(parseTimestamp(partition ?? null)),
                String(status),
                rows === null ? '-' : String(rows),
                files === null ? '-' : String(files),
                s && f ? formatSeconds((f.getTime() - s.getTime()) / 1000) : '-',
                truncate(String(status === 'failed' ? (error ?? reason ?? '') : (reason ?? '')), 90),
              ];
            }),
          ),
        );
      }

      out();
      const running = await listExecutions(target, 'RUNNING', limit);
      out(running.length === 0 ? 'running executions: none' : 'running executions:');
      if (running.length) out(renderTable(['started', 'execution'], running.map((e) => [formatDate(e.startDate), e.name ?? ''])));
      const failed = (await listExecutions(target, 'FAILED', limit)).filter((e) => options.table === undefined || (e.name ?? '').startsWith(`${options.table}-`));
      out(failed.length === 0 ? 'failed executions: none' : 'failed executions:');
      if (failed.length) {
        const rows = await Promise.all(
          failed.map(async (e) => {
            const d = await target.sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
            return [formatDate(e.stopDate), e.name ?? '', truncate(`${d.error ?? ''}: ${d.cause ?? ''}`, 110)];
          }),
        );
        out(renderTable(['stopped', 'execution', 'cause'], rows));
      }

      out();
      const fresh = await auditRows(target.warehouse, renderFreshness(config, tables));
      const newest = new Map<string, Date>();
      for (const [table, partition] of fresh) {
        const d = parseTimestamp(partition ?? null);
        if (typeof table === 'string' && d) newest.set(table, d);
      }
      const now = ctx.now();
      out('data lag:');
      out(
        renderTable(
          ['table', 'newest partition', 'lag', 'sla', 'state'],
          tables.map((table) => {
            const sla = config.tables[table]!.freshnessSlaMinutes;
            const date = newest.get(table);
            if (!date) return [table, '-', '-', sla === undefined ? '-' : formatMinutes(sla), 'NO DATA'];
            const lag = dataLagMinutes(config, table, date.toISOString(), now) ?? 0;
            const state = sla === undefined ? 'no SLA' : lag > sla ? 'LATE' : 'OK';
            return [table, formatDate(date), formatMinutes(lag), sla === undefined ? '-' : formatMinutes(sla), state];
          }),
        ),
      );

      // Aggregate work of committed loads that no aggregate transaction covered yet (the sweep retries it).
      const aggregates = tables.flatMap((t) => aggregatesFedBy(config, t));
      if (aggregates.length) {
        const pending = summarizePending(config, parsePending(await auditRows(target.warehouse, renderPendingQuery(config, aggregates))));
        out();
        out(pending.length === 0 ? 'pending aggregate work: none' : 'pending aggregate work:');
        if (pending.length) {
          out(
            renderTable(
              ['aggregate', 'table', 'loads', 'hours', 'oldest load', 'age'],
              pending.map((p) => [
                p.aggregate,
                p.table,
                String(p.loads),
                String(p.hours),
                formatDate(p.oldest),
                p.oldest ? formatMinutes(Math.max(0, Math.round((now.getTime() - p.oldest.getTime()) / 60_000))) : '-',
              ]),
            ),
          );
        }
      }
      done(ExitCode.Ok);
    });
}

/** Rows of an audit query; none before the first load created the audit tables. */
async function auditRows(warehouse: Warehouse, sql: string): Promise<Row[]> {
  try {
    return await query(warehouse, sql);
  } catch (err) {
    if (err instanceof StatementFailedError && /does not exist/i.test(err.message)) return [];
    throw err;
  }
}

/** The newest `limit` executions with `status`, newest first. */
async function listExecutions(target: Target, status: ExecutionStatus, limit: number): Promise<ExecutionListItem[]> {
  const page = await target.sfn.send(new ListExecutionsCommand({ stateMachineArn: target.stateMachineArn, statusFilter: status, maxResults: Math.min(1000, limit) }));
  return [...(page.executions ?? [])].sort((a, b) => (b.startDate?.getTime() ?? 0) - (a.startDate?.getTime() ?? 0)).slice(0, limit);
}
