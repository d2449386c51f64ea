/**
 * scale: a million rows of the example visits table (24 hourly partitions × 4 gzip JSON files,
 * 41,667 rows each = 1,000,008 rows), through the whole pipeline (both aggregates) against
 * bare COPYs of the same files on the same stack. Three arrivals:
 * - hourly: one partition at a time, each settled before the next; e2e = the sum over hours of
 *   (the hour's last PutObject returned → its last execution stopped); against 24 bare COPYs,
 *   one per hour (sum of their times);
 * - burst: all 96 files put at once; e2e = last PutObject returned → last execution stopped;
 *   against one bare COPY of the 96 files;
 * - burst-distinct: the same burst with visitor ids drawn from 205,000 (~20% of the rows
 *   distinct), which makes the daily count_distinct expensive.
 * The bare COPY tables have the pipeline table's SORTKEY (visited_at). Runs for minutes on PGlite.
 */
import {
  bareCopy,
  history,
  batchTimes,
  exampleConfig,
  hourAt,
  recordFinished,
  round,
  scalar,
  startBenchPipeline,
  visitsPartition,
  type Figures,
  type Scenario,
} from '../lib';

const HOURS = 24;
const FILES = 4;
/** FORKLIFT_BENCH_SCALE_ROWS overrides the rows per hour (a quick trial of the scenario). */
const ROWS_PER_HOUR = Number(process.env['FORKLIFT_BENCH_SCALE_ROWS'] ?? 41_667);
const TOTAL = HOURS * ROWS_PER_HOUR;
/** ~20% of the rows distinct (205,000 × (1 - e^-4.88) ≈ 203,000 of 1,000,008). */
const DISTINCT_VISITORS = Math.round(ROWS_PER_HOUR * HOURS * 0.205);
const AGGREGATES = ['visits_hourly', 'visitors_daily'];

type Objects = Array<{ key: string; body: Buffer }>;

function day(visitors?: number): Objects[] {
  return Array.from({ length: HOURS }, (_, h) =>
    visitsPartition({ partitionHour: hourAt(h), rows: ROWS_PER_HOUR, files: FILES, firstId: h * 1_000_000 + 1, ...(visitors ? { visitors } : {}) }),
  );
}

async function measure(arrival: 'hourly' | 'burst', hours: Objects[]): Promise<Figures> {
  const bench = await startBenchPipeline(exampleConfig());
  try {
    const p = bench.pipeline;
    const finished = recordFinished(p);
    const putStart: number[] = [];
    const putDone: number[] = [];
    const started = Date.now();
    if (arrival === 'hourly') {
      for (const objects of hours) {
        putStart.push(Date.now());
        await p.put(objects);
        putDone.push(Date.now());
        await p.settle();
      }
    } else {
      putStart.push(Date.now());
      await p.put(hours.flat());
      putDone.push(Date.now());
      await p.settle();
    }
    const wallMs = Date.now() - started;
    finished.stop();
    const executions = await p.executions();
    const failed = executions.filter((e) => e.status !== 'SUCCEEDED');
    if (failed.length) throw new Error(`${failed.length} executions did not succeed: ${failed[0]!.name} ${failed[0]!.cause ?? ''}`);
    const rows = await scalar(p, 'SELECT COUNT(*) FROM events.visits');
    if (rows !== TOTAL) throw new Error(`loaded ${rows} rows, expected ${TOTAL}`);
    // e2e: for each arrival, from its last PutObject returned to the stop of the last execution
    // it caused (those started after its first PutObject and before the next arrival's).
    let e2eMs = 0;
    putDone.forEach((t, i) => {
      const from = putStart[i]!;
      const until = putStart[i + 1] ?? Infinity;
      const stops = executions.filter((e) => e.startDate!.getTime() >= from && e.startDate!.getTime() < until).map((e) => e.stopDate!.getTime());
      e2eMs += Math.max(...stops) - t;
    });
    const execMs = executions.reduce((n, e) => n + (e.stopDate!.getTime() - e.startDate!.getTime()), 0);
    const times = batchTimes(finished.records, AGGREGATES);
    const profile: Figures = {};
    // Where the time outside the SQL goes: S3 put → execution start (discover), and the time spent in each state.
    let discoverMs = 0;
    putDone.forEach((t, i) => {
      const from = putStart[i]!;
      const until = putStart[i + 1] ?? Infinity;
      const starts = executions.filter((e) => e.startDate!.getTime() >= from && e.startDate!.getTime() < until).map((e) => e.startDate!.getTime());
      if (starts.length) discoverMs += Math.min(...starts) - t;
    });
    profile['put_to_first_execution_ms'] = discoverMs;
    if (process.env['FORKLIFT_BENCH_PROFILE']) {
      const inState = new Map<string, number>();
      let entered = 0;
      let polls = 0;
      for (const e of executions) {
        const events = (await history(p, e.executionArn)).filter((ev) => String(ev.type).endsWith('StateEntered'));
        entered += events.length;
        events.forEach((ev, i) => {
          const name = ev.stateEnteredEventDetails?.name ?? '?';
          if (name === 'DescribeLoad') polls += 1;
          const end = events[i + 1]?.timestamp?.getTime() ?? e.stopDate!.getTime();
          inState.set(name, (inState.get(name) ?? 0) + end - ev.timestamp!.getTime());
        });
      }
      profile['states_per_execution'] = round(entered / executions.length, 1);
      profile['load_polls_per_execution'] = round(polls / executions.length, 1);
      for (const [name, ms] of [...inState].sort((a, b) => b[1] - a[1])) profile[`state_${name}_ms`] = ms;
      const bySql = new Map<string, number>();
      for (const r of finished.records) {
        for (const sub of r.subStatements) {
          const key = sub.sql.replace(/'[^']*'/g, "'…'").replace(/\s+/g, ' ').slice(0, 90);
          bySql.set(key, (bySql.get(key) ?? 0) + sub.durationNs / 1e6);
        }
      }
      for (const [sql, ms] of [...bySql].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.error(`${ms.toFixed(0).padStart(8)} ms  ${sql}`);
    }

    let bareMs: number;
    const bare: Figures = {};
    if (arrival === 'hourly') {
      bareMs = 0;
      for (let h = 0; h < HOURS; h++) bareMs += (await bareCopy(p, `bare_h${h}`, hours[h]!, ROWS_PER_HOUR)).wallMs;
    } else {
      bareMs = (await bareCopy(p, 'bare_day', hours.flat(), TOTAL)).wallMs;
    }
    bare['bare_copy_ms'] = round(bareMs);
    const distinct = await scalar(p, 'SELECT COUNT(DISTINCT visitor_id) FROM events.visits');
    const sqlMs = Number(times['load_batches_ms']) + Number(times['aggregate_batches_ms']);
    return {
      rows,
      distinct_visitor_share: round(distinct / rows, 3),
      executions: executions.length,
      e2e_ms: e2eMs,
      wall_ms: wallMs,
      executions_ms: execMs,
      ...times,
      ...profile,
      ...bare,
      ratio: round(e2eMs / bareMs, 2),
      sql_ratio: round(sqlMs / bareMs, 2),
      load_ratio: round(Number(times['load_without_aggregates_ms']) / bareMs, 2),
      aggregates_ratio: round(Number(times['aggregates_ms']) / bareMs, 2),
      // Hourly, where nothing overlaps: e2e had the pipeline run no SQL but its data COPYs (its fixed
      // cost per execution kept), the floor of any design that keeps one execution per partition.
      ...(arrival === 'hourly'
        ? { copies_and_fixed_ratio: round((e2eMs - sqlMs + Number(times['pipeline_copies_ms'])) / bareMs, 2) }
        : {}),
    };
  } finally {
    await bench.stop();
  }
}

export const scenario: Scenario = {
  name: 'scale',
  description: `example config, ${TOTAL.toLocaleString('en-US')} rows (${HOURS} hourly partitions × ${FILES} gzip files) arriving hourly, in a burst, and in a burst with ~20% distinct visitors; e2e vs bare COPY of the same files`,
  defaultRuns: 1,
  async run() {
    const out: Figures = {};
    // FORKLIFT_BENCH_SCALE=hourly,burst runs only those arrivals.
    const only = process.env['FORKLIFT_BENCH_SCALE']?.split(',');
    const normal = day();
    const variants: Array<[string, 'hourly' | 'burst', () => Objects[]]> = [
      ['hourly', 'hourly', () => normal],
      ['burst', 'burst', () => normal],
      ['burst-distinct', 'burst', () => day(DISTINCT_VISITORS)],
    ];
    for (const [name, arrival, data] of variants) {
      if (only && !only.includes(name)) continue;
      const started = Date.now();
      const figures = await measure(arrival, data());
      console.error(`scale ${name} (${((Date.now() - started) / 1000).toFixed(0)} s): ${JSON.stringify(figures)}`);
      for (const [k, v] of Object.entries(figures)) out[`${name} ${k}`] = v;
    }
    return out;
  },
};
