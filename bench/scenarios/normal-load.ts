/**
 * normal-load: the example config, one hourly partition of 20,000 rows in 3 gzip JSON
 * files landing, versus a bare COPY of the same rows on the same local stack.
 * Measured twice per run: with the local stack's default waitScale (0.05: a 2 s poll
 * waits 100 ms) and with waitScale 0 (Wait states do not wait).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  batchTimes,
  exampleConfig,
  hourAt,
  isCopy,
  isDataCopy,
  recordFinished,
  round,
  scalar,
  startBenchPipeline,
  statesEntered,
  submitAndWait,
  visitsPartition,
  type Figures,
  type Scenario,
} from '../lib';

export const ROWS = 20_000;
export const FILES = 3;

async function measure(waitScale: number): Promise<Figures> {
  const config = exampleConfig();
  const bench = await startBenchPipeline(config, { waitScale });
  try {
    const p = bench.pipeline;
    const server = p.stack.redshiftData.server;
    const objects = visitsPartition({ partitionHour: hourAt(5), rows: ROWS, files: FILES, firstId: 1 });
    // The bare COPY first once (cold: the stack just started), so the pipeline after it and the
    // bare COPY measured after the pipeline both run on warm code paths.
    const bucket = config.landing.bucketName;
    const manifestKey = 'bench/bare/visits.manifest';
    // Same bytes under bench/ (no table's prefix, so the pipeline ignores them).
    const copies = objects.map((o) => ({ key: `bench/data/${o.key}`, body: o.body }));
    for (const o of copies) await p.stack.s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: o.key, Body: o.body }));
    const manifest = { entries: copies.map((o) => ({ url: `s3://${bucket}/${o.key}`, mandatory: true })) };
    await p.stack.s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: manifestKey, Body: JSON.stringify(manifest) }));
    await p.settle();
    await server.execute('CREATE SCHEMA IF NOT EXISTS bench');
    const bareCopy = async (table: string) => {
      await server.execute(
        `CREATE TABLE bench.${table} (visit_id VARCHAR(36) NOT NULL, visitor_id VARCHAR(36) NOT NULL, campaign_id INTEGER NOT NULL, ` +
          'visited_at TIMESTAMP NOT NULL, duration_ms INTEGER, revenue DECIMAL(12,2))',
      );
      const result = await submitAndWait(p, [
        `COPY bench.${table} FROM 's3://${bucket}/${manifestKey}' IAM_ROLE '${config.warehouse.copyRoleArn}' MANIFEST FORMAT AS JSON 'auto' GZIP TIMEFORMAT 'auto'`,
      ]);
      const n = await scalar(p, `SELECT COUNT(*) FROM bench.${table}`);
      if (n !== ROWS) throw new Error(`bare COPY loaded ${n} rows, expected ${ROWS}`);
      return result;
    };
    const cold = await bareCopy('visits_bare_cold');

    const finished = recordFinished(p);
    const submissionsBefore = server.stats.submissions;
    const statementsBefore = server.stats.statements.length;
    await p.put(objects);
    const lastPut = Date.now(); // every PutObject has returned
    await p.settle();
    finished.stop();
    const submissions = server.stats.submissions - submissionsBefore;

    const executions = await p.executions();
    if (executions.length !== 1) throw new Error(`expected 1 execution, got ${executions.length}`);
    const execution = executions[0]!;
    if (execution.status !== 'SUCCEEDED' || execution.output?.['status'] !== 'loaded') {
      throw new Error(`execution ${execution.name}: ${execution.status} ${JSON.stringify(execution.output ?? execution.cause)}`);
    }
    const stats = p.stack.stepFunctions.server.executionStats(execution.executionArn);
    const entered = await statesEntered(p, execution.executionArn);
    const statements = server.stats.statements.slice(statementsBefore);
    const loadBatch = finished.records.find((r) => r.subStatements.some((s) => isCopy(s.sql)));
    // The aggregates run inside the load batch when they fit it; a batch of their own otherwise.
    const aggregateBatch = finished.records.find((r) => r !== loadBatch && r.subStatements.some((s) => /INSERT INTO\s+"?facts"?\./i.test(s.sql)));
    const times = batchTimes(finished.records, ['visits_hourly', 'visitors_daily']);
    const pipelineCopy = loadBatch?.subStatements.find((s) => isDataCopy(s.sql));
    const loadedRows = await scalar(p, 'SELECT COUNT(*) FROM events.visits');
    if (loadedRows !== ROWS) throw new Error(`loaded ${loadedRows} rows, expected ${ROWS}`);
    const e2eMs = execution.stopDate!.getTime() - lastPut;

    const bare = await bareCopy('visits_bare');

    return {
      submissions_total: submissions,
      submissions_discover: submissions - stats.dataApiSubmissions,
      submissions_in_execution: stats.dataApiSubmissions,
      states_entered: entered,
      state_transitions_counter: stats.stateTransitions,
      describe_polls: stats.taskCalls.filter((c) => c.action === 'describeStatement').length,
      copy_statements: statements.filter(isDataCopy).length,
      e2e_ms: e2eMs,
      execution_ms: execution.stopDate!.getTime() - execution.startDate!.getTime(),
      load_batch_ms: round((loadBatch?.durationNs ?? 0) / 1e6),
      pipeline_copy_ms: round((pipelineCopy?.durationNs ?? 0) / 1e6),
      aggregate_batch_ms: round((aggregateBatch?.durationNs ?? 0) / 1e6),
      aggregates_ms: times['aggregates_ms']!,
      bare_copy_ms: round(bare.wallMs),
      bare_copy_duration_ms: round(bare.durationMs),
      bare_copy_cold_ms: round(cold.wallMs),
      ratio: round(e2eMs / bare.wallMs, 2),
    };
  } finally {
    await bench.stop();
  }
}

export const scenario: Scenario = {
  name: 'normal-load',
  description: `example config, 1 hourly partition of ${ROWS} rows in ${FILES} gzip JSON files, vs a bare COPY (waitScale 0.05 and 0)`,
  defaultRuns: 5,
  async run() {
    const scaled = await measure(0.05);
    const unscaled = await measure(0);
    const out: Figures = {};
    for (const [k, v] of Object.entries(scaled)) out[`ws0.05 ${k}`] = v;
    for (const [k, v] of Object.entries(unscaled)) out[`ws0 ${k}`] = v;
    return out;
  },
};
