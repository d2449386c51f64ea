import { createReportHandler, joinSteps, type ReportEvent } from '../../../functions/report/handler';
import { recordingLog, recordingMetrics } from '../../../functions/runtime/observability';
import type { LoadPlan } from '../../../functions/core/types';
import { exampleConfig } from './helpers';

const config = exampleConfig();
const now = new Date('2026-11-20T15:00:00Z');

const loadPlan: LoadPlan & { startedAt: string } = {
  action: 'load',
  reason: 'newer',
  loadId: 'visits-20261120T130000',
  loadWait: { seconds: 2 },
  aggregateWait: { seconds: 2 },
  table: 'visits',
  partitionDate: '2026-11-20T13:00:00.000Z',
  partitionKey: 'events/visits/2026-11-20T13/',
  files: 2,
  pollSeconds: 2,
  outcomeStatement: 4,
  steps: [
    { kind: 'raw', name: 'visits', statement: 2 },
    { kind: 'fact', name: 'visits_hourly', statement: 1 },
    { kind: 'fact', name: 'visitors_daily', statement: 3 },
  ],
  startedAt: '2026-11-20T14:58:00.000Z',
};

function setup() {
  const metrics = recordingMetrics();
  return { metrics, handler: createReportHandler({ config, log: recordingLog(), metrics, now: () => now }) };
}

describe('report', () => {
  it('maps SubStatements (PascalCase, nanoseconds) to steps and emits load metrics', async () => {
    const { handler, metrics } = setup();
    const event: ReportEvent = {
      table: 'visits',
      plan: loadPlan,
      load: {
        Id: 'b1',
        Status: 'FINISHED',
        SubStatements: [
          { Id: 'b1:1', ResultRows: 0, Duration: 1_000_000 },
          { Id: 'b1:2', ResultRows: 1200, Duration: 2_500_000_000 },
          { Id: 'b1:3', ResultRows: -1, Duration: 0 },
          { Id: 'b1:4', ResultRows: 1, Duration: 1_000_000 },
        ],
      },
      outcome: { status: 'loaded', reason: { StringValue: 'loaded 1200 rows' }, rows: { LongValue: 1200 } },
      aggregate: {
        Id: 'b2',
        Status: 'FINISHED',
        SubStatements: [
          { Id: 'b2:1', ResultRows: 30, Duration: 500_000_000 },
          { Id: 'b2:2', ResultRows: 0, Duration: 1 },
          { Id: 'b2:3', ResultRows: 4, Duration: 250_000_000 },
        ],
      },
    };

    const summary = await handler(event);

    expect(summary).toEqual({
      table: 'visits',
      partitionDate: '2026-11-20T13:00:00.000Z',
      status: 'loaded',
      reason: 'loaded 1200 rows',
      rows: 1200,
      files: 2,
      steps: [
        { kind: 'raw', name: 'visits', rows: 1200, seconds: 2.5 },
        { kind: 'fact', name: 'visits_hourly', rows: 30, seconds: 0.5 },
        { kind: 'fact', name: 'visitors_daily', rows: 4, seconds: 0.25 },
      ],
    });
    expect(metrics.recorded).toEqual(
      expect.arrayContaining([
        { name: 'LoadsSucceeded', unit: 'Count', value: 1, table: 'visits' },
        { name: 'RowsLoaded', unit: 'Count', value: 1200, table: 'visits' },
        { name: 'LoadSeconds', unit: 'Seconds', value: 120, table: 'visits' },
        // the partition ended at 14:00; now is 15:00
        { name: 'DataLagMinutes', unit: 'None', value: 60, table: 'visits' },
      ]),
    );
  });

  it('reports a load skipped by the guard inside the transaction, without aggregate steps', async () => {
    const { handler, metrics } = setup();
    const summary = await handler({
      plan: loadPlan,
      load: { Id: 'b1', Status: 'FINISHED', SubStatements: [{}, { ResultRows: 0, Duration: 10 }] },
      outcome: { status: 'skipped', reason: { StringValue: 'already loaded by another execution' }, rows: { LongValue: 0 } },
    });
    expect(summary).toMatchObject({ status: 'skipped', reason: 'already loaded by another execution', rows: 0 });
    expect(summary.steps.map((s) => s.name)).toEqual(['visits']);
    expect(metrics.recorded).toEqual([{ name: 'LoadsSkipped', unit: 'Count', value: 1, table: 'visits' }]);
  });

  it('reports a plan skipped by Prepare', async () => {
    const { handler } = setup();
    const summary = await handler({ plan: { ...loadPlan, action: 'skip', reason: 'older', steps: [] } });
    expect(summary).toEqual({
      table: 'visits',
      partitionDate: '2026-11-20T13:00:00.000Z',
      status: 'skipped',
      reason: 'older',
      rows: 0,
      files: 2,
      steps: [],
    });
  });

  it('reports aggregate-only runs: steps of earlier batches (done) and of the last one', async () => {
    const { handler } = setup();
    const summary = await handler({
      plan: { action: 'aggregate', reason: 'recomputing', loadId: 'a', pollSeconds: 2, loadWait: { seconds: 2 }, aggregateWait: { seconds: 2 }, steps: [] },
      aggregatePlan: { done: [{ kind: 'fact', name: 'visits_hourly', rows: 5, seconds: 1 }], steps: [{ kind: 'fact', name: 'visitors_daily', statement: 2 }] },
      aggregate: { SubStatements: [{}, { ResultRows: 7, Duration: 3_000_000_000 }] },
    });
    expect(summary).toMatchObject({
      status: 'aggregated',
      rows: 12,
      table: null,
      steps: [
        { kind: 'fact', name: 'visits_hourly', rows: 5, seconds: 1 },
        { kind: 'fact', name: 'visitors_daily', rows: 7, seconds: 3 },
      ],
    });
  });

  it('joinSteps leaves out steps of batches that did not run', () => {
    expect(joinSteps(loadPlan.steps)).toEqual([]);
  });
});
