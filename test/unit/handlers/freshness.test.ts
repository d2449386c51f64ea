import {
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { mockClient } from 'aws-sdk-client-mock';
import { DataApiWarehouse, warehouseTarget } from '../../../functions/adapters/warehouse';
import { NEVER_LOADED_LAG_MINUTES, createFreshnessHandler } from '../../../functions/freshness/handler';
import { recordingLog, recordingMetrics } from '../../../functions/runtime/observability';
import { exampleConfig, noSleep } from './helpers';

const rsd = mockClient(RedshiftDataClient);
const config = exampleConfig();
const now = new Date('2026-11-20T15:30:00Z');

function setup() {
  const metrics = recordingMetrics();
  const warehouse = new DataApiWarehouse(new RedshiftDataClient({ region: 'us-east-1' }), warehouseTarget(config.warehouse), { sleep: noSleep });
  return { metrics, handler: createFreshnessHandler({ config, warehouse, log: recordingLog(), metrics, now: () => now }) };
}

beforeEach(() => rsd.reset());

describe('freshness', () => {
  it('emits DataLagMinutes per table from one read; a never-loaded table gets a huge lag', async () => {
    rsd.on(ExecuteStatementCommand).resolves({ Id: 'q1' });
    rsd.on(DescribeStatementCommand).resolves({ Id: 'q1', Status: 'FINISHED' });
    rsd.on(GetStatementResultCommand).resolves({
      Records: [[{ stringValue: 'visits' }, { stringValue: '2026-11-20 13:00:00' }, { stringValue: '2026-11-20 14:05:00' }]],
    });
    const { handler, metrics } = setup();
    const result = await handler();
    expect(rsd.commandCalls(ExecuteStatementCommand)).toHaveLength(1);
    expect(result).toEqual({
      visits: { newestPartition: '2026-11-20T13:00:00.000Z', lagMinutes: 90 },
      campaigns: { newestPartition: null, lagMinutes: NEVER_LOADED_LAG_MINUTES },
    });
    expect(metrics.recorded).toEqual([
      { name: 'DataLagMinutes', unit: 'None', value: 90, table: 'visits' },
      { name: 'DataLagMinutes', unit: 'None', value: NEVER_LOADED_LAG_MINUTES, table: 'campaigns' },
    ]);
  });

  it('treats a missing audit table as no loads', async () => {
    rsd.on(ExecuteStatementCommand).resolves({ Id: 'q1' });
    rsd.on(DescribeStatementCommand).resolves({ Id: 'q1', Status: 'FAILED', Error: 'ERROR: relation "forklift.loads" does not exist' });
    const { handler } = setup();
    const result = await handler();
    expect(result.visits!.lagMinutes).toBe(NEVER_LOADED_LAG_MINUTES);
  });
});
