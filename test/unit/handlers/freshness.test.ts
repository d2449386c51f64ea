import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { DataApiWarehouse, warehouseTarget } from '../../../functions/adapters/warehouse';
import { LOAD_SWEEP_MAX_PARTITIONS, NEVER_LOADED_LAG_MINUTES, createFreshnessHandler } from '../../../functions/freshness/handler';
import { renderWarehouseStateBatch } from '../../../functions/core/sql/state';
import { executionName } from '../../../functions/core/names';
import { renderPartitionKey } from '../../../functions/core/keys';
import { recordingLog, recordingMetrics } from '../../../functions/runtime/observability';
import { exampleConfig, noSleep } from './helpers';

const rsd = mockClient(RedshiftDataClient);
const sfn = mockClient(SFNClient);
const s3 = mockClient(S3Client);
const config = exampleConfig();
const now = new Date('2026-11-20T15:30:00Z');

function setup() {
  const metrics = recordingMetrics();
  const warehouse = new DataApiWarehouse(new RedshiftDataClient({ region: 'us-east-1' }), warehouseTarget(config.warehouse), { sleep: noSleep });
  const stateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:forklift-load';
  return {
    metrics,
    handler: createFreshnessHandler({ config, warehouse, log: recordingLog(), metrics, now: () => now, sfn: new SFNClient({ region: 'us-east-1' }), stateMachineArn }),
  };
}

/** The sweep's read: one batch (audit DDL, marks DDL, pending SELECT, catalog SELECT, pg_group SELECT) answering `pending` rows. */
function pendingRead(pending: Array<[string, string, string, string]>) {
  rsd.on(BatchExecuteStatementCommand).resolves({ Id: 'b1' });
  rsd.on(DescribeStatementCommand, { Id: 'b1' }).resolves({ Id: 'b1', Status: 'FINISHED' });
  rsd.on(GetStatementResultCommand, { Id: 'b1:6' }).resolves({ Records: pending.map((r) => r.map((v) => ({ stringValue: v }))) });
  rsd.on(GetStatementResultCommand, { Id: 'b1:7' }).resolves({ Records: [] });
  rsd.on(GetStatementResultCommand, { Id: 'b1:8' }).resolves({ Records: [] });
}

beforeEach(() => {
  rsd.reset();
  sfn.reset();
  s3.reset();
});

describe('freshness', () => {
  it('emits DataLagMinutes per table from one read; a never-loaded table gets a huge lag', async () => {
    rsd.on(ExecuteStatementCommand).resolves({ Id: 'q1' });
    rsd.on(DescribeStatementCommand, { Id: 'q1' }).resolves({ Id: 'q1', Status: 'FINISHED' });
    pendingRead([]);
    rsd.on(GetStatementResultCommand, { Id: 'q1' }).resolves({
      Records: [[{ stringValue: 'visits' }, { stringValue: '2026-11-20 13:00:00' }, { stringValue: '2026-11-20 14:05:00' }]],
    });
    const { handler, metrics } = setup();
    const result = await handler();
    expect(rsd.commandCalls(ExecuteStatementCommand)).toHaveLength(1);
    expect(result).toEqual({
      visits: { newestPartition: '2026-11-20T13:00:00.000Z', lagMinutes: 90, pendingAggregateMinutes: 0, pendingLoads: 0 },
      campaigns: { newestPartition: null, lagMinutes: NEVER_LOADED_LAG_MINUTES },
    });
    expect(metrics.recorded).toEqual([
      { name: 'DataLagMinutes', unit: 'None', value: 90, table: 'visits' },
      { name: 'DataLagMinutes', unit: 'None', value: NEVER_LOADED_LAG_MINUTES, table: 'campaigns' },
      { name: 'AggregatePendingMinutes', unit: 'None', value: 0, table: 'visits' },
    ]);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('treats a missing audit table as no loads', async () => {
    rsd.on(ExecuteStatementCommand).resolves({ Id: 'q1' });
    rsd.on(DescribeStatementCommand, { Id: 'q1' }).resolves({ Id: 'q1', Status: 'FAILED', Error: 'ERROR: relation "forklift.loads" does not exist' });
    pendingRead([]);
    const { handler } = setup();
    const result = await handler();
    expect(result.visits!.lagMinutes).toBe(NEVER_LOADED_LAG_MINUTES);
  });

  it('sweep: emits the age of pending aggregate work and starts an aggregate-only execution for work older than the grace period', async () => {
    rsd.on(ExecuteStatementCommand).resolves({ Id: 'q1' });
    rsd.on(DescribeStatementCommand, { Id: 'q1' }).resolves({ Id: 'q1', Status: 'FINISHED' });
    rsd.on(GetStatementResultCommand, { Id: 'q1' }).resolves({ Records: [] });
    // A load committed 20 minutes ago whose execution died before its aggregates.
    pendingRead([
      ['visits_hourly', 'visits-20261120T140000', '2026-11-20 14:00:00', '2026-11-20 15:10:00'],
      ['visitors_daily', 'visits-20261120T140000', '2026-11-20 14:00:00', '2026-11-20 15:10:00'],
    ]);
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x' });
    const { handler, metrics } = setup();
    const result = await handler();
    expect(metrics.recorded).toContainEqual({ name: 'AggregatePendingMinutes', unit: 'None', value: 20, table: 'visits' });
    const [start] = sfn.commandCalls(StartExecutionCommand);
    expect(JSON.parse(start!.args[0].input.input!)).toEqual({ table: 'visits', aggregateOnly: true });
    expect(start!.args[0].input.name).toBe(result.visits!.sweep);
    expect(result.visits).toMatchObject({ pendingAggregateMinutes: 20, pendingLoads: 1 });
  });

  it('sweep: fresh pending work (its own execution is still running) starts nothing', async () => {
    rsd.on(ExecuteStatementCommand).resolves({ Id: 'q1' });
    rsd.on(DescribeStatementCommand, { Id: 'q1' }).resolves({ Id: 'q1', Status: 'FINISHED' });
    rsd.on(GetStatementResultCommand, { Id: 'q1' }).resolves({ Records: [] });
    pendingRead([['visits_hourly', 'visits-20261120T150000', '2026-11-20 15:00:00', '2026-11-20 15:28:00']]);
    const { handler } = setup();
    expect((await handler()).visits).toMatchObject({ pendingAggregateMinutes: 2, pendingLoads: 1 });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});

describe('freshness: the load sweep', () => {
  const stateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:forklift-load';
  const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);
  const arn = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:forklift-load:${name}`;

  it('examines only the unfinished executions of the lookback (paging stops at an older one) and, by their names alone, only automatic loads of known tables', async () => {
    rsd.on(ExecuteStatementCommand).resolves({ Id: 'q1' });
    rsd.on(DescribeStatementCommand, { Id: 'q1' }).resolves({ Id: 'q1', Status: 'FINISHED' });
    rsd.on(GetStatementResultCommand, { Id: 'q1' }).resolves({ Records: [] });
    pendingRead([]);
    sfn.on(ListExecutionsCommand, { statusFilter: 'ABORTED' }).resolves({
      executions: [
        { name: 'gone-20261120T140000', executionArn: arn('gone-20261120T140000'), stateMachineArn, status: 'ABORTED', startDate: hoursAgo(1) },
        { name: 'visits-20261119T100000', executionArn: arn('visits-20261119T100000'), stateMachineArn, status: 'ABORTED', startDate: hoursAgo(30) },
      ],
      nextToken: 'more',
    });
    const aggregate = 'visits-agg-20261120T120000-20261120T120100-sweep';
    const manual = 'visits-20261120T120000-cli-mi2x3k0a1b2c';
    sfn.on(ListExecutionsCommand, { statusFilter: 'FAILED' }).resolves({
      executions: [{ name: aggregate, executionArn: arn(aggregate), stateMachineArn, status: 'FAILED', startDate: hoursAgo(2) }],
    });
    sfn.on(ListExecutionsCommand, { statusFilter: 'TIMED_OUT' }).resolves({
      executions: [{ name: manual, executionArn: arn(manual), stateMachineArn, status: 'TIMED_OUT', startDate: hoursAgo(3) }],
    });
    const warehouse = new DataApiWarehouse(new RedshiftDataClient({ region: 'us-east-1' }), warehouseTarget(config.warehouse), { sleep: noSleep });
    const handler = createFreshnessHandler({
      config, warehouse, log: recordingLog(), metrics: recordingMetrics(), now: () => now,
      sfn: new SFNClient({ region: 'us-east-1' }), s3: new S3Client({ region: 'us-east-1' }), stateMachineArn,
    });
    const result = await handler();
    // One page per status: the ABORTED page holds an execution older than 24 hours, so its next page is never read.
    expect(sfn.commandCalls(ListExecutionsCommand).map((c) => c.args[0].input.statusFilter)).toEqual(['ABORTED', 'FAILED', 'TIMED_OUT']);
    // An unknown table, an aggregate-only run and a manual reload are no candidates: nothing described, listed, read or started.
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
    expect(rsd.commandCalls(BatchExecuteStatementCommand)).toHaveLength(1);
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(0);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(result.visits?.restartedLoads).toBeUndefined();
  });
});


describe('freshness: the load sweep bounds', () => {
  it(`the state read of LOAD_SWEEP_MAX_PARTITIONS partitions stays under the Data API's 100 KB per statement`, () => {
    const tables = Object.keys(config.tables);
    // Millisecond stamps: the longest literals; every partition in one table or spread over all.
    const dates = Array.from({ length: LOAD_SWEEP_MAX_PARTITIONS }, (_, i) => new Date(Date.UTC(2026, 10, 20, 0, 0, 0, 1) + i * 3_600_000));
    for (const requests of [[{ table: tables[0]!, candidates: dates }], tables.map((table, t) => ({ table, candidates: dates.filter((_, i) => i % tables.length === t) }))]) {
      const largest = Math.max(...renderWarehouseStateBatch(config, requests).map((sql) => Buffer.byteLength(sql, 'utf8')));
      expect(largest).toBeLessThan(100 * 1024);
      expect(largest).toBeGreaterThan(LOAD_SWEEP_MAX_PARTITIONS * 30); // the dates are in it
    }
  });
});

describe('freshness: the load sweep budget', () => {
  const stateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:forklift-load';
  const arn = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:forklift-load:${name}`;
  const hour = (h: number) => new Date(Date.UTC(2026, 10, 20, h));

  it('describes only partitions the rules would start, newest first, within the budget; a misnamed manual run is not started; once the budget is spent, the rest wait unlisted', async () => {
    // Nothing loaded anywhere (every read answers no rows); every partition folder holds 3 files.
    rsd.on(ExecuteStatementCommand).resolves({ Id: 'q1' });
    rsd.on(BatchExecuteStatementCommand).resolves({ Id: 'b1' });
    rsd.on(DescribeStatementCommand).resolves({ Status: 'FINISHED' });
    rsd.on(GetStatementResultCommand).resolves({ Records: [] });
    s3.on(ListObjectsV2Command).callsFake((input: { Prefix?: string }) => ({
      IsTruncated: false,
      Contents: [0, 1, 2].map((i) => ({ Key: `${input.Prefix}part-${i}.json.gz`, Size: 100, ETag: `"e${i}"`, LastModified: new Date('2026-11-20T09:00:00Z') })),
    }));
    // Ten failed first loads of visits 05:00 … 14:00, the newest started last; 14:00's input is a forced (manual) run under an automatic name.
    const hours = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
    const names = hours.map((h) => executionName('visits', hour(h)));
    sfn.on(ListExecutionsCommand).resolves({});
    sfn.on(ListExecutionsCommand, { statusFilter: 'FAILED' }).resolves({
      executions: names.map((name, i) => ({ name, executionArn: arn(name), stateMachineArn, status: 'FAILED' as const, startDate: new Date(hour(hours[i]!).getTime() + 600_000) })).reverse(),
    });
    for (const [i, name] of names.entries()) {
      const input = i === 9 ? { table: 'visits', date: hour(14).toISOString(), force: true } : { table: 'visits', date: hour(hours[i]!).toISOString(), observed: { partitionLoaded: false } };
      sfn.on(DescribeExecutionCommand, { executionArn: arn(name) }).resolves({ executionArn: arn(name), status: 'FAILED', input: JSON.stringify(input) });
    }
    sfn.on(StartExecutionCommand).callsFake((input: { name?: string }) => ({ executionArn: arn(input.name ?? '') }));
    const warehouse = new DataApiWarehouse(new RedshiftDataClient({ region: 'us-east-1' }), warehouseTarget(config.warehouse), { sleep: noSleep });
    const handler = createFreshnessHandler({
      config, warehouse, log: recordingLog(), metrics: recordingMetrics(), now: () => now,
      sfn: new SFNClient({ region: 'us-east-1' }), s3: new S3Client({ region: 'us-east-1' }), stateMachineArn, loadSweep: { maxDescribes: 3 },
    });
    const result = await handler();
    // The newest 8 are listed and decided at once; 14:00 (manual input), 13:00, 12:00 spend the three Describes;
    // the other five wait for the next run, 06:00 and 05:00 not even listed.
    expect(sfn.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input.executionArn)).toEqual([names[9]!, names[8]!, names[7]!].map(arn));
    expect(s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input.Prefix).sort()).toEqual(hours.slice(2).map((h) => renderPartitionKey(config, 'visits', hour(h))).sort());
    // Their first names ended FAILED: the retry names are started, without trying the taken names.
    const started = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name);
    expect(started).toEqual([expect.stringMatching(/^visits-20261120T130000-r[0-9a-f]{8}$/), expect.stringMatching(/^visits-20261120T120000-r[0-9a-f]{8}$/)]);
    expect(result.visits?.restartedLoads).toEqual(started);
  });
});
