/**
 * Shared fixtures for the SQL renderer tests: one config covering every mode and
 * aggregate kind, and a PGlite "warehouse" that runs a rendered batch the way the
 * local stack does (physical clauses dropped, COPY replaced by fixture rows).
 */
import type { PGlite } from '@electric-sql/pglite';
import { parseConfig } from '../../../../functions/core/config/load';
import type { ConfigInput, ForkliftConfig } from '../../../../functions/core/config/schema';
import { INIT_SQL, rewriteRedshiftExpressions } from '../../../../local/redshift-data/dialect';
import { openPGlite } from '../../../../local/redshift-data/pglite';

/** The fixture config as written (before parsing). */
export const configInput: ConfigInput = {
  warehouse: {
    database: 'dev',
    clusterIdentifier: 'forklift-test',
    dbUser: 'forklift',
    copyRoleArn: 'arn:aws:iam::123456789012:role/forklift-copy',
  },
  landing: { bucketName: 'landing-bucket' },
  tables: {
    visits: {
      schema: 'events',
      prefix: 'events/visits/',
      partition: "{date:yyyy-MM-dd'T'HH}/",
      format: { type: 'json' },
      compression: 'gzip',
      columns: {
        visit_id: { type: 'varchar(36)', nullable: false, encoding: 'zstd' },
        visitor_id: { type: 'varchar(36)', nullable: false },
        campaign_id: { type: 'integer', nullable: false },
        visited_at: { type: 'timestamp', nullable: false, encoding: 'az64' },
        duration_ms: 'integer',
        revenue: 'decimal(12,2)',
      },
      dataDateColumn: 'visited_at',
      distStyle: 'key',
      distKey: 'visitor_id',
      readOnlyGroups: ['analysts'],
    },
    sales: {
      schema: 'events',
      prefix: 'sales/',
      partition: '{date:yyyy-MM-dd}/',
      format: { type: 'csv', header: true },
      columns: { sale_id: 'bigint', sold_at: 'timestamp', amount: 'decimal(12,2)' },
      dataDateColumn: 'sold_at',
      mode: 'replace',
    },
    campaigns: {
      prefix: 'dims/campaigns/',
      partition: 'campaigns_{date:rfc3339}.csv',
      format: { type: 'csv', header: false, delimiter: '|' },
      columns: { campaign_id: 'integer', name: 'varchar(200)', updated_at: 'timestamp' },
      dataDateColumn: 'updated_at',
      mode: 'truncate',
      distStyle: 'all',
    },
    customers: {
      schema: 'crm',
      prefix: 'crm/customers/',
      partition: '{date:yyyy-MM-dd}/',
      format: { type: 'parquet' },
      columns: { customer_id: { type: 'integer', nullable: false }, name: 'varchar(100)', updated_at: 'timestamp', deleted: 'boolean' },
      dataDateColumn: 'updated_at',
      mode: 'merge',
      primaryKey: ['customer_id'],
      deleteFlagColumn: 'deleted',
      sortKey: ['customer_id'],
    },
  },
  aggregates: {
    visits_hourly: {
      schema: 'facts',
      source: 'visits',
      timeColumn: 'visited_at',
      grain: 'hour',
      dimensions: ['campaign_id'],
      measures: {
        visits: { fn: 'count' },
        visitors: { fn: 'count_distinct', column: 'visitor_id' },
        revenue: { fn: 'sum', column: 'revenue' },
        avg_duration_ms: { fn: 'avg', column: 'duration_ms' },
      },
    },
    visits_daily: {
      schema: 'facts',
      source: 'visits_hourly',
      timeColumn: 'bucket',
      grain: 'day',
      dimensions: ['campaign_id'],
      measures: {
        visits: { fn: 'count', column: 'visits' },
        avg_duration_ms: { fn: 'avg', column: 'avg_duration_ms' },
        max_revenue: { fn: 'max', column: 'revenue' },
      },
    },
    visitors_daily: {
      schema: 'facts',
      source: 'visits',
      timeColumn: 'visited_at',
      grain: 'day',
      measures: { visitors: { fn: 'count_distinct', column: 'visitor_id' } },
    },
    big_spenders_hourly: {
      schema: 'facts',
      source: 'visits',
      timeColumn: 'visited_at',
      grain: 'hour',
      sql:
        "SELECT DATE_TRUNC('hour', visited_at) AS bucket, COUNT(*) AS spenders FROM events.visits " +
        'WHERE visited_at >= {{start}} AND visited_at < {{end}} AND revenue > 100 GROUP BY 1',
      columns: { bucket: { type: 'timestamp', nullable: false }, spenders: 'bigint' },
    },
  },
};
export const config: ForkliftConfig = parseConfig(configInput);

/** Drops the Redshift-only physical clauses and rewrites Redshift's functions, as the local stack does. */
export function stripPhysical(sql: string): string {
  return rewriteRedshiftExpressions(
    sql
      .replace(/\s+ENCODE\s+\w+/g, '')
      .replace(/\s+DISTSTYLE\s+\w+/g, '')
      .replace(/\s+(DISTKEY|SORTKEY)\s*\([^)]*\)/g, ''),
  );
}

/** A PGlite database with the local stack's Redshift functions (GETDATE(), DATEDIFF …) and the groups the config grants to. */
export async function openWarehouse(): Promise<PGlite> {
  const db = await openPGlite();
  await db.exec(INIT_SQL);
  await db.exec('CREATE ROLE analysts');
  return db;
}

/** Rows a COPY would stage: column → SQL literal text. */
export type FixtureRow = Record<string, string>;

/**
 * Runs a batch as one transaction (BEGIN ... COMMIT, ROLLBACK on error); a COPY
 * becomes INSERTs of `staged` into its table. Returns the last statement's rows.
 */
export async function runBatch(
  db: PGlite,
  sqls: readonly string[],
  staged: FixtureRow[] = [],
  files: ReadonlyArray<{ key: string; size: number }> = [],
): Promise<Array<Record<string, unknown>>> {
  let last: Array<Record<string, unknown>> = [];
  await db.exec('BEGIN');
  try {
    for (const sql of sqls) {
      // The load's file list (a COPY of the JSON lines Prepare writes): `files`.
      if (/^COPY "forklift_files" \(file_key, bytes, etag\) FROM/.test(sql)) {
        for (const f of files) await db.query('INSERT INTO forklift_files (file_key, bytes, etag) VALUES ($1, $2, $3)', [f.key, f.size, (f as { etag?: string }).etag ?? null]);
        continue;
      }
      const copy = /^COPY ("[a-z_]+") \(([^)]*)\) FROM/.exec(sql);
      if (copy) {
        for (const row of staged) {
          await db.exec(`INSERT INTO ${copy[1]} (${Object.keys(row).join(', ')}) VALUES (${Object.values(row).join(', ')})`);
        }
        last = [];
        continue;
      }
      last = (await db.query<Record<string, unknown>>(stripPhysical(sql))).rows;
    }
    await db.exec('COMMIT');
  } catch (err) {
    await db.exec('ROLLBACK');
    throw err;
  } finally {
    await db.exec('DISCARD TEMP');
  }
  return last;
}

/** Rows of a query, dates as ISO strings, numerics as numbers. */
export async function rows(db: PGlite, sql: string): Promise<Array<Record<string, unknown>>> {
  const result = await db.query<Record<string, unknown>>(rewriteRedshiftExpressions(sql));
  return result.rows.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v]),
    ),
  );
}
