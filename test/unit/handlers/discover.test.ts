import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ExecutionAlreadyExists, ListExecutionsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { DataApiWarehouse, warehouseTarget } from '../../../functions/adapters/warehouse';
import { retryExecutionName, topUpExecutionName } from '../../../functions/core/names';
import { createDiscoverHandler, parseBody } from '../../../functions/discover/handler';
import { recordingLog, recordingMetrics } from '../../../functions/runtime/observability';
import { exampleConfig, noSleep } from './helpers';

const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const rsd = mockClient(RedshiftDataClient);
const config = exampleConfig();
const bucket = config.landing.bucketName;
const arn = 'arn:aws:states:us-east-1:123456789012:stateMachine:forklift-load';
const now = new Date('2026-11-20T15:00:00Z');

function setup() {
  const log = recordingLog();
  const metrics = recordingMetrics();
  const handler = createDiscoverHandler({
    config,
    s3: new S3Client({ region: 'us-east-1' }),
    sfn: new SFNClient({ region: 'us-east-1' }),
    warehouse: new DataApiWarehouse(new RedshiftDataClient({ region: 'us-east-1' }), warehouseTarget(config.warehouse), { sleep: noSleep }),
    stateMachineArn: arn,
    log,
    metrics,
    now: () => now,
  });
  return { handler, log, metrics };
}

function s3Record(messageId: string, key: string, encoded = true): SQSRecord {
  const body = {
    Records: [
      {
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: bucket }, object: { key: encoded ? encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+') : key, size: 10 } },
      },
    ],
  };
  return { messageId, body: JSON.stringify(body) } as SQSRecord;
}

function eventBridgeRecord(messageId: string, key: string): SQSRecord {
  const body = { source: 'aws.s3', 'detail-type': 'Object Created', detail: { bucket: { name: bucket }, object: { key, size: 10 } } };
  return { messageId, body: JSON.stringify(body) } as SQSRecord;
}

const event = (records: SQSRecord[]): SQSEvent => ({ Records: records });

/** The listing mock: every partition folder holds 3 files, older than the quiet period. */
function mockListing(): void {
  s3.on(ListObjectsV2Command).callsFake((input: { Prefix?: string }) => ({
    IsTruncated: false,
    Contents: [0, 1, 2].map((i) => ({ Key: `${input.Prefix}part-${i}.json.gz`, Size: 100, LastModified: new Date('2026-11-20T14:00:00Z') })),
  }));
}

/** The warehouse mock: state read returns `rows`. */
function mockWarehouse(rows: Array<Array<Record<string, unknown>>> = []): void {
  rsd.on(BatchExecuteStatementCommand).resolves({ Id: 'state-1' });
  rsd.on(DescribeStatementCommand).resolves({ Id: 'state-1', Status: 'FINISHED' });
  rsd.on(GetStatementResultCommand).resolves({ Records: rows as never });
}

/** The warehouse mock by statement: the loads ledger (statement 6) and the file ledger (statement 7). */
function mockLedger(loads: unknown[][], files: unknown[][]): void {
  rsd.on(BatchExecuteStatementCommand).resolves({ Id: 'state-1' });
  rsd.on(DescribeStatementCommand).resolves({ Id: 'state-1', Status: 'FINISHED' });
  rsd.on(GetStatementResultCommand).callsFake((input: { Id?: string }) => ({
    Records: (input.Id === 'state-1:6' ? loads : input.Id === 'state-1:7' ? files : []) as never,
  }));
}

beforeEach(() => {
  s3.reset();
  sfn.reset();
  rsd.reset();
});

describe('parseBody', () => {
  it('decodes S3 notification keys (+ for space) and ignores test events', () => {
    const body = JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 'a+b%3Dc.json', size: 1 } } }] });
    expect(parseBody(body)).toEqual([{ bucket: 'b', key: 'a b=c.json' }]);
    expect(parseBody(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'b' }))).toEqual([]);
    expect(parseBody('{"hello":1}')).toBeUndefined();
    expect(parseBody('not json')).toBeUndefined();
  });

  it('keeps EventBridge keys as they are (not URL-encoded)', () => {
    const body = JSON.stringify({ source: 'aws.s3', 'detail-type': 'Object Created', detail: { bucket: { name: 'b' }, object: { key: 'a+b.json' } } });
    expect(parseBody(body)).toEqual([{ bucket: 'b', key: 'a+b.json' }]);
  });
});

describe('discover', () => {
  it('coalesces 1,000 records for 10 partitions into 10 executions and ONE state read', async () => {
    mockListing();
    mockWarehouse();
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'x', startDate: now });
    const records: SQSRecord[] = [];
    for (let i = 0; i < 1000; i++) {
      const hour = String(i % 10).padStart(2, '0');
      const key = `events/visits/2026-11-20T${hour}/part-${i}.json.gz`;
      records.push(i % 2 ? s3Record(`m${i}`, key) : eventBridgeRecord(`m${i}`, key));
    }
    const { handler, metrics } = setup();

    const result = await handler(event(records));

    expect(result.batchItemFailures).toEqual([]);
    expect(rsd.commandCalls(BatchExecuteStatementCommand)).toHaveLength(1);
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(10);
    const starts = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    expect(starts).toHaveLength(10);
    expect(starts.map((s) => s.name).sort()).toEqual(
      Array.from({ length: 10 }, (_, h) => `visits-20261120T${String(h).padStart(2, '0')}0000`),
    );
    expect(JSON.parse(starts[0]!.input!)).toEqual({
      table: 'visits',
      date: expect.stringMatching(/^2026-11-20T0\d:00:00.000Z$/),
      observed: { partitionLoaded: false, groups: [] },
    });
    expect(metrics.recorded).toContainEqual({ name: 'PartitionsDiscovered', unit: 'Count', value: 10 });
    expect(metrics.recorded.filter((m) => m.name === 'ExecutionsStarted')).toHaveLength(10);
  });

  it('rejects a hostile key with a metric, never puts it into SQL, and does not fail the record', async () => {
    mockListing();
    mockWarehouse();
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'x', startDate: now });
    const hostile = "events/visits/2026-11-20T01/x';DROP TABLE events.visits;--.json";
    const { handler, metrics, log } = setup();

    const result = await handler(event([s3Record('bad', hostile), s3Record('good', 'events/visits/2026-11-20T02/a.json.gz')]));

    expect(result.batchItemFailures).toEqual([]);
    expect(metrics.recorded).toContainEqual({ name: 'KeysRejected', unit: 'Count', value: 1, table: 'visits' });
    const sqls = rsd.commandCalls(BatchExecuteStatementCommand).flatMap((c) => c.args[0].input.Sqls ?? []);
    expect(sqls.length).toBeGreaterThan(0);
    expect(sqls.join('\n')).not.toContain('DROP');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
    expect(log.lines.some((l) => l.level === 'warn' && l.message === 'key rejected')).toBe(true);
  });

  it('reports only the malformed record as a batch item failure', async () => {
    mockListing();
    mockWarehouse();
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'x', startDate: now });
    const { handler } = setup();
    const result = await handler(
      event([{ messageId: 'junk', body: '{"nope":true' } as SQSRecord, s3Record('ok', 'events/visits/2026-11-20T03/a.json.gz')]),
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'junk' }]);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('ignores keys of no table and S3 test events without SQL', async () => {
    const { handler } = setup();
    const result = await handler(
      event([
        s3Record('other', 'somewhere/else.json'),
        { messageId: 'test', body: JSON.stringify({ Event: 's3:TestEvent' }) } as SQSRecord,
      ]),
    );
    expect(result.batchItemFailures).toEqual([]);
    expect(rsd.calls()).toHaveLength(0);
  });

  it('skips a partition already loaded, with LoadsSkipped', async () => {
    mockListing();
    const row = (kind: string, date: string) => [
      { stringValue: kind },
      { stringValue: 'visits' },
      { isNull: true },
      { isNull: true },
      { isNull: true },
      { isNull: true },
      { isNull: true },
      { isNull: true },
      { stringValue: date },
    ];
    const file = (i: number) => [
      { stringValue: 'file' },
      { stringValue: 'visits' },
      { stringValue: `events/visits/2026-11-20T05/part-${i}.json.gz` },
      ...Array.from({ length: 5 }, () => ({ isNull: true })),
      { stringValue: '2026-11-20 05:00:00' },
    ];
    mockLedger([row('loaded', '2026-11-20 05:00:00'), row('newest', '2026-11-20 05:00:00')], [file(0), file(1), file(2)]);
    const { handler, metrics, log } = setup();
    await handler(event([s3Record('a', 'events/visits/2026-11-20T05/a.json.gz')]));
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(metrics.recorded).toContainEqual({ name: 'LoadsSkipped', unit: 'Count', value: 1, table: 'visits' });
    expect(log.lines.find((l) => l.message === 'load skipped')?.attributes?.reason).toMatch(/already loaded/);
  });

  it('tops up an already loaded partition whose listing has files the ledger lacks, named after those files', async () => {
    mockListing();
    const row = (kind: string, date: string) => [{ stringValue: kind }, { stringValue: 'visits' }, ...Array.from({ length: 6 }, () => ({ isNull: true })), { stringValue: date }];
    const file = [{ stringValue: 'file' }, { stringValue: 'visits' }, { stringValue: 'events/visits/2026-11-20T05/part-0.json.gz' }, ...Array.from({ length: 5 }, () => ({ isNull: true })), { stringValue: '2026-11-20 05:00:00' }];
    mockLedger([row('loaded', '2026-11-20 05:00:00'), row('newest', '2026-11-20 05:00:00')], [file]);
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'x', startDate: now });
    const { handler, log } = setup();
    const result = await handler(event([s3Record('a', 'events/visits/2026-11-20T05/part-2.json.gz')]));
    expect(result.batchItemFailures).toEqual([]);
    const start = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(start.name).toBe(topUpExecutionName('visits', new Date('2026-11-20T05:00:00Z'), ['events/visits/2026-11-20T05/part-1.json.gz', 'events/visits/2026-11-20T05/part-2.json.gz']));
    expect(JSON.parse(start.input!)).toMatchObject({ table: 'visits', observed: { partitionLoaded: true } });
    expect(log.lines.find((l) => l.message === 'load started')?.attributes?.reason).toMatch(/2 new files arrived for partition 2026-11-20T05:00:00Z/);
  });

  it('redelivers the records of a partition whose load (first or top-up) is still running, without listing it', async () => {
    mockListing();
    mockWarehouse();
    sfn.on(ListExecutionsCommand).resolves({ executions: [{ name: 'visits-20261120T050000-0a1b2c3d', executionArn: 'x', stateMachineArn: arn, status: 'RUNNING', startDate: now }] });
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'x', startDate: now });
    const { handler } = setup();
    const result = await handler(event([s3Record('a', 'events/visits/2026-11-20T05/a.json.gz'), s3Record('b', 'events/visits/2026-11-20T06/a.json.gz')]));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'a' }]);
    expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name)).toEqual(['visits-20261120T060000']);
    expect(s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input.Prefix)).toEqual(['events/visits/2026-11-20T06/']);
  });

  it('a running partition with several events in the batch: one of them comes back (the one received the fewest times), the others are deleted', async () => {
    mockListing();
    mockWarehouse();
    sfn.on(ListExecutionsCommand).resolves({ executions: [{ name: 'visits-20261120T050000', executionArn: 'x', stateMachineArn: arn, status: 'RUNNING', startDate: now }] });
    const { handler, log } = setup();
    const received = (id: string, key: string, count: number): SQSRecord => ({ ...s3Record(id, key), attributes: { ApproximateReceiveCount: String(count) } as SQSRecord['attributes'] });
    const result = await handler(
      event([
        received('a', 'events/visits/2026-11-20T05/a.json.gz', 3),
        received('b', 'events/visits/2026-11-20T05/b.json.gz', 1),
        received('c', 'events/visits/2026-11-20T05/c.json.gz', 2),
      ]),
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'b' }]);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(0);
    expect(log.lines.filter((l) => l.message.startsWith('a load of this partition is running'))).toHaveLength(1);
  });

  it('reads the warehouse state of the partitions whose load is not running only, and none when every one runs', async () => {
    mockListing();
    mockWarehouse();
    sfn.on(ListExecutionsCommand).resolves({ executions: [{ name: 'visits-20261120T050000', executionArn: 'x', stateMachineArn: arn, status: 'RUNNING', startDate: now }] });
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'x', startDate: now });
    const { handler } = setup();
    expect((await handler(event([s3Record('a', 'events/visits/2026-11-20T05/a.json.gz')]))).batchItemFailures).toEqual([{ itemIdentifier: 'a' }]);
    expect(rsd.commandCalls(BatchExecuteStatementCommand)).toHaveLength(0);
    await handler(event([s3Record('a', 'events/visits/2026-11-20T05/a.json.gz'), s3Record('b', 'events/visits/2026-11-20T06/a.json.gz')]));
    const sql = rsd.commandCalls(BatchExecuteStatementCommand).flatMap((c) => c.args[0].input.Sqls ?? []).join('\n');
    expect(sql).toContain("'2026-11-20 06:00:00'");
    expect(sql).not.toContain("'2026-11-20 05:00:00'");
  });

  it('ExecutionAlreadyExists of a running execution (started by another discover): redelivers', async () => {
    mockListing();
    mockWarehouse();
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'dup', $metadata: {} }));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', executionArn: 'x', stateMachineArn: arn, startDate: now, input: '{}' });
    const { handler } = setup();
    const result = await handler(event([s3Record('a', 'events/visits/2026-11-20T05/a.json.gz')]));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'a' }]);
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]!.args[0].input.executionArn).toBe('arn:aws:states:us-east-1:123456789012:execution:forklift-load:visits-20261120T050000');
  });

  it('treats ExecutionAlreadyExists of a succeeded execution as handled, logged at info', async () => {
    mockListing();
    mockWarehouse();
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'dup', $metadata: {} }));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED', stopDate: new Date(Date.now() - 60_000), executionArn: 'x', stateMachineArn: arn, startDate: now, input: '{}' });
    const { handler, metrics, log } = setup();
    const result = await handler(event([s3Record('a', 'events/visits/2026-11-20T05/a.json.gz')]));
    expect(result.batchItemFailures).toEqual([]);
    expect(metrics.recorded.filter((m) => m.name === 'ExecutionsStarted')).toHaveLength(0);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
    expect(log.lines.find((l) => l.message.startsWith('load skipped'))?.level).toBe('info');
  });

  it('a failed or stopped execution under the name (no failed row: killed): attempts again under the retry name, once', async () => {
    mockListing();
    mockWarehouse();
    sfn.on(StartExecutionCommand).callsFake((input: { name?: string }) => {
      if (input.name === 'visits-20261120T050000') throw new ExecutionAlreadyExists({ message: 'dup', $metadata: {} });
      return { executionArn: 'x', startDate: now };
    });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'ABORTED', stopDate: new Date(Date.now() - 60_000), executionArn: 'x', stateMachineArn: arn, startDate: now, input: '{}' });
    const { handler, metrics } = setup();
    const result = await handler(event([s3Record('a', 'events/visits/2026-11-20T05/a.json.gz')]));
    expect(result.batchItemFailures).toEqual([]);
    const names = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name);
    expect(names).toEqual(['visits-20261120T050000', expect.stringMatching(/^visits-20261120T050000-r[0-9a-f]{8}$/)]);
    expect(metrics.recorded.filter((m) => m.name === 'ExecutionsStarted')).toHaveLength(1);
  });

  it('a partition whose failed rows name both attempts: skipped at info with what to do, nothing started', async () => {
    mockListing();
    const failedRow = (id: string) => [{ stringValue: 'failed' }, { stringValue: 'visits' }, { stringValue: id }, ...Array.from({ length: 5 }, () => ({ isNull: true })), { stringValue: '2026-11-20 05:00:00' }];
    const retry = retryExecutionName('visits', new Date('2026-11-20T05:00:00Z'), [0, 1, 2].map((i) => `events/visits/2026-11-20T05/part-${i}.json.gz`));
    mockLedger([failedRow('visits-20261120T050000'), failedRow(retry)], []);
    const { handler, metrics, log } = setup();
    await handler(event([s3Record('a', 'events/visits/2026-11-20T05/part-0.json.gz')]));
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(metrics.recorded).toContainEqual({ name: 'LoadsSkipped', unit: 'Count', value: 1, table: 'visits' });
    const line = log.lines.find((l) => l.message === 'load skipped');
    expect(line?.level).toBe('info');
    expect(line?.attributes?.reason).toMatch(/failed with these exact files; put a fixed file/);
  });

  it('fails the records of a partition whose StartExecution failed, and only those', async () => {
    mockListing();
    mockWarehouse();
    sfn
      .on(StartExecutionCommand, { name: 'visits-20261120T060000' })
      .rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }))
      .on(StartExecutionCommand, { name: 'visits-20261120T070000' })
      .resolves({ executionArn: 'x', startDate: now });
    const { handler } = setup();
    const result = await handler(
      event([
        s3Record('a1', 'events/visits/2026-11-20T06/a.json.gz'),
        s3Record('a2', 'events/visits/2026-11-20T06/b.json.gz'),
        s3Record('b1', 'events/visits/2026-11-20T07/a.json.gz'),
      ]),
    );
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['a1', 'a2']);
  });

  it('audit tables of an older version (no load_files.etag): the state read fails once, the missing columns are added each on its own, the read runs again', async () => {
    mockListing();
    let reads = 0;
    rsd.on(BatchExecuteStatementCommand).callsFake((input: { Sqls?: string[] }) => ({ Id: input.Sqls?.some((q) => q.includes("'failed'")) ? `state-${++reads}` : 'columns' }));
    rsd.on(DescribeStatementCommand).callsFake((input: { Id?: string }) =>
      input.Id === 'state-1' ? { Id: 'state-1', Status: 'FAILED', Error: 'ERROR: column "etag" does not exist' } : { Id: input.Id, Status: 'FINISHED' },
    );
    rsd.on(GetStatementResultCommand).resolves({ Records: [] });
    rsd.on(ExecuteStatementCommand).resolves({ Id: 'alter' });
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'x', startDate: now });
    const { handler } = setup();
    const result = await handler(event([s3Record('a', 'events/visits/2026-11-20T05/a.json.gz')]));
    expect(result.batchItemFailures).toEqual([]);
    // The catalog reports none of the added columns: each is added, one ALTER each.
    expect(rsd.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input.Sql)).toEqual([
      'ALTER TABLE "forklift"."load_files" ADD COLUMN "etag" VARCHAR(128)',
      'ALTER TABLE "forklift"."loads" ADD COLUMN "planned_at" TIMESTAMP',
    ]);
    expect(reads).toBe(2);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it("keeps what its state reads created for its next invocations: the next read renders no DDL, and runs again with it when its catalog SELECT misses a table", async () => {
    mockListing();
    mockWarehouse(); // every SELECT returns no row: the next catalog SELECT finds nothing it knew
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'x', startDate: now });
    const { handler } = setup();
    await handler(event([s3Record('a', 'events/visits/2026-11-20T05/a.json.gz')]));
    await handler(event([s3Record('b', 'events/visits/2026-11-20T06/a.json.gz')]));
    const batches = rsd.commandCalls(BatchExecuteStatementCommand).map((c) => c.args[0].input.Sqls!);
    const ddl = (sqls: string[]) => sqls.filter((q) => /^CREATE /.test(q)).length;
    expect(batches.map(ddl)).toEqual([7, 0, 7]);
    expect(batches[1]).toHaveLength(4);
    // Another instance (another container) knows nothing: its first read has the DDL.
    await setup().handler(event([s3Record('c', 'events/visits/2026-11-20T07/a.json.gz')]));
    expect(ddl(rsd.commandCalls(BatchExecuteStatementCommand)[3]!.args[0].input.Sqls!)).toBe(7);
  });

  it('fails every partition record when the state read fails', async () => {
    rsd.on(BatchExecuteStatementCommand).rejects(Object.assign(new Error('boom'), { name: 'InternalServerException' }));
    const { handler } = setup();
    const result = await handler(event([s3Record('a', 'events/visits/2026-11-20T05/a.json.gz'), s3Record('x', 'elsewhere/k')]));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'a' }]);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});
