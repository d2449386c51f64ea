/**
 * late-hour: the example config after a day of hourly partitions (24 × 2,000 rows) is
 * loaded, a late partition (the next hour's key) whose 500 rows all fall in one earlier
 * hour. Counts the buckets the aggregate batch recomputed, and compares its time with a
 * hand-written full recompute of both aggregates over all raw rows.
 */
import {
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

const HOURS = 24;
const ROWS_PER_HOUR = 2_000;
const LATE_ROWS = 500;
const LATE_HOUR = 5;

/** Both aggregates from scratch: DELETE everything, INSERT ... GROUP BY over every raw row (one transaction). */
const FULL_RECOMPUTE = [
  'DELETE FROM facts.visits_hourly',
  `INSERT INTO facts.visits_hourly (bucket, campaign_id, visits, visitors, revenue, avg_duration_ms, avg_duration_ms_sum, avg_duration_ms_count)
   SELECT DATE_TRUNC('hour', visited_at), campaign_id, COUNT(*), COUNT(DISTINCT visitor_id), SUM(revenue),
          AVG(CAST(duration_ms AS DOUBLE PRECISION)), SUM(CAST(duration_ms AS DOUBLE PRECISION)), COUNT(duration_ms)
   FROM events.visits GROUP BY 1, 2`,
  'DELETE FROM facts.visitors_daily',
  `INSERT INTO facts.visitors_daily (bucket, campaign_id, visits, visitors)
   SELECT DATE_TRUNC('day', visited_at), campaign_id, COUNT(*), COUNT(DISTINCT visitor_id) FROM events.visits GROUP BY 1, 2`,
];

const CHECKSUM =
  "SELECT (SELECT COUNT(*) || '/' || SUM(visits) || '/' || SUM(visitors) || '/' || SUM(revenue) FROM facts.visits_hourly) || ' ' || " +
  "(SELECT COUNT(*) || '/' || SUM(visits) || '/' || SUM(visitors) FROM facts.visitors_daily) AS c";

export const scenario: Scenario = {
  name: 'late-hour',
  description: `example config, ${HOURS} hourly partitions × ${ROWS_PER_HOUR} rows loaded, then a late partition of ${LATE_ROWS} rows all in hour ${LATE_HOUR}; incremental aggregate batch vs full recompute`,
  defaultRuns: 3,
  async run(): Promise<Figures> {
    const bench = await startBenchPipeline(exampleConfig());
    try {
      const p = bench.pipeline;
      const server = p.stack.redshiftData.server;
      // One partition at a time, in order, so the history is loaded whatever the table's olderPartitions policy.
      for (let h = 0; h < HOURS; h++) {
        await p.put(visitsPartition({ partitionHour: hourAt(h), rows: ROWS_PER_HOUR, files: 1, firstId: h * 100_000 + 1 }));
        await p.settle();
      }
      const rawRows = await scalar(p, 'SELECT COUNT(*) FROM events.visits');
      if (rawRows !== HOURS * ROWS_PER_HOUR) throw new Error(`day loaded ${rawRows} rows`);

      const finished = recordFinished(p);
      await p.put(visitsPartition({ partitionHour: hourAt(HOURS), rowsHour: hourAt(LATE_HOUR), rows: LATE_ROWS, files: 1, firstId: 99_000_001 }));
      await p.settle();
      finished.stop();
      const execution = (await p.executions()).at(-1)!;
      if (execution.status !== 'SUCCEEDED' || execution.output?.['status'] !== 'loaded') throw new Error(`late load: ${JSON.stringify(execution.output)}`);
      const affected = await scalar(p, `SELECT COUNT(*) FROM forklift.affected_hours WHERE load_id = '${execution.name}'`);
      const batch = finished.records.find((r) => r.subStatements.some((s) => /^INSERT INTO "facts"/.test(s.sql)));
      if (!batch) throw new Error('no aggregate batch seen');
      const sub = (verb: string, table: string) => batch.subStatements.find((s) => s.sql.startsWith(`${verb} ${verb === 'DELETE' ? 'FROM ' : 'INTO '}"facts"."${table}"`));
      const hourlyBuckets = await scalar(
        p,
        `SELECT COUNT(DISTINCT DATE_TRUNC('hour', hour)) FROM forklift.affected_hours WHERE load_id = '${execution.name}' AND time_column = 'visited_at'`,
      );

      const [before] = await server.query<{ c: string }>(CHECKSUM);
      const full = await submitAndWait(p, FULL_RECOMPUTE);
      const [after] = await server.query<{ c: string }>(CHECKSUM);

      return {
        raw_rows_before: rawRows,
        affected_hours_rows: affected,
        hourly_buckets_recomputed: hourlyBuckets,
        hourly_delete_rows: sub('DELETE', 'visits_hourly')?.resultRows ?? -1,
        hourly_insert_rows: sub('INSERT', 'visits_hourly')?.resultRows ?? -1,
        daily_delete_rows: sub('DELETE', 'visitors_daily')?.resultRows ?? -1,
        daily_insert_rows: sub('INSERT', 'visitors_daily')?.resultRows ?? -1,
        aggregate_batch_ms: round(batch.durationNs / 1e6),
        hourly_insert_ms: round((sub('INSERT', 'visits_hourly')?.durationNs ?? 0) / 1e6),
        full_recompute_ms: round(full.durationMs),
        full_hourly_insert_ms: round(full.subDurationMs[1] ?? 0),
        daily_insert_ms: round((sub('INSERT', 'visitors_daily')?.durationNs ?? 0) / 1e6),
        full_daily_insert_ms: round(full.subDurationMs[3] ?? 0),
        full_recompute_rows: full.subResultRows.join('/'),
        full_vs_incremental: round(full.durationMs / (batch.durationNs / 1e6), 2),
        full_recompute_matches_incremental: before?.c === after?.c,
      };
    } finally {
      await bench.stop();
    }
  },
};
