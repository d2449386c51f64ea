import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { DataApiWarehouse, warehouseTarget } from '../../../functions/adapters/warehouse';
import { SchemaChangeError } from '../../../functions/core/errors';
import { createPrepareHandler, loadInputOf } from '../../../functions/prepare/handler';
import { recordingLog } from '../../../functions/runtime/observability';
import { exampleConfig, noSleep } from './helpers';

const s3 = mockClient(S3Client);
const rsd = mockClient(RedshiftDataClient);
const config = exampleConfig();
// The default policy for older partitions (the example's visits table loads them).
config.tables['visits']!.olderPartitions = 'skip';
const now = new Date('2026-11-20T15:00:00Z');
const lastModified = new Date('2026-11-20T14:10:00Z');

function setup() {
  const warehouse = new DataApiWarehouse(new RedshiftDataClient({ region: 'us-east-1' }), warehouseTarget(config.warehouse), { sleep: noSleep });
  return createPrepareHandler({ config, s3: new S3Client({ region: 'us-east-1' }), warehouse, log: recordingLog(), now: () => now });
}

function mockListing(): void {
  s3.on(ListObjectsV2Command).callsFake((input: { Prefix?: string }) => ({
    IsTruncated: false,
    Contents: ['12', '13'].flatMap((h) =>
      [0, 1].map((i) => ({ Key: `events/visits/2026-11-20T${h}/part-${i}.json.gz`, Size: 100, LastModified: lastModified })),
    ).filter((o) => o.Key.startsWith(input.Prefix ?? '')),
  }));
  s3.on(PutObjectCommand).resolves({});
}

/**
 * The Data API answers: the aggregate-table read (Id `agg`: its catalog SELECT finds no table, so
 * they are created as configured) and any other batch (Id `s1`, results from `results`).
 */
function mockWarehouse(results: (id: string) => unknown[][] = () => []): void {
  rsd.on(BatchExecuteStatementCommand).callsFake((input: { Sqls?: string[] }) => ({
    Id: input.Sqls?.some((q) => q.includes('aggregated_loads')) ? 'agg' : 's1',
  }));
  rsd.on(DescribeStatementCommand).callsFake((input: { Id?: string }) => ({ Id: input.Id, Status: 'FINISHED' }));
  rsd.on(GetStatementResultCommand).callsFake((input: { Id?: string }) => ({ Records: input.Id?.startsWith('agg:') ? [] : results(input.Id ?? '') }));
}

const aggregateReads = () =>
  rsd.commandCalls(BatchExecuteStatementCommand).filter((c) => c.args[0].input.Sqls!.some((q) => q.includes('aggregated_loads')));

const event = (input: Record<string, unknown>) => ({ input, execution: 'visits-20261120T130000', startedAt: '2026-11-20T14:59:00.000Z' });

beforeEach(() => {
  s3.reset();
  rsd.reset();
});

describe('prepare', () => {
  it('uses discover\'s observed state (no state read), reads and creates the aggregate tables, plans them inside the load batch, writes the manifest', async () => {
    mockListing();
    mockWarehouse();
    const plan = await setup()(event({ table: 'visits', date: '2026-11-20T13:00:00.000Z', observed: { partitionLoaded: false, newestLoaded: '2026-11-20T12:00:00.000Z' } }));

    expect(plan).toMatchObject({ action: 'load', loadId: 'visits-20261120T130000', files: 2, startedAt: '2026-11-20T14:59:00.000Z' });
    // One submission: the aggregate tables' columns (and their CREATE ... IF NOT EXISTS); no warehouse-state read.
    expect(rsd.commandCalls(BatchExecuteStatementCommand)).toHaveLength(1);
    const read = aggregateReads()[0]!.args[0].input.Sqls!;
    expect(read.some((q) => q.includes('information_schema.columns'))).toBe(true);
    expect(read).toEqual(expect.arrayContaining([expect.stringMatching(/^CREATE TABLE IF NOT EXISTS "facts"\."visitors_daily__visitors__keys"/)]));
    // The aggregates run in the load's transaction: no PlanAggregates after it; the LOCK takes their tables.
    expect(plan.aggregates).toBeUndefined();
    expect(plan.loadRequest!.Sqls[0]).toMatch(/^LOCK "events"\."visits", "facts"\."visitors_daily", .*"facts"\."visits_hourly", "forklift"\."ledger__events__visits"$/);
    expect(plan.loadRequest!.Sqls.some((q) => q.startsWith('INSERT INTO "facts"."visits_hourly"'))).toBe(true);
    expect(plan.steps.map((s) => [s.kind, s.name])).toEqual([['raw', 'visits'], ['fact', 'visits_hourly'], ['fact', 'visitors_daily']]);
    expect(s3.commandCalls(ListObjectsV2Command)[0]!.args[0].input.Prefix).toBe('events/visits/2026-11-20T13/');
    const put = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(put.Key).toBe('_forklift/manifests/visits/visits-20261120T130000.manifest');
    expect(JSON.parse(String(put.Body)).entries).toHaveLength(2);
  });

  it('reads the warehouse once on a manual run, then skips with the rules\' reason', async () => {
    mockListing();
    rsd.on(BatchExecuteStatementCommand).resolves({ Id: 's1' });
    rsd.on(DescribeStatementCommand).resolves({ Id: 's1', Status: 'FINISHED' });
    const nulls = Array.from({ length: 6 }, () => ({ isNull: true }));
    rsd.on(GetStatementResultCommand).resolves({
      Records: [[{ stringValue: 'newest' }, { stringValue: 'visits' }, ...nulls, { stringValue: '2026-11-20 14:00:00' }]],
    });
    const plan = await setup()(event({ table: 'visits', date: '2026-11-20T13' }));
    expect(plan.action).toBe('skip');
    expect(plan.reason).toMatch(/older than the newest loaded partition 2026-11-20T14:00:00Z/);
    expect(rsd.commandCalls(BatchExecuteStatementCommand)).toHaveLength(1);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('manual runs served by one instance: the first state read creates the tables, the next one (its catalog SELECT finding them) renders no DDL', async () => {
    mockListing();
    rsd.on(BatchExecuteStatementCommand).resolves({ Id: 's1' });
    rsd.on(DescribeStatementCommand).resolves({ Id: 's1', Status: 'FINISHED' });
    const nulls = (n: number) => Array.from({ length: n }, () => ({ isNull: true }));
    const relation = (name: string) => [{ stringValue: 'relation' }, { stringValue: name }, ...nulls(7)];
    const catalog = [
      [{ stringValue: 'column' }, { stringValue: 'visits' }, { stringValue: 'visit_id' }, { stringValue: 'character varying' }, { longValue: 36 }, ...nulls(2), { longValue: 1 }, { isNull: true }],
      ...['loads', 'load_files', 'affected_hours', 'ledger__events__visits'].map(relation),
    ];
    const newest = [[{ stringValue: 'newest' }, { stringValue: 'visits' }, ...nulls(6), { stringValue: '2026-11-20 14:00:00' }]];
    // The catalog SELECT is statement 5 after the audit DDL, 1 without it; the ledger SELECT follows it.
    rsd.on(GetStatementResultCommand).callsFake((input: { Id?: string }) => ({
      Records: /:(1|5)$/.test(input.Id ?? '') ? catalog : /:(2|6)$/.test(input.Id ?? '') ? newest : [],
    }));
    const prepare = setup();
    expect((await prepare(event({ table: 'visits', date: '2026-11-20T13' }))).action).toBe('skip');
    expect((await prepare(event({ table: 'visits', date: '2026-11-20T12' }))).action).toBe('skip');
    const batches = rsd.commandCalls(BatchExecuteStatementCommand).map((c) => c.args[0].input.Sqls!);
    expect(batches.map((b) => b.filter((q) => /^CREATE /.test(q)).length)).toEqual([7, 0]);
    expect(batches[1]).toHaveLength(4);
  });

  it('a top-up (discover saw the partition loaded): reads the file ledger and writes a manifest of the new files only', async () => {
    mockListing();
    const nulls = (n: number) => Array.from({ length: n }, () => ({ isNull: true }));
    const hour = { stringValue: '2026-11-20 13:00:00' };
    mockWarehouse((id) =>
      id === 's1:6'
        ? [[{ stringValue: 'loaded' }, { stringValue: 'visits' }, ...nulls(6), hour], [{ stringValue: 'newest' }, { stringValue: 'visits' }, ...nulls(6), hour]]
        : id === 's1:7'
          ? [[{ stringValue: 'file' }, { stringValue: 'visits' }, { stringValue: 'events/visits/2026-11-20T13/part-0.json.gz' }, ...nulls(5), hour]]
          : [],
    );
    const plan = await setup()(event({ table: 'visits', date: '2026-11-20T13:00:00.000Z', observed: { partitionLoaded: true } }));
    expect(plan).toMatchObject({ action: 'load', files: 1, reason: expect.stringContaining('1 new file arrived for partition 2026-11-20T13:00:00Z') });
    // The state read, then the aggregate tables' read.
    expect(rsd.commandCalls(BatchExecuteStatementCommand)).toHaveLength(2);
    expect(aggregateReads()).toHaveLength(1);
    const manifest = JSON.parse(String(s3.commandCalls(PutObjectCommand)[0]!.args[0].input.Body)) as { entries: Array<{ url: string }> };
    expect(manifest.entries.map((e) => e.url)).toEqual(['s3://' + config.landing.bucketName + '/events/visits/2026-11-20T13/part-1.json.gz']);
    expect(plan.loadRequest!.Sqls.join('\n')).not.toContain('part-0.json.gz');
  });

  it('loads served by one instance read the aggregate tables once (a burst does not queue one read per load), again once a table needed a change', async () => {
    mockListing();
    mockWarehouse();
    const handler = setup();
    const observed = { partitionLoaded: false, newestLoaded: '2026-11-20T12:00:00.000Z' };
    // The read finds no table (they are created): the created tables are current, the next load does not read.
    await handler(event({ table: 'visits', date: '2026-11-20T13:00:00.000Z', observed }));
    await handler({ ...event({ table: 'visits', date: '2026-11-20T12:00:00.000Z', observed }), execution: 'visits-20261120T120000' });
    expect(aggregateReads()).toHaveLength(1);

    // A fact table lacking a configured column: the batch adds it after its LOCK, and the next load reads again.
    rsd.on(GetStatementResultCommand).callsFake((input: { Id?: string }) => ({
      Records: input.Id?.startsWith('agg:') ? [[{ stringValue: 'facts' }, { stringValue: 'visitors_daily' }, { stringValue: 'bucket' }, { stringValue: 'timestamp without time zone' }, { isNull: true }, { isNull: true }, { isNull: true }]] : [],
    }));
    const fresh = setup();
    const plan = await fresh(event({ table: 'visits', date: '2026-11-20T13:00:00.000Z', observed }));
    expect(plan.loadRequest!.Sqls[1]).toMatch(/^ALTER TABLE "facts"\."visitors_daily" ADD COLUMN "campaign_id"/);
    await fresh(event({ table: 'visits', date: '2026-11-20T13:00:00.000Z', observed }));
    expect(aggregateReads()).toHaveLength(3);
  });

  it('ignores the previous plan a Wait leaves in the state', () => {
    expect(loadInputOf({ table: 'visits', plan: { action: 'wait' }, force: true })).toEqual({ table: 'visits', force: true });
  });

  it('widens VARCHAR columns through the warehouse before returning the load plan', async () => {
    mockListing();
    mockWarehouse();
    rsd.on(ExecuteStatementCommand).resolves({ Id: 'w1' });
    const columns = [
      { name: 'visit_id', type: { base: 'VARCHAR', length: 10 } },
      { name: 'visitor_id', type: { base: 'VARCHAR', length: 36 } },
      { name: 'campaign_id', type: { base: 'INTEGER' } },
      { name: 'visited_at', type: { base: 'TIMESTAMP' } },
      { name: 'duration_ms', type: { base: 'INTEGER' } },
      { name: 'revenue', type: { base: 'DECIMAL', precision: 12, scale: 2 } },
    ];
    const plan = await setup()(event({ table: 'visits', date: '2026-11-20T13', observed: { partitionLoaded: false, columns } }));
    expect(plan.action).toBe('load');
    expect(rsd.commandCalls(ExecuteStatementCommand)[0]!.args[0].input.Sql).toMatch(/ALTER COLUMN "visit_id" TYPE VARCHAR\(36\)/);
  });

  it('fails with SchemaChangeError before writing anything', async () => {
    mockListing();
    const columns = [{ name: 'visit_id', type: { base: 'INTEGER' } }];
    await expect(
      setup()(event({ table: 'visits', date: '2026-11-20T13', observed: { partitionLoaded: false, columns } })),
    ).rejects.toBeInstanceOf(SchemaChangeError);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(rsd.calls()).toHaveLength(0);
  });

  it('heads explicit files instead of listing', async () => {
    s3.on(HeadObjectCommand).resolves({ ContentLength: 5, LastModified: lastModified });
    s3.on(PutObjectCommand).resolves({});
    mockWarehouse();
    const plan = await setup()(
      event({ table: 'visits', files: ['events/visits/2026-11-20T13/part-0.json.gz'], force: true, observed: { partitionLoaded: true } }),
    );
    expect(plan).toMatchObject({ action: 'load', files: 1 });
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(0);
  });

  it('plans aggregate-only runs without S3', async () => {
    const plan = await setup()(event({ aggregateOnly: true, aggregates: ['visits_hourly'], start: '2026-11-18', end: '2026-11-19' }));
    expect(plan.action).toBe('aggregate');
    expect(s3.calls()).toHaveLength(0);
  });
});
