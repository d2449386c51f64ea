import { loadConfigFile } from '../../../functions/core/config/load';
import type { ForkliftConfig } from '../../../functions/core/config/schema';
import { PartitionNotFoundError, SchemaChangeError } from '../../../functions/core/errors';
import { listingPrefix, manifestKey, planExecution, type PlanLoadArgs } from '../../../functions/core/plan';
import type { LoadInput, ObjectInfo, WarehouseState } from '../../../functions/core/types';

const config = loadConfigFile('forklift.config.yaml');
// These tests exercise the default policy for older partitions (the example's visits table loads them).
config.tables['visits']!.olderPartitions = 'skip';
const target = { Database: 'dev', ClusterIdentifier: 'forklift-example', DbUser: 'forklift' };
const now = new Date('2026-11-20T15:00:00Z');
const startedAt = new Date('2026-11-20T14:59:00Z');

function files(hour: string, count = 2, lastModified = new Date('2026-11-20T14:10:00Z')): ObjectInfo[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `events/visits/2026-11-20T${hour}/part-${i}.json.gz`,
    size: 1000 + i,
    lastModified,
  }));
}

function plan(input: LoadInput, listing: ObjectInfo[], state: WarehouseState, cfg: ForkliftConfig = config) {
  const args: PlanLoadArgs = { config: cfg, input, loadId: 'visits-20261120T130000', startedAt, now, listing, state, target };
  return planExecution(args);
}

function withTable(change: (t: ForkliftConfig['tables'][string]) => void): ForkliftConfig {
  const copy = structuredClone(config);
  change(copy.tables.visits!);
  return copy;
}

describe('planLoad', () => {
  it('polls the load first just after what the table\'s recent loads took (1.1 × their median), else at the estimate from the bytes', () => {
    const listing = files('13');
    const state = { partitionLoaded: false, newestLoaded: new Date('2026-11-20T12:00:00Z') };
    const cold = plan({ table: 'visits' }, listing, state).plan;
    expect(cold.loadPolls!.slice(0, 3)).toEqual([2, 4, 12]);
    expect(cold.loadWait).toEqual({ seconds: 2, index: 0 });
    const learned = plan({ table: 'visits' }, listing, { ...state, recentLoadSeconds: [95, 40, 30] }).plan;
    expect(learned.loadPolls!.slice(0, 5)).toEqual([44, 6, 10, 20, 40]);
    expect(learned.loadWait).toEqual({ seconds: 44, index: 0 });
  });

  it('a partition of a few files: Prepare writes only the COPY manifest (its file list is inside the batch); of many, the file list too', () => {
    const state = { partitionLoaded: false, newestLoaded: new Date('2026-11-20T12:00:00Z') };
    const few = plan({ table: 'visits' }, files('13'), state);
    expect(few.manifest).toBeDefined();
    expect(few.fileList).toBeUndefined();
    const many = plan({ table: 'visits' }, files('13', 400), state);
    expect(many.fileList?.key).toBe('_forklift/manifests/visits/visits-20261120T130000.files.jsonl');
    expect(many.fileList?.body.split('\n').filter(Boolean)).toHaveLength(400);
  });

  it('the load batch records when it was planned (planned_at), so time before its planning (a completeness wait) is never learned as load time', () => {
    const { plan: p } = plan({ table: 'visits' }, files('13'), { partitionLoaded: false, newestLoaded: new Date('2026-11-20T12:00:00Z') });
    const audit = p.loadRequest!.Sqls.find((q) => q.startsWith('INSERT INTO "forklift"."loads"'))!;
    expect(audit).toContain('started_at, finished_at, planned_at)');
    // Execution start 14:59, planned at 15:00: both recorded, polling learns from the second.
    expect(audit).toContain("'2026-11-20 14:59:00'::timestamp, GETDATE(), '2026-11-20 15:00:00'::timestamp FROM");
  });

  it('loads a partition newer than the newest loaded one, with both transactions', () => {
    const listing = [...files('12'), ...files('13')];
    const { plan: p, manifest, preStatements } = plan(
      { table: 'visits' },
      listing,
      { partitionLoaded: false, newestLoaded: new Date('2026-11-20T12:00:00Z') },
    );
    expect(p).toMatchObject({
      action: 'load',
      loadId: 'visits-20261120T130000',
      table: 'visits',
      partitionDate: '2026-11-20T13:00:00.000Z',
      partitionKey: 'events/visits/2026-11-20T13/',
      files: 2,
      bytes: 2001,
      mode: 'append',
      pollSeconds: 2,
    });
    expect(p.reason).toMatch(/newer than the newest loaded partition 2026-11-20T12:00:00Z/);
    expect(p.loadRequest).toMatchObject({ ...target, StatementName: 'visits-20261120T130000' });
    expect(p.loadRequest!.Sqls.length).toBeGreaterThan(3);
    expect(p.outcomeStatement).toBe(p.loadRequest!.Sqls.length);
    // The aggregate batches are planned after the load commits (PlanAggregates), from pending work.
    expect(p.aggregates).toEqual(['visits_hourly', 'visitors_daily']);
    expect(p.steps.map((s) => `${s.kind}:${s.name}`)).toEqual(['raw:visits']);
    expect(manifest).toEqual({
      key: '_forklift/manifests/visits/visits-20261120T130000.manifest',
      body: expect.stringContaining('s3://forklift-landing-example/events/visits/2026-11-20T13/part-0.json.gz'),
    });
    expect(manifest!.body).not.toContain('T12/');
    expect(preStatements).toEqual([]);
    // Not a reload: no delete of the partition's previous rows.
    expect(p.loadRequest!.Sqls.some((s) => /^DELETE/.test(s) && s.includes('_forklift_partition'))).toBe(false);
  });

  it('skips an older partition with the reason from the rules', () => {
    const { plan: p, manifest } = plan({ table: 'visits', date: '2026-11-20T13' }, files('13'), {
      partitionLoaded: false,
      newestLoaded: new Date('2026-11-20T14:00:00Z'),
    });
    expect(p.action).toBe('skip');
    expect(p.reason).toBe(
      "table 'visits': partition 2026-11-20T13:00:00Z is older than the newest loaded partition 2026-11-20T14:00:00Z; the table's olderPartitions policy is 'skip'; use --force to load it",
    );
    expect(p.loadRequest).toBeUndefined();
    expect(manifest).toBeUndefined();
  });

  it('skips an already loaded partition, and reloads it with force', () => {
    const state = { partitionLoaded: true, newestLoaded: new Date('2026-11-20T13:00:00Z') };
    expect(plan({ table: 'visits', date: '2026-11-20T13' }, files('13'), state).plan).toMatchObject({
      action: 'skip',
      reason: expect.stringMatching(/already loaded; use --force/),
    });
    const forced = plan({ table: 'visits', date: '2026-11-20T13', force: true }, files('13'), state).plan;
    expect(forced.action).toBe('load');
    expect(forced.reason).toMatch(/reloading it because of --force/);
    expect(forced.loadRequest!.Sqls.some((s) => /^DELETE/.test(s) && s.includes('"_forklift_partition"'))).toBe(true);
  });

  it('waits while a quiet-period partition still receives objects', () => {
    const quiet = withTable((t) => {
      t.completeness = { quietSeconds: 600 };
    });
    const listing = files('14', 2, new Date('2026-11-20T14:59:00Z'));
    const { plan: p } = plan({ table: 'visits' }, listing, { partitionLoaded: false }, quiet);
    expect(p).toMatchObject({ action: 'wait', waitSeconds: 540, partitionDate: '2026-11-20T14:00:00.000Z' });
    expect(p.reason).toMatch(/less than 600s ago/);
  });

  it('fails with PartitionNotFoundError for an explicit date that does not exist', () => {
    expect(() => plan({ table: 'visits', date: '2026-11-20T09' }, files('13'), { partitionLoaded: false })).toThrow(
      PartitionNotFoundError,
    );
    expect(() => plan({ table: 'visits', date: '2026-11-20T09' }, files('13'), { partitionLoaded: false })).toThrow(
      /nearest existing partitions: 2026-11-20T13:00:00Z \(after\)/,
    );
  });

  it('refuses a manual run without the marker unless forced', () => {
    const marker = withTable((t) => {
      t.completeness = { marker: '_SUCCESS' };
    });
    expect(() => plan({ table: 'visits', date: '2026-11-20T13' }, files('13'), { partitionLoaded: false }, marker)).toThrow(
      /waiting for the completeness marker.*use --force/,
    );
    const forced = plan({ table: 'visits', date: '2026-11-20T13', force: true }, files('13'), { partitionLoaded: false }, marker);
    expect(forced.plan.action).toBe('load');
    const withMarker = [...files('13'), { key: 'events/visits/2026-11-20T13/_SUCCESS', size: 0, lastModified: now }];
    const complete = plan({ table: 'visits', date: '2026-11-20T13' }, withMarker, { partitionLoaded: false }, marker);
    expect(complete.plan).toMatchObject({ action: 'load', files: 2 });
    expect(complete.manifest!.body).not.toContain('_SUCCESS');
  });

  it('loads exactly the explicit files', () => {
    const listing = files('13', 3);
    const { plan: p, manifest } = plan(
      { table: 'visits', files: ['events/visits/2026-11-20T13/part-1.json.gz'] },
      listing,
      { partitionLoaded: false },
    );
    expect(p.files).toBe(1);
    expect(JSON.parse(manifest!.body).entries).toHaveLength(1);
  });

  it('fails before touching data when the config asks for an impossible type change', () => {
    const state: WarehouseState = {
      partitionLoaded: false,
      columns: [
        { name: 'visit_id', type: { base: 'INTEGER' } },
        { name: 'visitor_id', type: { base: 'VARCHAR', length: 36 } },
      ],
    };
    expect(() => plan({ table: 'visits' }, files('13'), state)).toThrow(SchemaChangeError);
  });

  it('widens VARCHAR columns before the batch', () => {
    const state: WarehouseState = {
      partitionLoaded: false,
      columns: [
        { name: 'visit_id', type: { base: 'VARCHAR', length: 10 } },
        { name: 'visitor_id', type: { base: 'VARCHAR', length: 36 } },
        { name: 'campaign_id', type: { base: 'INTEGER' } },
        { name: 'visited_at', type: { base: 'TIMESTAMP' } },
        { name: 'duration_ms', type: { base: 'INTEGER' } },
        { name: 'revenue', type: { base: 'DECIMAL', precision: 12, scale: 2 } },
        { name: '_forklift_partition', type: { base: 'TIMESTAMP' } },
      ],
    };
    const { plan: p, preStatements } = plan({ table: 'visits' }, files('13'), state);
    expect(p.action).toBe('load');
    expect(preStatements).toHaveLength(1);
    expect(preStatements[0]).toMatch(/ALTER TABLE "events"."visits" ALTER COLUMN "visit_id" TYPE VARCHAR\(36\)/);
  });
});

describe('planAggregate', () => {
  it('plans an aggregate-only run over a range (its batches are rendered by PlanAggregates)', () => {
    const { plan: p } = plan(
      { aggregateOnly: true, aggregates: ['visits_hourly'], start: '2026-11-18T00:00:00Z', end: '2026-11-21T00:00:00Z' },
      [],
      { partitionLoaded: false },
    );
    expect(p).toMatchObject({ action: 'aggregate', loadId: 'visits-20261120T130000', pollSeconds: 2 });
    expect(p.reason).toBe('recomputing visits_hourly for [2026-11-18T00:00:00Z, 2026-11-21T00:00:00Z), then their pending work');
    expect(p.loadRequest).toBeUndefined();
    expect(p.aggregates).toEqual(['visits_hourly']);
  });

  it('defaults to every aggregate fed by the table and refuses unknown aggregates', () => {
    const all = plan({ aggregateOnly: true, table: 'visits', start: '2026-11-18', end: '2026-11-19' }, [], { partitionLoaded: false });
    expect(all.plan.aggregates).toEqual(['visits_hourly', 'visitors_daily']);
    // Without a range: the pending work only (the sweep's runs).
    expect(plan({ aggregateOnly: true, table: 'visits' }, [], { partitionLoaded: false }).plan.reason).toBe('the pending work of visits_hourly, visitors_daily');
    expect(() =>
      plan({ aggregateOnly: true, aggregates: ['nope'], start: '2026-11-18', end: '2026-11-19' }, [], { partitionLoaded: false }),
    ).toThrow(/unknown aggregate 'nope'/);
  });
});

describe('listing', () => {
  it('lists the partition folder for a dated run, the table prefix otherwise', () => {
    expect(listingPrefix(config, { table: 'visits', date: '2026-11-20T13' })).toBe('events/visits/2026-11-20T13/');
    expect(listingPrefix(config, { table: 'visits' })).toBe('events/visits/');
    expect(listingPrefix(config, { table: 'campaigns', date: '2026-11-20' })).toBe('dims/campaigns/');
    expect(manifestKey(config, 'visits', 'l1')).toBe('_forklift/manifests/visits/l1.manifest');
  });
});
