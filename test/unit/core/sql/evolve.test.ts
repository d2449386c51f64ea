import { SchemaChangeError } from '../../../../functions/core/errors';
import { renderFactTableDdl, renderRawTableDdl } from '../../../../functions/core/sql/ddl';
import { parseInformationSchemaType, planSchemaChanges } from '../../../../functions/core/sql/evolve';
import type { ExistingColumn } from '../../../../functions/core/types';
import { config } from './sql.helpers';

const visits = config.tables['visits']!;
const existing: ExistingColumn[] = [
  { name: 'visit_id', type: { base: 'VARCHAR', length: 36 } },
  { name: 'visitor_id', type: { base: 'VARCHAR', length: 20 } },
  { name: 'campaign_id', type: { base: 'INTEGER' } },
  { name: 'visited_at', type: { base: 'TIMESTAMP' } },
  { name: 'legacy', type: { base: 'BIGINT' } },
  { name: '_forklift_partition', type: { base: 'TIMESTAMP' } },
];

describe('DDL', () => {
  it('raw table: config columns, system column, NOT NULL, ENCODE, DISTKEY, default SORTKEY', () => {
    expect(renderRawTableDdl('visits', visits)).toEqual([
      'CREATE SCHEMA IF NOT EXISTS "events"',
      'CREATE TABLE IF NOT EXISTS "events"."visits" ("visit_id" VARCHAR(36) NOT NULL ENCODE zstd, "visitor_id" VARCHAR(36) NOT NULL, ' +
        '"campaign_id" INTEGER NOT NULL, "visited_at" TIMESTAMP NOT NULL ENCODE az64, "duration_ms" INTEGER, "revenue" DECIMAL(12,2), ' +
        '"_forklift_partition" TIMESTAMP) DISTSTYLE KEY DISTKEY ("visitor_id") SORTKEY ("visited_at")',
    ]);
  });

  it('fact table: bucket first, dimensions, measures with avg _sum/_count', () => {
    expect(renderFactTableDdl(config, 'visits_hourly')[1]).toBe(
      'CREATE TABLE IF NOT EXISTS "facts"."visits_hourly" ("bucket" TIMESTAMP NOT NULL, "campaign_id" INTEGER, "visits" BIGINT, ' +
        '"visitors" BIGINT, "revenue" DECIMAL(38,2), "avg_duration_ms" DOUBLE PRECISION, "avg_duration_ms_sum" DOUBLE PRECISION, ' +
        '"avg_duration_ms_count" BIGINT) DISTSTYLE AUTO SORTKEY ("bucket")',
    );
  });
});

describe('planSchemaChanges', () => {
  it('does nothing for a table that does not exist yet', () => {
    expect(planSchemaChanges('visits', visits, undefined)).toEqual({ addColumns: [], widenVarchar: [] });
  });

  it('adds missing columns (nullable), widens VARCHARs, keeps extra warehouse columns', () => {
    expect(planSchemaChanges('visits', visits, existing)).toEqual({
      addColumns: [
        'ALTER TABLE "events"."visits" ADD COLUMN "duration_ms" INTEGER',
        'ALTER TABLE "events"."visits" ADD COLUMN "revenue" DECIMAL(12,2)',
      ],
      widenVarchar: ['ALTER TABLE "events"."visits" ALTER COLUMN "visitor_id" TYPE VARCHAR(36)'],
    });
  });

  it('adds a NOT NULL config column as nullable, keeping its encoding; adds the system column to a foreign table', () => {
    const plan = planSchemaChanges('visits', visits, existing.filter((c) => c.name !== 'visit_id' && c.name !== '_forklift_partition'));
    expect(plan.addColumns).toEqual([
      'ALTER TABLE "events"."visits" ADD COLUMN "visit_id" VARCHAR(36) ENCODE zstd',
      'ALTER TABLE "events"."visits" ADD COLUMN "duration_ms" INTEGER',
      'ALTER TABLE "events"."visits" ADD COLUMN "revenue" DECIMAL(12,2)',
      'ALTER TABLE "events"."visits" ADD COLUMN "_forklift_partition" TIMESTAMP',
    ]);
  });

  it('never shrinks a VARCHAR', () => {
    const wide = existing.map((c) => (c.name === 'visit_id' ? { ...c, type: { base: 'VARCHAR' as const, length: 100 } } : c));
    expect(planSchemaChanges('visits', visits, wide).widenVarchar).toEqual(['ALTER TABLE "events"."visits" ALTER COLUMN "visitor_id" TYPE VARCHAR(36)']);
  });

  it.each(['bytedict', 'runlength', 'text255', 'text32k'] as const)('refuses to widen a %s VARCHAR, naming the column and the fix', (encoding) => {
    const encoded = { ...visits, columns: { ...visits.columns, visitor_id: { ...visits.columns['visitor_id']!, encoding } } };
    expect(() => planSchemaChanges('visits', encoded, existing)).toThrow(SchemaChangeError);
    try {
      planSchemaChanges('visits', encoded, existing);
    } catch (err) {
      expect((err as SchemaChangeError).changes).toEqual([
        `column 'visitor_id': VARCHAR(20) -> VARCHAR(36) cannot be widened on a ${encoding.toUpperCase()} column (Redshift refuses ALTER COLUMN TYPE on BYTEDICT, RUNLENGTH, TEXT255 and TEXT32K columns); ` +
          'fix: run ALTER TABLE "events"."visits" ALTER COLUMN "visitor_id" ENCODE ZSTD and set its encoding to zstd in the config, then load again',
      ]);
    }
    // ZSTD and LZO widen.
    const zstd = { ...visits, columns: { ...visits.columns, visitor_id: { ...visits.columns['visitor_id']!, encoding: 'zstd' as const } } };
    expect(planSchemaChanges('visits', zstd, existing).widenVarchar).toHaveLength(1);
  });

  it('lists every incompatible change in one SchemaChangeError', () => {
    const bad: ExistingColumn[] = [
      { name: 'visit_id', type: { base: 'CHAR', length: 36 } },
      { name: 'campaign_id', type: { base: 'VARCHAR', length: 10 } },
      { name: 'visited_at', type: { base: 'DATE' } },
      { name: 'revenue', type: { base: 'DECIMAL', precision: 10, scale: 2 } },
    ];
    let error: unknown;
    try {
      planSchemaChanges('visits', visits, bad);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SchemaChangeError);
    const changes = (error as SchemaChangeError).changes;
    const tail = 'is not supported by Redshift ALTER TABLE; create a new column or reload into a new table';
    expect(changes).toEqual([
      `column 'visit_id': CHAR(36) -> VARCHAR(36) ${tail}`,
      `column 'campaign_id': VARCHAR(10) -> INTEGER ${tail}`,
      `column 'visited_at': DATE -> TIMESTAMP ${tail}`,
      `column 'revenue': DECIMAL(10,2) -> DECIMAL(12,2) ${tail}`,
    ]);
    expect((error as SchemaChangeError).message).toContain("incompatible schema change for table 'visits'");
  });
});

describe('parseInformationSchemaType', () => {
  it.each([
    [['character varying', 36, null, null], { base: 'VARCHAR', length: 36 }],
    [['character', 2, null, null], { base: 'CHAR', length: 2 }],
    [['integer', null, 32, 0], { base: 'INTEGER' }],
    [['smallint', null, 16, 0], { base: 'SMALLINT' }],
    [['bigint', null, 64, 0], { base: 'BIGINT' }],
    [['numeric', null, 12, 2], { base: 'DECIMAL', precision: 12, scale: 2 }],
    [['real', null, 24, null], { base: 'REAL' }],
    [['double precision', null, 53, null], { base: 'DOUBLE PRECISION' }],
    [['boolean', null, null, null], { base: 'BOOLEAN' }],
    [['date', null, null, null], { base: 'DATE' }],
    [['timestamp without time zone', null, null, null], { base: 'TIMESTAMP' }],
    [['timestamp with time zone', null, null, null], { base: 'TIMESTAMPTZ' }],
    [['super', null, null, null], undefined],
  ] as const)('%j', ([type, len, precision, scale], expected) => {
    expect(parseInformationSchemaType(type, len, precision, scale)).toEqual(expected);
  });
});
