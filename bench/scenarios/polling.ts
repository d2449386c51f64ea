/**
 * polling: how soon the state machine notices that a batch finished, and how many states a
 * load costs, for statements of 1 s, 10 s and 100 s. Locally by scaling: the Data API holds each
 * of the state machine's batches (the load batch, with the aggregates inside it; not Prepare's reads) in its queue for the statement duration (its pause/resume hook)
 * and Wait states run at the same scale: real time (scale 1) for 1 s and 10 s, scale 0.1 for
 * 100 s (a "100 s" batch is held 10 s). The local batch's own run time (a few hundred ms for the
 * small partition loaded here) comes on top, scaled up with it. Poll lag = from the batch
 * finishing to the DescribeStatement that saw it FINISHED, in state machine seconds. Two
 * estimates of the expected duration (core/submission.ts): `calibrated` (the estimate equals the
 * duration, as a throughput learned from past loads would give) and `default` (AWS defaults:
 * 2 s + bytes at 50 MiB/s, ~2 s here, whatever the duration).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PollingOptions } from '../../functions/core/submission';
import { startLocalPipeline, type LocalPipeline } from '../../local/pipeline';
import { exampleConfig, history, hourAt, round, visitsPartition, type Figures, type Scenario } from '../lib';

const DURATIONS = [1, 10, 100];
/** Wait and hold scale per statement duration. */
const scaleFor = (durationSeconds: number): number => (durationSeconds >= 100 ? 0.1 : 1);

interface Measured {
  states: number;
  lagSeconds: number;
}

async function measure(polling: (durationSeconds: number) => PollingOptions, durationSeconds: number, hour: number): Promise<Measured> {
  const SCALE = scaleFor(durationSeconds);
  const dir = await mkdtemp(join(tmpdir(), 'forklift-bench-polling-'));
  const p: LocalPipeline = await startLocalPipeline({ config: exampleConfig(), dataDir: dir, waitScale: SCALE, polling: polling(durationSeconds) });
  const server = p.stack.redshiftData.server;
  const finishedAt = new Map<string, number>();
  const stop = server.onStatement((record, sub) => {
    const name = record.target.statementName;
    // Prepare's own reads (aggregate tables, pending work) are not the state machine's batches.
    if (sub || !record.isBatch || name === undefined || /-(widen|aggregate-tables|pending)$/.test(name)) return;
    if (record.status === 'SUBMITTED') {
      // The state machine's batch: hold the queue for its duration (scaled), then let it run.
      server.pause();
      setTimeout(() => server.resume(), durationSeconds * 1000 * SCALE);
    }
    if (record.status === 'FINISHED') finishedAt.set(record.id, record.updatedAt.getTime());
  });
  try {
    await p.put(visitsPartition({ partitionHour: hourAt(hour), rows: 200, files: 1, firstId: 1 }));
    await p.settle();
    const [execution] = (await p.executions()).filter((e) => e.status === 'SUCCEEDED');
    if (!execution) throw new Error('the load did not succeed');
    const stats = p.stack.stepFunctions.server.executionStats(execution.executionArn);
    const events = await history(p, execution.executionArn);
    let lagMs = 0;
    for (const e of events) {
      if (e.type !== 'TaskSucceeded' || e.taskSucceededEventDetails?.resource !== 'describeStatement') continue;
      const out = JSON.parse(e.taskSucceededEventDetails.output ?? '{}') as { Id?: string; Status?: string };
      // The first describe that saw the batch FINISHED (the one after it, with SubStatements, is not a poll).
      if (out.Status === 'FINISHED' && out.Id && finishedAt.has(out.Id)) {
        lagMs += e.timestamp!.getTime() - finishedAt.get(out.Id)!;
        finishedAt.delete(out.Id);
      }
    }
    return { states: stats.stateTransitions, lagSeconds: lagMs / 1000 / SCALE };
  } finally {
    stop();
    await p.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export const scenario: Scenario = {
  name: 'polling',
  description:
    'states entered per load and poll lag (load + aggregate batches, in state machine seconds) for statements of 1, 10 and 100 s (real time; 100 s at scale 0.1), with a calibrated and the default expected duration',
  defaultRuns: 1,
  async run(): Promise<Figures> {
    const figures: Figures = {};
    let hour = 0;
    for (const [label, polling] of [
      ['calibrated', (d: number): PollingOptions => ({ baseSeconds: d, bytesPerSecond: Number.MAX_SAFE_INTEGER })],
      ['default', (): PollingOptions => ({})],
    ] as const) {
      for (const d of DURATIONS) {
        const m = await measure(polling, d, hour++);
        figures[`${label}_${d}s_states`] = m.states;
        figures[`${label}_${d}s_pollLagSeconds`] = round(m.lagSeconds);
      }
    }
    return figures;
  },
};
