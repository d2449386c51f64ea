import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { mockClient } from 'aws-sdk-client-mock';
import { DataApiWarehouse, warehouseTarget } from '../../../functions/adapters/warehouse';
import { classifyError, createRecordFailureHandler } from '../../../functions/record-failure/handler';
import { recordingLog, recordingMetrics } from '../../../functions/runtime/observability';
import { exampleConfig, noSleep } from './helpers';

const rsd = mockClient(RedshiftDataClient);
const config = exampleConfig();
const now = new Date('2026-11-20T15:00:00Z');

function setup() {
  const metrics = recordingMetrics();
  const warehouse = new DataApiWarehouse(new RedshiftDataClient({ region: 'us-east-1' }), warehouseTarget(config.warehouse), { sleep: noSleep });
  return { metrics, handler: createRecordFailureHandler({ config, warehouse, log: recordingLog(), metrics, now: () => now }) };
}

const plan = {
  action: 'load' as const,
  reason: 'newer',
  loadId: 'visits-20261120T130000',
  table: 'visits',
  partitionDate: '2026-11-20T13:00:00.000Z',
  partitionKey: 'events/visits/2026-11-20T13/',
  files: 2,
  mode: 'append',
  pollSeconds: 2,
  steps: [],
  startedAt: '2026-11-20T14:58:00.000Z',
};

beforeEach(() => rsd.reset());

describe('classifyError', () => {
  it('reads Lambda error JSON', () => {
    expect(
      classifyError({ Error: 'SchemaChangeError', Cause: JSON.stringify({ errorType: 'SchemaChangeError', errorMessage: 'incompatible' }) }),
    ).toEqual({ name: 'SchemaChangeError', message: 'incompatible', copy: false });
  });
  it('recognizes COPY failures in the Data API error text', () => {
    expect(
      classifyError({ Error: 'StatementFailed', Cause: "Load into table 'forklift_staging' failed. Check 'stl_load_errors' system table for details." }).name,
    ).toBe('CopyError');
    expect(classifyError({ Error: 'StatementFailed', Cause: 'ERROR: permission denied' }).name).toBe('StatementFailed');
  });
});

describe('record-failure', () => {
  it('records a COPY failure with file, line and column from sys_load_error_detail and returns a readable cause', async () => {
    rsd.on(BatchExecuteStatementCommand).resolves({ Id: 'f1' });
    rsd.on(DescribeStatementCommand).resolves({ Id: 'f1', Status: 'FINISHED' });
    rsd.on(GetStatementResultCommand, { Id: 'f1:6' }).resolves({
      Records: [
        [
          { stringValue: 's3://forklift-landing-example/events/visits/2026-11-20T13/part-1.json.gz' },
          { longValue: 17 },
          { stringValue: 'campaign_id' },
          { stringValue: 'COPY failed: Invalid digit, Value \'x\', Pos 0, Type: Integer' },
        ],
      ],
    });
    const { handler, metrics } = setup();

    const out = await handler({
      table: 'visits',
      plan,
      load: { Id: 'b1', Status: 'FAILED' },
      error: { Error: 'StatementFailed', Cause: "Load into table 'forklift_staging' failed. Check 'stl_load_errors' system table for details." },
    });

    expect(out).toEqual({
      error: 'CopyError',
      cause:
        "COPY failed: Invalid digit, Value 'x', Pos 0, Type: Integer (file s3://forklift-landing-example/events/visits/2026-11-20T13/part-1.json.gz, line 17, column campaign_id)",
    });
    const sqls = rsd.commandCalls(BatchExecuteStatementCommand)[0]!.args[0].input.Sqls!;
    const insert = sqls.find((s) => s.startsWith('INSERT INTO "forklift"."loads"'))!;
    expect(insert).toContain('FROM sys_load_error_detail');
    expect(insert).toContain("'s3://forklift-landing-example/events/visits/2026-11-20T13/'");
    expect(insert).toContain("'visits-20261120T130000'");
    expect(sqls).toHaveLength(6);
    expect(metrics.recorded).toEqual([{ name: 'LoadsFailed', unit: 'Count', value: 1, table: 'visits' }]);
  });

  it('records a Prepare failure (Lambda error JSON) and returns its typed name', async () => {
    rsd.on(BatchExecuteStatementCommand).resolves({ Id: 'f2' });
    rsd.on(DescribeStatementCommand).resolves({ Id: 'f2', Status: 'FINISHED' });
    const { handler } = setup();
    const out = await handler({
      table: 'visits',
      date: '2026-11-20T09',
      error: {
        Error: 'PartitionNotFoundError',
        Cause: JSON.stringify({ errorType: 'PartitionNotFoundError', errorMessage: "no partition 2026-11-20T09:00:00Z for table 'visits'", trace: [] }),
      },
    });
    expect(out).toEqual({ error: 'PartitionNotFoundError', cause: "no partition 2026-11-20T09:00:00Z for table 'visits'" });
    const sqls = rsd.commandCalls(BatchExecuteStatementCommand)[0]!.args[0].input.Sqls!;
    const insert = sqls.find((sql) => sql.startsWith('INSERT INTO "forklift"."loads"'));
    expect(insert).toMatch(/ SELECT .*'failed'/);
    // Not a COPY failure: no sys_load_error_detail lookup.
    expect(insert).not.toContain('sys_load_error_detail');
  });

  it('still returns the error when the audit write fails', async () => {
    rsd.on(BatchExecuteStatementCommand).rejects(Object.assign(new Error('denied'), { name: 'ValidationException' }));
    const { handler } = setup();
    const out = await handler({ plan, error: { Error: 'StatementFailed', Cause: 'ERROR: deadlock detected' } });
    expect(out.error).toBe('StatementFailed');
    expect(out.cause).toMatch(/^ERROR: deadlock detected \(not recorded in the audit table: denied\)$/);
  });
});
