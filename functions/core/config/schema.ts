/**
 * The pipeline config: one YAML file, validated with zod at the edge into the
 * typed objects below. Field-level rules live here; rules that relate fields
 * (an aggregate's source exists, merge has a key...) live in crossChecks.ts.
 */
import { z } from 'zod';
import { identifierProblem } from '../identifiers';
import { parseColumnType, type ColumnType } from './columnTypes';

const identifier = z.string().superRefine((value, ctx) => {
  const problem = identifierProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: `'${value}' ${problem}` });
});

const columnType = z.string().transform((text, ctx): ColumnType => {
  const parsed = parseColumnType(text);
  if ('error' in parsed) {
    ctx.addIssue({ code: 'custom', message: parsed.error });
    return z.NEVER;
  }
  return parsed;
});

const encoding = z.enum(['raw', 'az64', 'bytedict', 'delta', 'delta32k', 'lzo', 'mostly8', 'mostly16', 'mostly32', 'runlength', 'text255', 'text32k', 'zstd']);

const columnObject = z.strictObject({
  type: columnType.describe("Redshift type: smallint, integer, bigint, decimal(p,s), real, double precision, boolean, char(n), varchar(n), date, timestamp, timestamptz"),
  nullable: z.boolean().default(true),
  encoding: encoding.optional().describe('Redshift compression encoding; dropped on the local stack'),
});

/** A column: `{ type, nullable, encoding }`, or just its type as a string. */
const column = z.preprocess((v) => (typeof v === 'string' ? { type: v } : v), columnObject);

const s3Key = z
  .string()
  .min(1)
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  .refine((v) => !v.startsWith('/') && !v.includes('\\') && !/[\u0000-\u001f]/.test(v), 'must be a relative S3 key without backslashes or control characters');

const format = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('json'),
    jsonpaths: z.string().regex(/^(auto|auto ignorecase|s3:\/\/[^']+)$/, "must be 'auto', 'auto ignorecase' or an s3:// URI").default('auto').describe("'auto' maps keys to column names; or an s3:// URI of a jsonpaths file"),
  }).describe('JSON (one object per line, or concatenated objects)'),
  z.strictObject({
    type: z.literal('csv'),
    header: z.boolean().default(true).describe('the first line holds column names and is skipped'),
    delimiter: z
      .string()
      .refine((d) => /^[\t\x20-\x7e]$/.test(d), 'must be one printable ASCII character, or a tab ("\\t")')
      .refine((d) => d !== "'" && d !== '"' && d !== '\\', 'cannot be a quote or a backslash')
      .default(',')
      .describe('the field separator: one printable ASCII character, or "\\t" (a tab, written with double quotes in YAML)'),
  }).describe('CSV with RFC 4180 quoting'),
  z.strictObject({ type: z.literal('parquet') }).describe('Parquet; columns by name'),
]);

const completeness = z.union([
  z.strictObject({ marker: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be a plain file name') }).describe('the partition is complete when this file exists in it'),
  z.strictObject({ quietSeconds: z.number().int().min(0).max(86400) }).describe('the partition is complete when no object arrived for this long'),
]);

const table = z.strictObject({
  enabled: z.boolean().default(true).describe('false: discover ignores the table\'s keys (logged with the reason); the CLI still loads it when named'),
  schema: identifier.default('public').describe('Redshift schema of the target table'),
  prefix: s3Key.describe('where the table\'s objects land, e.g. events/visits/'),
  partition: z
    .string()
    .min(1)
    .describe("pattern of a partition relative to prefix, with date tokens: {date:yyyy-MM-dd'T'HH}/ (a folder of files) or visits_{date:rfc3339}.json.gz (one object)"),
  format: format.default({ type: 'json', jsonpaths: 'auto' }).describe('file format: type json, csv or parquet'),
  compression: z.enum(['gzip', 'bzip2', 'zstd', 'none']).default('none').describe('compression of every file of the table'),
  columns: z.record(identifier, column).refine((c) => Object.keys(c).length > 0, 'a table needs at least one column').describe('the table\'s columns in order: name → type, or { type, nullable, encoding }'),
  dataDateColumn: identifier.describe('the column holding each row\'s time; replace mode deletes the partition\'s period by it'),
  mode: z.enum(['append', 'replace', 'truncate', 'merge']).default('append').describe('append rows; replace the partition\'s period; truncate (replace the whole table: snapshot); merge (upsert by primaryKey, newest data date wins)'),
  primaryKey: z.array(identifier).optional().describe('merge mode: the upsert key'),
  deleteFlagColumn: identifier.optional().describe('merge mode: a boolean column; rows with it true are deleted'),
  distStyle: z.enum(['auto', 'even', 'key', 'all']).default('auto').describe('Redshift DISTSTYLE'),
  distKey: identifier.optional().describe('Redshift DISTKEY (with distStyle key)'),
  sortKey: z.array(identifier).optional().describe('Redshift SORTKEY; default: the data-date column'),
  olderPartitions: z.enum(['skip', 'load']).default('skip').describe('what to do with a partition older than the newest loaded one (merge tables always load it: merge is newest-wins per key)'),
  completeness: completeness.default({ quietSeconds: 0 }).describe('when a partition is complete: { marker: _SUCCESS } or { quietSeconds: N }'),
  freshnessSlaMinutes: z.number().int().positive().optional().describe('alarm when the newest loaded partition is older than this'),
  readOnlyGroups: z.array(identifier).default([]).describe('Redshift groups granted SELECT on the table'),
  minSnapshotRows: z.number().int().min(0).default(1).describe('truncate mode: a snapshot with fewer rows is refused (0: accept empty snapshots)'),
  ignore: z
    .array(z.string().min(1))
    .optional()
    .describe("file names never loaded, as globs relative to the partition (* matches within a segment, a trailing / a folder); default: _SUCCESS, *.crc, *_$folder$, _temporary/, and names starting with . or _"),
  keyDates: z
    .strictObject({
      earliest: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD').default('2000-01-01'),
      aheadHours: z.number().int().min(0).default(24),
    })
    .default({ earliest: '2000-01-01', aheadHours: 24 })
    .describe('keys dated before `earliest` or more than `aheadHours` after now are rejected (alone, never their batch)'),
  timeFormat: z.string().regex(/^[A-Za-z0-9 :.\-_]+$/).default('auto').describe('COPY TIMEFORMAT'),
  dateFormat: z.string().regex(/^[A-Za-z0-9 :.\-_]+$/).default('auto').describe('COPY DATEFORMAT'),
});

const measure = z.strictObject({
  fn: z.enum(['count', 'count_distinct', 'sum', 'min', 'max', 'avg']).describe('count_distinct only from a raw table (distinct counts are not additive); avg is stored with _sum and _count'),
  column: identifier.optional().describe('the source column; not needed for count'),
});

const aggregate = z.strictObject({
  enabled: z.boolean().default(true).describe('false: loads of its source skip it; the CLI still recomputes it when named'),
  schema: identifier.default('public').describe('Redshift schema of the fact table'),
  source: identifier.describe('the table (or aggregate) this one is computed from'),
  timeColumn: identifier.describe('source column bucketed into the grain; `bucket` when the source is an aggregate'),
  grain: z.enum(['hour', 'day']).describe('bucket size'),
  dimensions: z.array(identifier).default([]).describe('source columns to group by'),
  measures: z.record(identifier, measure).default({}).describe('fact columns: name → { fn, column }'),
  sql: z
    .string()
    .optional()
    .describe('raw SELECT for what the declarative form cannot say; must use {{start}} and {{end}}; its columns are `columns`'),
  columns: z.record(identifier, column).optional().describe('with sql: the fact table columns the SELECT returns, bucket first'),
  sortKey: z.array(identifier).optional().describe('default: bucket'),
  readOnlyGroups: z.array(identifier).default([]).describe('Redshift groups granted SELECT on the fact table (and default privileges in its schema)'),
});

const warehouse = z.strictObject({
  database: identifier.describe('Redshift database'),
  clusterIdentifier: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/).optional().describe('provisioned cluster (with dbUser or secretArn)'),
  dbUser: identifier.optional().describe('database user for temporary credentials'),
  secretArn: z.string().regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/).optional().describe('Secrets Manager secret with the database credentials'),
  workgroupName: z.string().regex(/^[a-z0-9-]{3,64}$/).optional().describe('Redshift Serverless workgroup (instead of a cluster)'),
  copyRoleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be an IAM role ARN').describe('IAM role attached to the warehouse that COPY uses to read the bucket'),
  auditSchema: identifier.default('forklift').describe('schema of the audit tables (loads, load_files, affected_hours)'),
});

const landing = z.strictObject({
  bucketName: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name').describe('the landing bucket'),
  existing: z.boolean().default(false).describe('import an existing bucket instead of creating one'),
  manifestPrefix: s3Key.default('_forklift/manifests/').describe('where Forklift writes COPY manifests (expired after 30 days)'),
});

const alarms = z
  .strictObject({
    emails: z.array(z.email()).default([]).describe('subscribed to the alarm topic'),
    missingDataHours: z.number().int().positive().default(24).describe('alarm when a table has had no successful load for this long'),
  })
  .default({ emails: [], missingDataHours: 24 });

/** The whole config file. */
export const configSchema = z.strictObject({
  warehouse: warehouse.describe('the Redshift target and how the Data API reaches it'),
  landing: landing.describe('the S3 bucket objects land in'),
  tables: z
    .record(identifier, table)
    .refine((t) => Object.keys(t).length > 0, 'at least one table is required')
    .describe('raw tables loaded from S3, by name'),
  aggregates: z.record(identifier, aggregate).default({}).describe('fact tables recomputed from a table (or aggregate), by name'),
  alarms: alarms.describe('who is paged, and when data counts as missing'),
});

/** Config as written (before defaults). */
export type ConfigInput = z.input<typeof configSchema>;
/** Config after parsing and defaults: what the code uses. */
export type ForkliftConfig = z.output<typeof configSchema>;
export type TableConfig = ForkliftConfig['tables'][string];
export type AggregateConfig = ForkliftConfig['aggregates'][string];
export type ColumnConfig = TableConfig['columns'][string];
export type MeasureConfig = AggregateConfig['measures'][string];
export type WarehouseConfig = ForkliftConfig['warehouse'];
export type LoadMode = TableConfig['mode'];
