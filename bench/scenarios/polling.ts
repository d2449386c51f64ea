/**
 * polling: how soon the state machine notices that a batch finished, and how many states a
 * load costs, for statements of 1 s, 10 s and 100 s, with nothing calibrated. Locally by scaling:
 * the Data API holds each of the state machine's batches (the load batch, with the aggregates inside
 * it; not discover's or Prepare's reads) in its queue for the statement duration (its pause/resume
 * hook) and Wait states run at the same scale: real time (scale 1) for 1 s and 10 s, scale 0.1 for
 * 100 s (a "100 s" batch is held 10 s). The local batch's own run time (a few hundred ms for the
 * small partition loaded here) comes on top, scaled up with it. Poll lag = from the batch finishing
 * to the DescribeStatement that saw it FINISHED, in state machine seconds. Per duration, one
 * stack loads LOADS hourly partitions one after the other: the first has no past load of its table
 * (its schedule starts at the estimate from its bytes, ~2 s), the later ones poll first at what
 * the table's recent loads took (core/submission.ts expectLoad, from the warehouse-state read).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalPipeline, type LocalPipeline } from '../../local/pipeline';
import { exampleConfig, history, hourAt, round, visitsPartition, type Figures, type Scenario } from '../lib';

const DURATIONS = [1, 10, 100];
/** Loads per duration: the first without history, the others learning from it. */
const LOADS = 3;
/** Wait and hold scale per statement duration. */
const scaleFor = (durationSeconds: number): number => (durationSeconds >= 100 ? 0.1 : 1);

interface Measured {
  states: number;
  lagSeconds: number;
}

async function measure(durationSeconds: number): Promise<Measured[]> {
  const SCALE = scaleFor(durationSeconds);
  const dir = await mkdtemp(join(tmpdir(), 'forklift-bench-polling-'));
  const p: LocalPipeline = await startLocalPipeline({ config: exampleConfig(), dataDir: dir, waitScale: SCALE });
  const server = p.stack.redshiftData.server;
  const finishedAt = new Map<string, number>();
  const stop = server.onStatement((record, sub) => {
    const name = record.target.statementName;
    // discover's and Prepare's own reads (state, aggregate tables, pending work) are not the state machine's batches.
    if (sub || !record.isBatch || name === undefined || /-(widen|aggregate-tables|pending)$/.test(name)) return;
    if (record.status === 'SUBMITTED') {
      // The state machine's batch: hold the queue for its duration (scaled), then let it run.
      server.pause();
      setTimeout(() => server.resume(), durationSeconds * 1000 * SCALE);
    }
    if (record.status === 'FINISHED') finishedAt.set(record.id, record.updatedAt.getTime());
  });
  try {
    const out: Measured[] = [];
    for (let i = 0; i < LOADS; i++) {
      const seen = new Set((await p.executions()).map((e) => e.executionArn));
      await p.put(visitsPartition({ partitionHour: hourAt(i), rows: 200, files: 1, firstId: 1 + i * 1000 }));
      await p.settle();
      const execution = (await p.executions()).find((e) => !seen.has(e.executionArn) && e.status === 'SUCCEEDED');
      if (!execution) throw new Error(`load ${i + 1} did not succeed`);
      const stats = p.stack.stepFunctions.server.executionStats(execution.executionArn);
      const events = await history(p, execution.executionArn);
      let lagMs = 0;
      for (const e of events) {
        if (e.type !== 'TaskSucceeded' || e.taskSucceededEventDetails?.resource !== 'describeStatement') continue;
        const described = JSON.parse(e.taskSucceededEventDetails.output ?? '{}') as { Id?: string; Status?: string };
        // The describe that saw the batch FINISHED.
        if (described.Status === 'FINISHED' && described.Id && finishedAt.has(described.Id)) {
          lagMs += e.timestamp!.getTime() - finishedAt.get(described.Id)!;
          finishedAt.delete(described.Id);
        }
      }
      out.push({ states: stats.stateTransitions, lagSeconds: lagMs / 1000 / SCALE });
    }
    return out;
  } finally {
    stop();
    await p.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export const scenario: Scenario = {
  name: 'polling',
  description: `states entered per load and poll lag (state machine seconds) for statements of 1, 10 and 100 s (real time; 100 s at scale 0.1), nothing calibrated: the first load of a table, and the last of ${LOADS} (learning from the earlier ones)`,
  defaultRuns: 1,
  async run(): Promise<Figures> {
    const figures: Figures = {};
    for (const d of DURATIONS) {
      const loads = await measure(d);
      loads.forEach((m, i) => {
        figures[`${d}s_load${i + 1}_states`] = m.states;
        figures[`${d}s_load${i + 1}_pollLagSeconds`] = round(m.lagSeconds);
      });
    }
    return figures;
  },
};
