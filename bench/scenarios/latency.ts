/**
 * latency: how long after its files land a partition is queryable. The example config on a
 * fresh stack (default waitScale 0.05: a 2 s poll waits 100 ms), one hourly partition put at
 * once: small (100 rows, 1 gzip file) and large (100,000 rows, 4 gzip files). From the last
 * PutObject returned (t0) to:
 * - the execution's start (the S3 event, the discover batching window, discover's reads);
 * - the raw rows committed (the last load batch FINISHED, as the local Data API stamps it);
 * - the aggregates committed (the last aggregate batch FINISHED);
 * - the execution's stop.
 * Plus the gaps the state machine adds: load batch finished → aggregate batch submitted (poll
 * lag + outcome read), aggregate batch finished → execution stopped (poll lag + report); and
 * what AWS bills per load (BENCHMARKS.md, cost): states entered, Data API calls by action,
 * Lambda invocations and their in-process durations (no network: a floor for AWS).
 */
import type { StatementRecord } from '../../local/redshift-data/statements';
import { exampleConfig, hourAt, isCopy, recordFinished, round, scalar, startBenchPipeline, statesEntered, visitsPartition, type Figures, type Scenario } from '../lib';

const SIZES = { small: { rows: 100, files: 1 }, large: { rows: 100_000, files: 4 } } as const;

async function measure(size: keyof typeof SIZES): Promise<Figures> {
  const { rows, files } = SIZES[size];
  const bench = await startBenchPipeline(exampleConfig());
  try {
    const p = bench.pipeline;
    const objects = visitsPartition({ partitionHour: hourAt(5), rows, files, firstId: 1 });
    const finished = recordFinished(p);
    await p.put(objects);
    const t0 = Date.now();
    await p.settle();
    finished.stop();
    const executions = await p.executions();
    if (executions.some((e) => e.status !== 'SUCCEEDED')) throw new Error(`execution failed: ${JSON.stringify(executions.map((e) => e.cause))}`);
    const loaded = await scalar(p, 'SELECT COUNT(*) FROM events.visits');
    if (loaded !== rows) throw new Error(`loaded ${loaded} rows, expected ${rows}`);
    const loads = finished.records.filter((r) => r.subStatements.some((s) => isCopy(s.sql)));
    const aggs = finished.records.filter((r) => r.subStatements.some((s) => /^INSERT INTO\s+"facts"\./.test(s.sql)));
    const last = (rs: StatementRecord[]) => rs.reduce((a, r) => (r.updatedAt.getTime() > a.updatedAt.getTime() ? r : a));
    const lastLoad = last(loads);
    const lastAgg = last(aggs);
    const calls = executions.flatMap((e) => p.stack.stepFunctions.server.executionStats(e.executionArn).taskCalls);
    const lambdaMs = (name: string) =>
      calls.filter((c) => c.resource.endsWith(`:function:forklift-${name}`)).reduce((n, c) => n + ((c.endedAt?.getTime() ?? 0) - c.startedAt.getTime()), 0);
    let states = 0;
    for (const e of executions) states += await statesEntered(p, e.executionArn);
    const start = Math.min(...executions.map((e) => e.startDate!.getTime()));
    const stop = Math.max(...executions.map((e) => e.stopDate!.getTime()));
    return {
      executions: executions.length,
      put_to_execution_start_ms: start - t0,
      put_to_rows_queryable_ms: lastLoad.updatedAt.getTime() - t0,
      put_to_aggregates_queryable_ms: lastAgg.updatedAt.getTime() - t0,
      put_to_execution_stop_ms: stop - t0,
      load_batch_ms: round(lastLoad.durationNs / 1e6),
      // Declarative aggregates run in the load's batch: then there is no batch or gap of their own.
      aggregates_in_load_batch: lastAgg === lastLoad ? 'yes' : 'no',
      ...(lastAgg === lastLoad
        ? {}
        : {
            aggregate_batch_ms: round(lastAgg.durationNs / 1e6),
            load_finished_to_aggregates_submitted_ms: lastAgg.createdAt.getTime() - lastLoad.updatedAt.getTime(),
          }),
      aggregates_finished_to_execution_stop_ms: stop - lastAgg.updatedAt.getTime(),
      states_entered: states,
      data_api_submissions_in_executions: calls.filter((c) => c.action === 'executeStatement' || c.action === 'batchExecuteStatement').length,
      describe_statement_calls: calls.filter((c) => c.action === 'describeStatement').length,
      get_statement_result_calls: calls.filter((c) => c.action === 'getStatementResult').length,
      data_api_submissions_total: p.stack.redshiftData.server.stats.submissions,
      discover_invocations: bench.discoverInvocations(),
      lambda_task_calls: calls.filter((c) => c.resource.includes(':function:')).length,
      prepare_ms: lambdaMs('prepare'),
      report_ms: lambdaMs('report'),
    };
  } finally {
    await bench.stop();
  }
}

export const scenario: Scenario = {
  name: 'latency',
  description: `example config, one partition put at once, small (${SIZES.small.rows} rows) and large (${SIZES.large.rows.toLocaleString('en-US')} rows in ${SIZES.large.files} files): S3 put → queryable`,
  defaultRuns: 3,
  async run() {
    const out: Figures = {};
    for (const size of Object.keys(SIZES) as Array<keyof typeof SIZES>) {
      for (const [k, v] of Object.entries(await measure(size))) out[`${size} ${k}`] = v;
    }
    return out;
  },
};
