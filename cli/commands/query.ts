/**
 * `forklift query "SELECT ..."`: run one statement on the warehouse through the Data API (the
 * local stack with --local, no psql needed) and print its rows as a table.
 */
import { GetStatementResultCommand } from '@aws-sdk/client-redshift-data';
import type { Command } from 'commander';
import type { CommandContext } from '../context';
import { ExitCode } from '../errors';
import { println, renderTable } from '../format';

/** Register the command. */
export function registerQuery(program: Command, ctx: CommandContext, done: (code: number) => void): void {
  program
    .command('query')
    .description('run one SQL statement on the warehouse and print its rows as a table')
    .argument('<sql>', 'the statement, in quotes')
    .action(async (sql: string) => {
      const target = await ctx.target();
      const id = await target.warehouse.execute(sql, 'forklift-cli-query');
      const info = await target.warehouse.waitFor(id);
      let columns: string[];
      try {
        const first = await target.redshiftData.send(new GetStatementResultCommand({ Id: id }));
        columns = (first.ColumnMetadata ?? []).map((c, i) => c.name ?? c.label ?? `column${i + 1}`);
      } catch (err) {
        // A statement without a result set (DDL, INSERT...): say what it did.
        if ((err as { name?: string }).name !== 'ResourceNotFoundException' && !/result/i.test((err as Error).message)) throw err;
        println(ctx.io.stdout, `done${info.resultRows !== undefined && info.resultRows >= 0 ? `: ${info.resultRows} rows affected` : ''}`);
        return done(ExitCode.Ok);
      }
      const rows = await target.warehouse.results(id);
      println(ctx.io.stdout, renderTable(columns, rows.map((r) => r.map((v) => (v === null ? '' : String(v))))));
      println(ctx.io.stdout, `(${rows.length} row${rows.length === 1 ? '' : 's'})`);
      done(ExitCode.Ok);
    });
}
