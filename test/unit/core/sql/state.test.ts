import type { PGlite } from '@electric-sql/pglite';
import { renderFailureRecord } from '../../../../functions/core/sql/failure';
import { renderCopy, renderManifest } from '../../../../functions/core/sql/copy';
import { renderLoadBatch } from '../../../../functions/core/sql/load';
import {
  missingKnownRelations,
  NOTHING_KNOWN,
  parseTimestamp,
  parseWarehouseState,
  renderNewestDataQuery,
  renderWarehouseStateBatch,
  stateSelectStatements,
  STATE_COLUMNS_STATEMENT,
  STATE_FILES_STATEMENT,
  STATE_GROUPS_STATEMENT,
  STATE_LEDGER_STATEMENT,
  tablesToAdopt,
  type KnownRelations,
  type StateValue,
} from '../../../../functions/core/sql/state';
import { renderFreshness, renderRecentLoads } from '../../../../functions/core/sql/status';
import { statementAccess } from '../../../../local/redshift-data/isolation';
import { expectGolden } from './golden.helpers';
import { config, openWarehouse, rows, runBatch } from './sql.helpers';

// PGlite returns TIMESTAMP values as local-time Dates: pin the zone so they read back as UTC.
process.env['TZ'] = 'UTC';

const d = (iso: string) => new Date(iso);

describe('warehouse-state batch', () => {
  const requests = [
    { table: 'visits', candidates: [d('2026-11-20T13:00:00Z'), d('2026-11-20T14:00:00Z')] },
    { table: 'campaigns', candidates: [] },
  ];

  it('renders audit DDL, then the catalog SELECT apart from the ledger and file SELECTs, then each table\'s load prerequisites (golden)', () => {
    const sqls = renderWarehouseStateBatch(config, requests);
    expect([STATE_COLUMNS_STATEMENT, STATE_LEDGER_STATEMENT, STATE_FILES_STATEMENT, STATE_GROUPS_STATEMENT]).toEqual([5, 6, 7, 8]);
    expect(sqls.slice(STATE_GROUPS_STATEMENT).map((s) => s.split(' (')[0])).toEqual([
      'CREATE SCHEMA IF NOT EXISTS "events"',
      'CREATE TABLE IF NOT EXISTS "events"."visits"',
      'CREATE TABLE IF NOT EXISTS "forklift"."ledger__events__visits"',
      'CREATE SCHEMA IF NOT EXISTS "public"',
      'CREATE TABLE IF NOT EXISTS "public"."campaigns"',
      'CREATE TABLE IF NOT EXISTS "forklift"."ledger__public__campaigns"',
    ]);
    expect(sqls[STATE_FILES_STATEMENT - 1]).toContain('"forklift"."load_files"');
    expect(sqls[STATE_FILES_STATEMENT - 1]).not.toContain('information_schema');
    // without candidate partitions the file SELECT still runs (fixed statement indexes) and returns nothing
    expect(renderWarehouseStateBatch(config, [{ table: 'visits', candidates: [] }])[STATE_FILES_STATEMENT - 1]).toContain('WHERE 1 = 0');
    // Redshift refuses leader-node catalog views mixed with user tables in one query.
    expect(sqls[STATE_COLUMNS_STATEMENT - 1]).toContain('information_schema.columns');
    expect(sqls[STATE_COLUMNS_STATEMENT - 1]).not.toContain('"loads"');
    expect(sqls[STATE_LEDGER_STATEMENT - 1]).not.toContain('information_schema');
    // The configured readOnlyGroups that exist: pg_group alone (a leader-node catalog table).
    expect(sqls[STATE_GROUPS_STATEMENT - 1]).toMatch(/FROM pg_group WHERE groname IN \('analysts'\) ORDER BY 3$/);
    expect(renderWarehouseStateBatch(config, [{ table: 'campaigns', candidates: [] }])[STATE_GROUPS_STATEMENT - 1]).toContain('WHERE 1 = 0');
    expectGolden('state', sqls);
  });

  it('renders no CREATE for what is known to exist: the four SELECTs alone once the audit and every table are known', () => {
    const all: KnownRelations = { audit: true, tables: new Set(['visits', 'campaigns']) };
    const full = renderWarehouseStateBatch(config, requests);
    const known = renderWarehouseStateBatch(config, requests, all);
    expect(known.filter((s) => /^\s*CREATE\b/i.test(s))).toEqual([]);
    expect(stateSelectStatements(all)).toEqual([1, 2, 3, 4]);
    expect(stateSelectStatements()).toEqual([STATE_COLUMNS_STATEMENT, STATE_LEDGER_STATEMENT, STATE_FILES_STATEMENT, STATE_GROUPS_STATEMENT]);
    // The same SELECTs, at the indexes stateSelectStatements gives.
    expect(stateSelectStatements(all).map((i) => known[i - 1])).toEqual(stateSelectStatements().map((i) => full[i - 1]));
    expect(known).toHaveLength(4);
    // A table not known yet still gets its prerequisites (after the SELECTs); the audit DDL stays out.
    const oneNew = renderWarehouseStateBatch(config, requests, { audit: true, tables: new Set(['visits']) });
    expect(oneNew.slice(4).map((s) => s.split(' (')[0])).toEqual([
      'CREATE SCHEMA IF NOT EXISTS "public"',
      'CREATE TABLE IF NOT EXISTS "public"."campaigns"',
      'CREATE TABLE IF NOT EXISTS "forklift"."ledger__public__campaigns"',
    ]);
    // Nothing known (the default) is today's batch.
    expect(renderWarehouseStateBatch(config, requests, NOTHING_KNOWN)).toEqual(full);
  });

  it('reports what was known to exist and is missing from the catalog rows', () => {
    const relation = (name: string): StateValue[] => ['relation', name, null, null, null, null, null, null, null];
    const column = (table: string): StateValue[] => ['column', table, 'c', 'integer', null, 32, 0, 1, null];
    const all: KnownRelations = { audit: true, tables: new Set(['visits', 'campaigns']) };
    const everything = [column('visits'), column('campaigns'), ...['loads', 'load_files', 'affected_hours', 'ledger__events__visits', 'ledger__public__campaigns'].map(relation)];
    expect(missingKnownRelations(config, requests, all, everything)).toEqual([]);
    expect(missingKnownRelations(config, requests, all, everything.filter((r) => r[1] !== 'affected_hours' && r[1] !== 'ledger__events__visits' && r[1] !== 'campaigns'))).toEqual([
      'forklift.affected_hours',
      'forklift.ledger__events__visits',
      'public.campaigns',
    ]);
    // What was not known is no finding: a read that renders its CREATE sees it missing the first time.
    expect(missingKnownRelations(config, requests, NOTHING_KNOWN, [])).toEqual([]);
    expect(missingKnownRelations(config, requests, { audit: true, tables: new Set(['visits']) }, everything.filter((r) => !String(r[1]).includes('campaigns')))).toEqual([]);
    // relation rows are no table's state
    expect([...parseWarehouseState(everything, ['visits']).keys()].sort()).toEqual(['campaigns', 'visits']);
  });

  it('parses rows into a map by table', () => {
    const records: StateValue[][] = [
      ['column', 'visits', 'visit_id', 'character varying', 36, null, null, 1, null],
      ['column', 'visits', 'revenue', 'numeric', null, 12, 2, 3, null],
      ['column', 'visits', 'campaign_id', 'integer', null, 32, 0, 2, null],
      ['column', 'visits', 'shape', 'super', null, null, null, 4, null],
      ['loaded', 'visits', null, null, null, null, null, null, '2026-11-20 13:00:00'],
      ['newest', 'visits', null, null, null, null, null, null, '2026-11-20 13:00:00'],
      ['file', 'visits', 'p/13/a.json', null, null, null, null, null, '2026-11-20 13:00:00'],
      ['file', 'visits', 'p/13/b.json', 'e2', null, null, null, null, '2026-11-20 13:00:00'],
      ['failed', 'visits', 'visits-20261120T130000', null, null, null, null, null, '2026-11-20 13:00:00'],
      ['loaded', 'visits', null, null, null, null, null, null, '2026-11-20 13:00:00.5'],
      ['group', null, 'analysts', null, null, null, null, null, null],
    ];
    const state = parseWarehouseState(records, ['visits', 'campaigns']);
    expect(state.get('campaigns')).toEqual({ loadedPartitions: new Set(), loadedFiles: new Map(), failedLoads: new Map(), existingGroups: new Set(['analysts']) });
    expect(state.get('visits')).toEqual({
      newestLoaded: d('2026-11-20T13:00:00Z'),
      // Partitions 0.5 s apart stay apart; ledger rows carry the ETag when recorded; failed loads by partition.
      loadedPartitions: new Set(['2026-11-20T13:00:00Z', '2026-11-20T13:00:00.500Z']),
      loadedFiles: new Map([['2026-11-20T13:00:00Z', new Set(['p/13/a.json', 'p/13/b.json#e2'])]]),
      failedLoads: new Map([['2026-11-20T13:00:00Z', new Set(['visits-20261120T130000'])]]),
      existingGroups: new Set(['analysts']),
      columns: [
        { name: 'visit_id', type: { base: 'VARCHAR', length: 36 } },
        { name: 'campaign_id', type: { base: 'INTEGER' } },
        { name: 'revenue', type: { base: 'DECIMAL', precision: 12, scale: 2 } },
      ],
    });
  });

  it('reads Data API timestamps as UTC', () => {
    expect(parseTimestamp('2026-11-20 13:00:00')).toEqual(d('2026-11-20T13:00:00Z'));
    expect(parseTimestamp('2026-11-20 13:00:00.123456')).toEqual(d('2026-11-20T13:00:00.123Z'));
    expect(parseTimestamp('2026-11-20T13:00:00Z')).toEqual(d('2026-11-20T13:00:00Z'));
    expect(() => parseTimestamp('yesterday')).toThrow("cannot read timestamp 'yesterday'");
  });

  describe('on Postgres (PGlite)', () => {
    let db: PGlite;
    beforeAll(async () => {
      db = await openWarehouse();
    });
    afterAll(async () => {
      await db.close();
    });

    const read = async () => {
      const sqls = renderWarehouseStateBatch(config, requests);
      const result = [
        ...(await runBatch(db, sqls.slice(0, STATE_COLUMNS_STATEMENT))),
        ...(await runBatch(db, [sqls[STATE_LEDGER_STATEMENT - 1]!])),
        ...(await runBatch(db, [sqls[STATE_FILES_STATEMENT - 1]!])),
        ...(await runBatch(db, [sqls[STATE_GROUPS_STATEMENT - 1]!])),
      ];
      await runBatch(db, sqls.slice(STATE_GROUPS_STATEMENT)); // the load prerequisites, after the SELECTs
      const records = result.map((r) => Object.values(r).map((v): StateValue => (Object.prototype.toString.call(v) === '[object Date]' ? (v as Date).toISOString() : (v as StateValue))));
      return parseWarehouseState(records, ['visits', 'campaigns']);
    };

    it('sees nothing in an empty warehouse, then the table, its columns and its loaded partition', async () => {
      expect(await read()).toEqual(
        new Map([
          // openWarehouse created the group the config grants to.
          ['visits', { loadedPartitions: new Set(), loadedFiles: new Map(), failedLoads: new Map(), existingGroups: new Set(['analysts']) }],
          ['campaigns', { loadedPartitions: new Set(), loadedFiles: new Map(), failedLoads: new Map(), existingGroups: new Set(['analysts']) }],
        ]),
      );
      const date = d('2026-11-20T13:00:00Z');
      const load = renderLoadBatch({
        config,
        table: 'visits',
        loadId: 'v13',
        partition: { table: 'visits', date, end: d('2026-11-20T14:00:00Z'), key: 'events/visits/2026-11-20T13/', files: [{ key: 'events/visits/2026-11-20T13/a.json', size: 3, lastModified: date }] },
        manifestUrl: 's3://landing-bucket/m.json',
        fileListUrl: 's3://landing-bucket/m.files.jsonl',
        mode: 'append',
        reload: false,
        force: false,
        reason: 'test',
        addColumns: [],
        startedAt: date,
        plannedAt: date,
      });
      await runBatch(db, load.sqls, [{ visit_id: "'a'", visitor_id: "'v'", campaign_id: '1', visited_at: "'2026-11-20 13:01:00'" }], [
        { key: 'events/visits/2026-11-20T13/a.json', size: 3 },
      ]);
      const visits = (await read()).get('visits')!;
      expect(visits.newestLoaded).toEqual(date);
      expect(visits.loadedPartitions).toEqual(new Set(['2026-11-20T13:00:00Z']));
      expect(visits.loadedFiles).toEqual(new Map([['2026-11-20T13:00:00Z', new Set(['events/visits/2026-11-20T13/a.json'])]]));
      expect(visits.columns?.map((c) => c.name)).toEqual(['visit_id', 'visitor_id', 'campaign_id', 'visited_at', 'duration_ms', 'revenue', '_forklift_partition']);
      expect(visits.columns?.[5]).toEqual({ name: 'revenue', type: { base: 'DECIMAL', precision: 12, scale: 2 } });
      // The polling schedule's estimate: what the table's recent load batches took (Prepare's planning to the audit row),
      // to the millisecond, plus half of the second GETDATE() drops (finished_at is whole seconds); a row from before
      // planned_at existed counts from the execution start.
      await rows(db, "UPDATE forklift.loads SET planned_at = finished_at - INTERVAL '42.25 seconds', started_at = finished_at - INTERVAL '50 seconds' WHERE load_id = 'v13'");
      expect((await read()).get('visits')!.recentLoadSeconds).toEqual([42.75]);
      await rows(db, "UPDATE forklift.loads SET planned_at = NULL WHERE load_id = 'v13'");
      expect((await read()).get('visits')!.recentLoadSeconds).toEqual([50.5]);

      expect(await rows(db, renderFreshness(config, ['visits']))).toEqual([{ table_name: 'visits', newest_partition: expect.anything(), last_success: expect.anything() }]);
      expect((await rows(db, renderRecentLoads(config, { limit: 5, table: 'visits' }))).map((r) => r['status'])).toEqual(['loaded']);
      await runBatch(db, renderFailureRecord('forklift', { loadId: 'v14', table: 'visits', finishedAt: date, error: 'COPY failed:\n bad \\ row' }));
      expect(await rows(db, "SELECT status, error FROM forklift.loads WHERE load_id = 'v14'")).toEqual([{ status: 'failed', error: 'COPY failed:  bad / row' }]);
    });

    it('a read without DDL still sees, in its catalog SELECT, a table, ledger or audit table dropped since', async () => {
      await read(); // creates everything
      const all: KnownRelations = { audit: true, tables: new Set(['visits', 'campaigns']) };
      const readKnown = async () => {
        const sqls = renderWarehouseStateBatch(config, requests, all);
        const records: StateValue[][] = [];
        for (const i of stateSelectStatements(all)) records.push(...(await runBatch(db, [sqls[i - 1]!])).map((r) => Object.values(r) as StateValue[]));
        return missingKnownRelations(config, requests, all, records);
      };
      expect(await readKnown()).toEqual([]);
      await rows(db, 'DROP TABLE forklift.ledger__events__visits');
      await rows(db, 'DROP TABLE public.campaigns');
      await rows(db, 'DROP TABLE forklift.affected_hours');
      expect(await readKnown()).toEqual(['forklift.affected_hours', 'forklift.ledger__events__visits', 'public.campaigns']);
      await read(); // the read with its DDL recreates them
      expect(await readKnown()).toEqual([]);
    });

    it("an adopted table's newest data leaves out Forklift's own rows: a load committed between the state read and this one is not the table's earlier data", async () => {
      await rows(db, 'DELETE FROM forklift.loads');
      await rows(db, 'DELETE FROM events.visits');
      // A row from before Forklift (no _forklift_partition), and a Forklift row of a later partition.
      await rows(db, "INSERT INTO events.visits (visit_id, visitor_id, campaign_id, visited_at) VALUES ('old', 'v', 1, '2026-11-20 05:10:00')");
      await rows(
        db,
        "INSERT INTO events.visits (visit_id, visitor_id, campaign_id, visited_at, _forklift_partition) VALUES ('new', 'v', 1, '2026-11-20 13:05:00', '2026-11-20 13:00:00')",
      );
      const states = await read();
      expect(tablesToAdopt(config, states)).toContain('visits');
      const sql = renderNewestDataQuery(config, ['visits'], states);
      const newest = async () => (await rows(db, sql)).map((r) => (r['partition_date'] === null ? null : new Date(r['partition_date'] as string).toISOString()));
      expect(await newest()).toEqual(['2026-11-20T05:10:00.000Z']);
      // Only Forklift's rows: nothing held before it.
      await rows(db, "DELETE FROM events.visits WHERE visit_id = 'old'");
      expect(await newest()).toEqual([null]);
    });
  });
});

describe('failure record batch', () => {
  // Redshift aborts one of two overlapping transactions that each read what the other writes (1023):
  // RecordFailure batches run concurrently for many partitions, so they may write `loads` but never read it.
  it.each([
    ['without a COPY error lookup', undefined],
    ['with a COPY error lookup', { filePrefix: 's3://landing/visits/2026/11/20/13', since: d('2026-11-20T13:05:00Z') }],
  ])('reads no user table, %s', (_title, lookup) => {
    const record = { loadId: 'v1', table: 'events.visits', finishedAt: d('2026-11-20T13:10:00Z'), error: 'CopyError: bad row' };
    const reads = renderFailureRecord('forklift', record, lookup).flatMap((sql) => statementAccess(sql).reads.map((r) => r.name));
    expect(reads).toEqual([]);
  });
});

describe('COPY and manifest', () => {
  it('renders each format', () => {
    const copy = (table: string) =>
      renderCopy({ staging: 'forklift_staging', columns: ['a', 'b'], manifestUrl: 's3://b/m.json', roleArn: 'arn:aws:iam::123456789012:role/r', table: config.tables[table]! });
    const head = `COPY "forklift_staging" ("a", "b") FROM 's3://b/m.json' IAM_ROLE 'arn:aws:iam::123456789012:role/r' MANIFEST`;
    expect(copy('visits')).toBe(`${head} FORMAT AS JSON 'auto' GZIP TIMEFORMAT 'auto' DATEFORMAT 'auto' STATUPDATE OFF COMPUPDATE OFF`);
    expect(copy('sales')).toBe(`${head} CSV DELIMITER ',' IGNOREHEADER 1 TIMEFORMAT 'auto' DATEFORMAT 'auto' STATUPDATE OFF COMPUPDATE OFF`);
    expect(copy('campaigns')).toBe(`${head} CSV DELIMITER '|' TIMEFORMAT 'auto' DATEFORMAT 'auto' STATUPDATE OFF COMPUPDATE OFF`);
    expect(copy('customers')).toBe(`${head} FORMAT AS PARQUET STATUPDATE OFF COMPUPDATE OFF`);
    const jsonpaths = { ...config.tables['visits']!, format: { type: 'json' as const, jsonpaths: 's3://b/paths.json' }, compression: 'zstd' as const };
    expect(renderCopy({ staging: 's', columns: ['a'], manifestUrl: 's3://b/m', roleArn: 'r', table: jsonpaths })).toBe(
      `COPY "s" ("a") FROM 's3://b/m' IAM_ROLE 'r' MANIFEST FORMAT AS JSON 's3://b/paths.json' ZSTD TIMEFORMAT 'auto' DATEFORMAT 'auto' STATUPDATE OFF COMPUPDATE OFF`,
    );
  });

  it('renders a tab delimiter as the escape Redshift documents, never a raw tab', () => {
    const tsv = { ...config.tables['campaigns']!, format: { type: 'csv' as const, header: false, delimiter: '\t' } };
    expect(renderCopy({ staging: 's', columns: ['a'], manifestUrl: 's3://b/m', roleArn: 'r', table: tsv })).toBe(
      `COPY "s" ("a") FROM 's3://b/m' IAM_ROLE 'r' MANIFEST CSV DELIMITER '\\t' TIMEFORMAT 'auto' DATEFORMAT 'auto' STATUPDATE OFF COMPUPDATE OFF`,
    );
  });

  it('renders a manifest with mandatory entries and lengths', () => {
    expect(renderManifest('bkt', [{ key: 'p/a.json', size: 12, lastModified: new Date(0) }])).toBe(
      '{"entries":[{"url":"s3://bkt/p/a.json","mandatory":true,"meta":{"content_length":12}}]}',
    );
  });
});
