/**
 * history: 30 days of hourly history of the example visits table (720 hours × 1,000 rows),
 * then one new hour through the pipeline. Compares the new hour's aggregate batch with a full
 * recompute of every aggregate over the whole history (the pipeline's own aggregate-only
 * recompute, rendered by renderAggregateBatch over [first hour, new hour + 1)), and checks the
 * aggregates are identical afterwards.
 *
 * Setup, to keep it to minutes: the pipeline loads the first history hour (creating the tables
 * and the aggregates as it does), the other 719 hours are COPYed straight into events.visits
 * (one gzip file per day, hour order), and a recompute over the history fills the aggregates.
 * The history ends at 12:00, so the new hour (2026-11-20T12) shares its day with 12 loaded hours:
 * the daily distinct's incremental cost is not the cost of a fresh day.
 */
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { aggregatesFedBy, renderAggregateBatch } from '../../functions/core/sql/aggregate';
import type { LocalPipeline } from '../../local/pipeline';
import type { StatementRecord } from '../../local/redshift-data/statements';
import {
  batchTimes,
  exampleConfig,
  hourAt,
  recordFinished,
  round,
  scalar,
  startBenchPipeline,
  submitAndWait,
  visitsPartition,
  type Figures,
  type Scenario,
} from '../lib';

const DAYS = 30;
const HOURS = DAYS * 24;
const ROWS_PER_HOUR = 1_000;
/** History hours are hourAt(FIRST) … hourAt(NEW - 1); the new hour is hourAt(NEW). */
const NEW = 12;
const FIRST = NEW - HOURS;

const CHECKSUM =
  "SELECT (SELECT COUNT(*) || '/' || SUM(visits) || '/' || SUM(visitors) || '/' || COALESCE(SUM(revenue), 0) || '/' || ROUND(SUM(avg_duration_ms)) FROM facts.visits_hourly) || ' ' || " +
  "(SELECT COUNT(*) || '/' || SUM(visits) || '/' || SUM(visitors) FROM facts.visitors_daily) AS c";

/**
 * FORKLIFT_BENCH_PROFILE: EXPLAIN ANALYZE of the new hour's aggregate statements, replayed on PGlite
 * in a transaction that is rolled back (its temp tables of affected hours and guard made up for the new hour).
 */
async function explainAggregates(server: LocalPipeline['stack']['redshiftData']['server'], records: StatementRecord[]): Promise<void> {
  const subs = records.flatMap((r) => r.subStatements).map((s) => s.sql);
  const first = subs.findIndex((sql) => sql.startsWith('CREATE TEMP TABLE "forklift_hours"'));
  await server.query('BEGIN');
  try {
    await server.query(`CREATE TEMP TABLE "forklift_guard" AS SELECT CAST('load' AS VARCHAR(8)) AS decision`);
    await server.query(`CREATE TEMP TABLE "forklift_hours" AS SELECT CAST('visited_at' AS VARCHAR(127)) AS time_column, TIMESTAMP '${hourAt(NEW).toISOString().slice(0, 19).replace('T', ' ')}' AS hour`);
    for (const sql of subs.slice(first + 1)) {
      if (!/^(INSERT INTO "facts"|DELETE FROM "facts"|UPDATE "facts"|CREATE TEMP TABLE "forklift_(members|unseeded))/.test(sql)) continue;
      // A statement reading the load's own temp tables (its staged rows, say) cannot be replayed here: say so, go on.
      await server.query('SAVEPOINT replay');
      try {
        const plan = await server.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, COSTS OFF) ${sql}`);
        console.error(`\n=== ${sql.slice(0, 300)}\n${plan.map((r) => r['QUERY PLAN']).join('\n')}`);
      } catch (e) {
        await server.query('ROLLBACK TO SAVEPOINT replay');
        console.error(`\n=== ${sql.slice(0, 300)}\n(not replayable outside its load batch: ${(e as Error).message})`);
      }
    }
  } finally {
    await server.query('ROLLBACK');
  }
}

export const scenario: Scenario = {
  name: 'history',
  description: `example config, ${DAYS} days of hourly history (${HOURS} hours × ${ROWS_PER_HOUR} rows), then one new hour: its aggregate batch vs a full recompute of every aggregate`,
  defaultRuns: 3,
  async run(): Promise<Figures> {
    const config = exampleConfig();
    const bench = await startBenchPipeline(config);
    try {
      const p = bench.pipeline;
      const server = p.stack.redshiftData.server;
      const bucket = config.landing.bucketName;
      const aggregates = aggregatesFedBy(config, 'visits');
      const hour = (n: number, gzip: boolean) =>
        visitsPartition({ partitionHour: hourAt(n), rows: ROWS_PER_HOUR, files: 1, firstId: (n - FIRST) * 10_000 + 1, gzip });

      // The first hour through the pipeline: tables, aggregates and audit rows as the pipeline makes them.
      await p.put(hour(FIRST, true));
      await p.settle();
      // The other hours straight into the raw table, one file per day.
      const entries: string[] = [];
      for (let d = 0; d < DAYS; d++) {
        const text: Buffer[] = [];
        for (let h = d * 24; h < (d + 1) * 24; h++) if (h > 0) text.push(...hour(FIRST + h, false).map((o) => o.body));
        const key = `bench/history/day-${String(d).padStart(2, '0')}.json.gz`;
        await p.stack.s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzipSync(Buffer.concat(text)) }));
        entries.push(`s3://${bucket}/${key}`);
      }
      await p.stack.s3.client.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'bench/history.manifest', Body: JSON.stringify({ entries: entries.map((url) => ({ url, mandatory: true })) }) }),
      );
      await p.settle();
      await submitAndWait(p, [
        `COPY events.visits FROM 's3://${bucket}/bench/history.manifest' IAM_ROLE '${config.warehouse.copyRoleArn}' MANIFEST FORMAT AS JSON 'auto' GZIP TIMEFORMAT 'auto'`,
      ]);
      const historyRows = await scalar(p, 'SELECT COUNT(*) FROM events.visits');
      if (historyRows !== HOURS * ROWS_PER_HOUR) throw new Error(`history has ${historyRows} rows`);
      const recompute = (end: number) =>
        submitAndWait(p, renderAggregateBatch({ config, work: aggregates.map((aggregate) => ({ aggregate, range: { start: hourAt(FIRST), end: hourAt(end) } })) }).sqls);
      const historyRecompute = await recompute(NEW);

      // One new hour through the pipeline.
      const finished = recordFinished(p);
      await p.put(visitsPartition({ partitionHour: hourAt(NEW), rows: ROWS_PER_HOUR, files: 1, firstId: 99_000_001 }));
      await p.settle();
      finished.stop();
      const execution = (await p.executions()).at(-1)!;
      if (execution.status !== 'SUCCEEDED' || execution.output?.['status'] !== 'loaded') throw new Error(`new hour: ${JSON.stringify(execution.output ?? execution.cause)}`);
      const times = batchTimes(finished.records, aggregates);
      if (process.env['FORKLIFT_BENCH_PROFILE']) {
        // Every statement of the new hour's batches: where its time goes.
        for (const r of finished.records) for (const s of r.subStatements) console.error(`${(s.durationNs / 1e6).toFixed(1).padStart(9)} ms  ${s.sql.replace(/\s+/g, ' ').slice(0, 400)}`);
      }
      // The new hour's aggregate work: its statements inside the load batch (or its own batches, when they do not fit).
      const incrementalMs = Number(times['aggregates_ms']);

      if (process.env['FORKLIFT_BENCH_PROFILE']) await explainAggregates(server, finished.records);
      const [before] = await server.query<{ c: string }>(CHECKSUM);
      const full = await recompute(NEW + 1);
      const [after] = await server.query<{ c: string }>(CHECKSUM);
      return {
        raw_rows: await scalar(p, 'SELECT COUNT(*) FROM events.visits'),
        new_hour_load_batch_ms: times['load_batches_ms']!,
        new_hour_aggregates_ms: incrementalMs,
        new_hour_aggregate_batches: times['aggregate_batches']!,
        ...Object.fromEntries(aggregates.map((a) => [`new_hour_${a}_ms`, times[`aggregate_${a}_ms`]!])),
        full_recompute_ms: round(full.durationMs),
        history_recompute_ms: round(historyRecompute.durationMs),
        full_vs_incremental: round(full.durationMs / incrementalMs, 1),
        aggregates_identical_after_full_recompute: before?.c === after?.c,
      };
    } finally {
      await bench.stop();
    }
  },
};
