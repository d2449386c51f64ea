import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DataApiWarehouse,
  TransientError,
  fieldValue,
  observedState,
  query,
  queryBatch,
  stateFor,
  toObserved,
  warehouseTarget,
} from '../../../functions/adapters/warehouse';
import { StatementFailedError } from '../../../functions/core/errors';

const rsd = mockClient(RedshiftDataClient);
const client = new RedshiftDataClient({ region: 'us-east-1' });
const target = { Database: 'dev', ClusterIdentifier: 'forklift-example', DbUser: 'forklift' };
const noSleep = async (): Promise<void> => {};

beforeEach(() => rsd.reset());

describe('observed state', () => {
  it("carries the table's recent load durations from discover's read to Prepare's plan", () => {
    const table = { loadedPartitions: new Set<string>(), loadedFiles: new Map(), failedLoads: new Map(), existingGroups: new Set<string>(), recentLoadSeconds: [12, 9] };
    const state = stateFor(table, new Date('2026-11-20T13:00:00Z'));
    expect(state.recentLoadSeconds).toEqual([12, 9]);
    expect(observedState(JSON.parse(JSON.stringify(toObserved(state)))).recentLoadSeconds).toEqual([12, 9]);
    expect(toObserved(stateFor({ ...table, recentLoadSeconds: undefined }, new Date())).recentLoadSeconds).toBeUndefined();
  });
});

describe('warehouseTarget', () => {
  const base = { database: 'dev', copyRoleArn: 'arn:aws:iam::123456789012:role/r', auditSchema: 'forklift' };
  it('cluster with a database user', () => {
    expect(warehouseTarget({ ...base, clusterIdentifier: 'c1', dbUser: 'u' })).toEqual({
      Database: 'dev',
      ClusterIdentifier: 'c1',
      DbUser: 'u',
    });
  });
  it('cluster with a secret', () => {
    const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:s';
    expect(warehouseTarget({ ...base, clusterIdentifier: 'c1', secretArn })).toEqual({
      Database: 'dev',
      ClusterIdentifier: 'c1',
      SecretArn: secretArn,
    });
  });
  it('serverless workgroup', () => {
    expect(warehouseTarget({ ...base, workgroupName: 'wg1' })).toEqual({ Database: 'dev', WorkgroupName: 'wg1' });
  });
  it('refuses a cluster without credentials', () => {
    expect(() => warehouseTarget({ ...base, clusterIdentifier: 'c1' })).toThrow(/dbUser or secretArn/);
  });
});

describe('fieldValue', () => {
  it('converts every Field variant to a plain value', () => {
    expect(fieldValue({ stringValue: 'a' })).toBe('a');
    expect(fieldValue({ longValue: 42 })).toBe(42);
    expect(fieldValue({ doubleValue: 1.5 })).toBe(1.5);
    expect(fieldValue({ booleanValue: false })).toBe(false);
    expect(fieldValue({ isNull: true })).toBeNull();
    expect(fieldValue({ blobValue: new Uint8Array([104, 105]) })).toBe('aGk=');
  });
});

describe('DataApiWarehouse', () => {
  it('submits with the target and paginates results to the end', async () => {
    rsd.on(ExecuteStatementCommand).resolves({ Id: 's1' });
    rsd.on(DescribeStatementCommand).resolvesOnce({ Id: 's1', Status: 'STARTED' }).resolves({ Id: 's1', Status: 'FINISHED' });
    rsd
      .on(GetStatementResultCommand, { Id: 's1', NextToken: undefined })
      .resolves({ Records: [[{ stringValue: 'visits' }, { longValue: 3 }]], NextToken: 'p2' })
      .on(GetStatementResultCommand, { Id: 's1', NextToken: 'p2' })
      .resolves({ Records: [[{ stringValue: 'campaigns' }, { isNull: true }]] });

    const warehouse = new DataApiWarehouse(client, target, { sleep: noSleep });
    const rows = await query(warehouse, 'SELECT 1');

    expect(rows).toEqual([
      ['visits', 3],
      ['campaigns', null],
    ]);
    expect(rsd.commandCalls(ExecuteStatementCommand)[0]!.args[0].input).toMatchObject({ ...target, Sql: 'SELECT 1' });
    expect(rsd.commandCalls(DescribeStatementCommand)).toHaveLength(2);
    expect(rsd.commandCalls(GetStatementResultCommand)).toHaveLength(2);
  });

  it('reads a batch sub-statement by <id>:<n> and reports sub-statements', async () => {
    rsd.on(BatchExecuteStatementCommand).resolves({ Id: 'b1' });
    rsd.on(DescribeStatementCommand).resolves({
      Id: 'b1',
      Status: 'FINISHED',
      SubStatements: [
        { Id: 'b1:1', Status: 'FINISHED', ResultRows: 0, Duration: 1000 },
        { Id: 'b1:2', Status: 'FINISHED', ResultRows: 1, Duration: 2000 },
      ],
    });
    rsd.on(GetStatementResultCommand, { Id: 'b1:2' }).resolves({ Records: [[{ booleanValue: true }]] });
    const warehouse = new DataApiWarehouse(client, target, { sleep: noSleep });

    await expect(queryBatch(warehouse, ['SELECT 1', 'SELECT 2'], 2)).resolves.toEqual([[true]]);
    expect(rsd.commandCalls(BatchExecuteStatementCommand)[0]!.args[0].input).toMatchObject({ ...target, Sqls: ['SELECT 1', 'SELECT 2'] });
    const info = await warehouse.waitFor('b1');
    expect(info.subStatements.map((s) => [s.id, s.resultRows, s.durationNs])).toEqual([
      ['b1:1', 0, 1000],
      ['b1:2', 1, 2000],
    ]);
  });

  it.each(['FAILED', 'ABORTED'] as const)('%s → StatementFailedError with the Data API error', async (status) => {
    rsd.on(DescribeStatementCommand).resolves({ Id: 's1', Status: status, Error: 'ERROR: relation "x" does not exist' });
    const errors: unknown[] = [];
    const warehouse = new DataApiWarehouse(client, target, { sleep: noSleep, onError: (e) => errors.push(e) });
    const failure = warehouse.waitFor('s1');
    await expect(failure).rejects.toBeInstanceOf(StatementFailedError);
    await expect(warehouse.waitFor('s1')).rejects.toThrow(/relation "x" does not exist/);
    expect(errors.length).toBeGreaterThan(0);
  });

  it('retries throttling with backoff, then succeeds', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    rsd.on(ExecuteStatementCommand).rejectsOnce(throttled).rejectsOnce(throttled).resolves({ Id: 's9' });
    const delays: number[] = [];
    const warehouse = new DataApiWarehouse(client, target, {
      sleep: async (ms) => {
        delays.push(ms);
      },
      baseDelayMs: 100,
    });
    await expect(warehouse.execute('SELECT 1')).resolves.toBe('s9');
    expect(delays).toHaveLength(2);
    expect(delays[1]!).toBeLessThanOrEqual(200);
  });

  it('gives up on persistent throttling with a TransientError', async () => {
    rsd.on(BatchExecuteStatementCommand).rejects(Object.assign(new Error('busy'), { name: 'ActiveStatementsExceededException' }));
    const warehouse = new DataApiWarehouse(client, target, { sleep: noSleep, maxAttempts: 3 });
    await expect(warehouse.batch(['SELECT 1'])).rejects.toBeInstanceOf(TransientError);
    expect(rsd.commandCalls(BatchExecuteStatementCommand)).toHaveLength(3);
  });

  it('does not retry validation errors', async () => {
    rsd.on(ExecuteStatementCommand).rejects(Object.assign(new Error('bad'), { name: 'ValidationException' }));
    const warehouse = new DataApiWarehouse(client, target, { sleep: noSleep });
    await expect(warehouse.execute('SELECT 1')).rejects.toThrow('bad');
    expect(rsd.commandCalls(ExecuteStatementCommand)).toHaveLength(1);
  });

  it('times out a statement that never finishes', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Id: 's1', Status: 'STARTED' });
    const warehouse = new DataApiWarehouse(client, target, { sleep: noSleep });
    await expect(warehouse.waitFor('s1', { pollMs: 10, timeoutMs: 50 })).rejects.toBeInstanceOf(TransientError);
  });
});
