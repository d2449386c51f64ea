/**
 * concurrency-no-stuck-state: after a partition is loaded, two forced executions of it
 * started at once, and a third forced one stopped (StopExecution) while its load
 * transaction runs. Afterwards: no forklift table holds an in-progress state (there is
 * none by design: statuses are loaded | skipped | failed), no duplicate rows, and a fresh
 * forced run of the partition loads normally.
 */
import { StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { exampleConfig, hourAt, isCopy, scalar, startBenchPipeline, visitsPartition, type Figures, type Scenario } from '../lib';
import type { LocalPipeline } from '../../local/pipeline';

const ROWS = 5_000;
const PARTITION = '2026-11-20T05';

async function start(p: LocalPipeline, name: string): Promise<string> {
  const started = await p.stack.stepFunctions.client.send(
    new StartExecutionCommand({ stateMachineArn: p.stateMachineArn, name, input: JSON.stringify({ table: 'visits', date: PARTITION, force: true }) }),
  );
  return started.executionArn!;
}

async function outcome(p: LocalPipeline, arn: string): Promise<string> {
  await p.stack.stepFunctions.server.waitForExecution(arn);
  const e = (await p.executions()).find((x) => x.executionArn === arn)!;
  return `${e.status}${e.output?.['status'] ? `/${String(e.output['status'])}` : ''}`;
}

export const scenario: Scenario = {
  name: 'concurrency-no-stuck-state',
  description: `a loaded partition (${ROWS} rows), 2 forced executions at once + 1 stopped mid-load, then a fresh forced run`,
  defaultRuns: 3,
  async run(): Promise<Figures> {
    const bench = await startBenchPipeline(exampleConfig());
    try {
      const p = bench.pipeline;
      const server = p.stack.redshiftData.server;
      await p.put(visitsPartition({ partitionHour: hourAt(5), rows: ROWS, files: 3, firstId: 1 }));
      await p.settle();

      // Two forced executions of the same partition at once.
      const [a, b] = await Promise.all([start(p, 'bench-force-a'), start(p, 'bench-force-b')]);
      const raced = await Promise.all([outcome(p, a), outcome(p, b)]);

      // A third one, stopped as soon as its load transaction (the batch with the COPY) starts running.
      let stopAt: Promise<unknown> | undefined;
      let killArn = '';
      let stoppedWhile = '';
      const off = server.onStatement((record, sub) => {
        if (!sub && record.status === 'STARTED' && !stopAt && record.subStatements.some((s) => isCopy(s.sql))) {
          stoppedWhile = record.status;
          stopAt = p.stack.stepFunctions.client.send(new StopExecutionCommand({ executionArn: killArn, error: 'Bench.Killed', cause: 'stopped mid-load' }));
        }
      });
      killArn = await start(p, 'bench-killed');
      const killed = await outcome(p, killArn);
      await stopAt;
      off();
      await p.settle();
      // The stopped execution's Data API statement is not cancelled (as on AWS): it commits or rolls back as a whole.
      const killedLoadRow = (await server.query<{ status: string }>("SELECT status FROM forklift.loads WHERE load_id = 'bench-killed'"))[0]?.status ?? 'none';

      // Any in-progress state left in the audit schema?
      const statusTables = await server.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = 'forklift' AND column_name = 'status'",
      );
      const statuses: string[] = [];
      for (const t of statusTables) {
        const rows = await server.query<{ status: string; n: unknown }>(`SELECT status, COUNT(*) AS n FROM forklift.${t.table_name} GROUP BY 1 ORDER BY 1`);
        statuses.push(...rows.map((r) => `${t.table_name}.${r.status}=${Number(r.n)}`));
      }
      const notFinal = await scalar(p, "SELECT COUNT(*) FROM forklift.loads WHERE status NOT IN ('loaded', 'skipped', 'failed')");
      const forkliftTables = (await server.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'forklift' ORDER BY 1",
      )).map((r) => r.table_name);

      // A fresh forced run of the partition.
      const fresh = await outcome(p, await start(p, 'bench-fresh'));
      const [dups] = await server.query<{ n: unknown; ids: unknown }>('SELECT COUNT(*) AS n, COUNT(DISTINCT visit_id) AS ids FROM events.visits');
      const hourlyVisits = await scalar(p, 'SELECT SUM(visits) FROM facts.visits_hourly');

      return {
        raced_outcomes: raced.sort().join(' + '),
        killed_execution: killed,
        killed_stopped_while_load_batch: stoppedWhile,
        killed_load_row: killedLoadRow,
        forklift_tables: forkliftTables.join(','),
        forklift_statuses: statuses.join(' '),
        rows_not_loaded_skipped_failed: notFinal,
        fresh_run: fresh,
        rows: Number(dups?.n),
        duplicate_rows: Number(dups?.n) - Number(dups?.ids),
        facts_hourly_visits_equals_rows: hourlyVisits === Number(dups?.n),
      };
    } finally {
      await bench.stop();
    }
  },
};
