/**
 * Aggregate (fact table) transactions. ARCHITECTURE.md, "Aggregates".
 *
 * Work comes from pending hours: `affected_hours` rows (written by committed loads) that no
 * aggregate transaction has marked done for an aggregate in `aggregated_loads`. A batch is
 * rendered after the load committed (PlanAggregates), so every bucket bound is a literal:
 * `time >= 'a' AND time < 'b'` per affected range, which sort-key zone maps can use.
 *
 * Per aggregate, in dependency order, in one transaction that LOCKs its tables first:
 * - hour grain from a raw table: DELETE + INSERT ... GROUP BY of the affected hours;
 * - coarser grain from a raw table: the hour-grain partials (`<agg>__partials`: row count,
 *   sums, counts, min, max per hour and dimensions) and one distinct-key set per
 *   count_distinct measure (`<agg>__<measure>__keys`: hour, dimensions, value) are recomputed
 *   for the affected hours only; the coarse buckets are rolled up from them (distinct counts
 *   as COUNT(DISTINCT value) over the key set's hours of the bucket), never from raw rows;
 * - from another aggregate: its buckets recomputed from the source fact table;
 * - raw SQL: DELETE + INSERT per bucket range.
 * The batch ends by marking the loads it covered done for its aggregates; work left out
 * (another batch, a failed one) stays pending for the next run or the sweep.
 */
import { splitGrantees } from './grants';
import { aggregateOrder, rootTable } from '../config/crossChecks';
import type { AggregateConfig, ForkliftConfig } from '../config/schema';
import { renderColumnType, type ColumnType } from '../config/columnTypes';
import { partitionEnd, truncateDate } from '../dates';
import { ForkliftError } from '../errors';
import { identifierProblem, literal, qualified, quoteIdent, timestampLiteral } from '../identifiers';
import type { ExistingColumn, StepRef } from '../types';
import { auditIdentity, auditTable } from './audit';
import { renderColumnDefinition, renderCreateSchema, type ColumnSpec, factTableColumns } from './ddl';
import { parseInformationSchemaType } from './evolve';
import { GUARD_TABLE } from './guard';
import { relationColumns, relationName, rootTimeColumn } from './relations';
import { parseTimestamp } from './state';

/** BatchExecuteStatement: at most 40 SQLs per batch. */
export const MAX_BATCH_STATEMENTS = 40;
/** BatchExecuteStatement: each SQL at most 100 KB. */
export const MAX_STATEMENT_BYTES = 100 * 1024;
/** More merged ranges than this for one aggregate: recompute their covering range instead (bounded SQL size). */
export const MAX_RANGES = 64;
/** The audit table where aggregate transactions mark the loads they covered. */
export const AGGREGATED_LOADS = 'aggregated_loads';
/** The row-count column of a partials table. */
const ROWS = 'forklift_rows';

/** The enabled aggregates fed by raw table `table`, directly or through other aggregates, in dependency order. */
export function aggregatesFedBy(config: ForkliftConfig, table: string): string[] {
  return aggregateOrder(config).filter((a) => config.aggregates[a]!.enabled && rootTable(config, a) === table);
}

/** `"audit"."aggregated_loads"`. */
export function aggregatedLoadsTable(auditSchema: string): string {
  return qualified(auditSchema, AGGREGATED_LOADS);
}

/** CREATE TABLE IF NOT EXISTS of the done marks (after the audit schema exists). */
export function renderAggregatedLoadsDdl(auditSchema: string): string {
  return (
    `CREATE TABLE IF NOT EXISTS ${aggregatedLoadsTable(auditSchema)} (` +
    'aggregate_name VARCHAR(127) NOT NULL, load_id VARCHAR(80) NOT NULL, aggregated_at TIMESTAMP NOT NULL' +
    ') DISTSTYLE EVEN SORTKEY (aggregate_name, load_id)'
  );
}

// ---------------------------------------------------------------------------------------------
// Pending work

/** One pending (aggregate, load, hour): the load committed, no aggregate transaction covered it yet. */
export interface PendingHour {
  aggregate: string;
  loadId: string;
  hour: Date;
  /** When the load committed (its `loads` row); undefined if the row is missing. */
  loadedAt?: Date;
}

/**
 * SELECT aggregate_name, load_id, hour, loaded_at: the pending hours of `aggregates`.
 * Pending = an affected_hours row of the aggregate's root table and time column whose load
 * has no done mark for the aggregate. Runs as its own statement (outside any aggregate
 * transaction): a read only.
 */
export function renderPendingQuery(config: ForkliftConfig, aggregates: readonly string[]): string {
  const audit = config.warehouse.auditSchema;
  const hours = auditTable(audit, 'affected_hours');
  const selects = aggregates.map((name) => {
    const table = rootTable(config, name);
    if (table === undefined) throw new ForkliftError(`aggregate '${name}' does not lead to a raw table`);
    return (
      `SELECT CAST(${literal(name)} AS VARCHAR(127)) AS aggregate_name, h.load_id, h.hour FROM ${hours} h ` +
      `WHERE h.table_name = ${literal(auditIdentity(config, table))} AND h.time_column = ${literal(rootTimeColumn(config, name))} ` +
      `AND NOT EXISTS (SELECT 1 FROM ${aggregatedLoadsTable(audit)} d WHERE d.aggregate_name = ${literal(name)} AND d.load_id = h.load_id)`
    );
  });
  return (
    `SELECT p.aggregate_name, p.load_id, p.hour, MIN(l.finished_at) AS loaded_at FROM (${selects.join(' UNION ALL ')}) p ` +
    `LEFT JOIN ${auditTable(audit, 'loads')} l ON l.load_id = p.load_id AND l.status = 'loaded' ` +
    'GROUP BY p.aggregate_name, p.load_id, p.hour ORDER BY 1, 2, 3'
  );
}

/** Pending work per aggregate: distinct loads and hours, and the oldest load's commit time. */
export interface PendingSummary {
  aggregate: string;
  table: string;
  loads: number;
  hours: number;
  oldest?: Date;
}

/** Summarize pending hours per aggregate (for status, the sweep and the metric). */
export function summarizePending(config: ForkliftConfig, pending: readonly PendingHour[]): PendingSummary[] {
  const by = new Map<string, { loads: Set<string>; hours: Set<number>; oldest?: Date }>();
  for (const p of pending) {
    const s = by.get(p.aggregate) ?? { loads: new Set(), hours: new Set() };
    s.loads.add(p.loadId);
    s.hours.add(p.hour.getTime());
    if (p.loadedAt && (!s.oldest || p.loadedAt < s.oldest)) s.oldest = p.loadedAt;
    by.set(p.aggregate, s);
  }
  return [...by].map(([aggregate, s]) => ({
    aggregate,
    table: rootTable(config, aggregate) ?? '',
    loads: s.loads.size,
    hours: s.hours.size,
    ...(s.oldest ? { oldest: s.oldest } : {}),
  }));
}

// ---------------------------------------------------------------------------------------------
// Tables

/** A table an aggregate owns: the fact table, its hour-grain partials, or a distinct-key set. */
export interface AggregateTable {
  aggregate: string;
  role: 'fact' | 'partials' | 'keys' | 'members' | 'counts';
  schema: string;
  name: string;
  columns: ColumnSpec[];
  /** For keys: the count_distinct measure. */
  measure?: string;
}

/** True when the aggregate is declarative, reads a raw table, and its grain is coarser than an hour. */
function rollsUp(config: ForkliftConfig, a: AggregateConfig): boolean {
  return a.sql === undefined && config.tables[a.source] !== undefined && a.grain !== 'hour';
}

/** The tables of aggregate `name`: its fact table, then (coarse grain from raw) partials and key sets. */
export function aggregateTables(config: ForkliftConfig, name: string): AggregateTable[] {
  const a = config.aggregates[name];
  if (!a) throw new ForkliftError(`unknown aggregate '${name}'`);
  const out: AggregateTable[] = [{ aggregate: name, role: 'fact', schema: a.schema, name, columns: factTableColumns(config, name) }];
  if (!rollsUp(config, a)) return out;
  const source = relationColumns(config, a.source);
  const bucket: ColumnSpec = { name: 'bucket', type: { base: 'TIMESTAMP' }, nullable: false };
  const dims = a.dimensions.map((d): ColumnSpec => ({ name: d, type: source.get(d) ?? { base: 'VARCHAR', length: 256 }, nullable: true }));
  const fact = relationColumns(config, name);
  const partials: ColumnSpec[] = [bucket, ...dims, { name: ROWS, type: { base: 'BIGINT' }, nullable: false }];
  for (const [m, spec] of Object.entries(a.measures)) {
    if (spec.fn === 'count_distinct') continue;
    if (spec.fn === 'avg') {
      partials.push({ name: `${m}_sum`, type: { base: 'DOUBLE PRECISION' }, nullable: true }, { name: `${m}_count`, type: { base: 'BIGINT' }, nullable: true });
    } else {
      partials.push({ name: m, type: fact.get(m) ?? { base: 'BIGINT' }, nullable: true });
    }
  }
  out.push({ aggregate: name, role: 'partials', schema: a.schema, name: internalName(name, 'partials'), columns: partials });
  for (const [m, spec] of Object.entries(a.measures)) {
    if (spec.fn !== 'count_distinct' || !spec.column) continue;
    const value: ColumnSpec = { name: 'value', type: source.get(spec.column) ?? { base: 'VARCHAR', length: 256 }, nullable: false };
    out.push({ aggregate: name, role: 'keys', schema: a.schema, name: internalName(name, `${m}__keys`), columns: [bucket, ...dims, value], measure: m });
    // The bucket's members (bucket at the aggregate's grain) and their count: what an append bumps.
    out.push({ aggregate: name, role: 'members', schema: a.schema, name: internalName(name, `${m}__members`), columns: [bucket, ...dims, value], measure: m });
    const n: ColumnSpec = { name: 'n', type: { base: 'BIGINT' }, nullable: false };
    out.push({ aggregate: name, role: 'counts', schema: a.schema, name: internalName(name, `${m}__counts`), columns: [bucket, ...dims, n], measure: m });
  }
  return out;
}

function internalName(aggregate: string, suffix: string): string {
  const name = `${aggregate}__${suffix}`;
  const problem = identifierProblem(name);
  if (problem) throw new ForkliftError(`aggregate '${aggregate}': its internal table name '${name}' ${problem}; use a shorter aggregate or measure name`);
  return name;
}

/**
 * The DDL that brings an aggregate table to the config, given its columns in the warehouse
 * (undefined: missing). Missing table: CREATE SCHEMA/TABLE IF NOT EXISTS. Existing: one
 * ALTER TABLE ADD COLUMN per missing column (nullable; Redshift adds one column per
 * statement); columns only in the warehouse are kept; a type change is refused.
 */
export function renderAggregateTableChanges(t: AggregateTable, existing: ExistingColumn[] | undefined, sortKey?: readonly string[]): string[] {
  const target = qualified(t.schema, t.name);
  if (existing === undefined) {
    const physical = `DISTSTYLE AUTO SORTKEY (${(sortKey?.length ? sortKey : ['bucket']).map(quoteIdent).join(', ')})`;
    return [renderCreateSchema(t.schema), `CREATE TABLE IF NOT EXISTS ${target} (${t.columns.map(renderColumnDefinition).join(', ')}) ${physical}`];
  }
  const have = new Map(existing.map((c) => [c.name, c.type]));
  const out: string[] = [];
  const problems: string[] = [];
  for (const c of t.columns) {
    const type = have.get(c.name);
    if (!type) {
      out.push(`ALTER TABLE ${target} ADD COLUMN ${renderColumnDefinition({ ...c, nullable: true })}`);
    } else if (renderColumnType(type) !== renderColumnType(c.type) && !(type.base === 'VARCHAR' && c.type.base === 'VARCHAR')) {
      problems.push(`column '${c.name}': ${renderColumnType(type)} -> ${renderColumnType(c.type)}`);
    }
  }
  if (problems.length) {
    throw new ForkliftError(
      `${t.role} table ${target} of aggregate '${t.aggregate}': ${problems.join('; ')} cannot be changed in place; ` +
        'drop the table and run `forklift backfill --aggregate` to rebuild it',
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Ranges

/** A half-open time range [start, end). */
export interface TimeRange {
  start: Date;
  end: Date;
}

/** Ranges aligned to `grain` that cover `hours`, merged when adjacent; more than MAX_RANGES → their covering range. */
export function bucketRanges(hours: readonly Date[], grain: 'hour' | 'day'): TimeRange[] {
  const starts = [...new Set(hours.map((h) => truncateDate(h, grain).getTime()))].sort((x, y) => x - y);
  const out: TimeRange[] = [];
  for (const s of starts) {
    const start = new Date(s);
    const end = partitionEnd(start, grain);
    const last = out[out.length - 1];
    if (last && last.end.getTime() === s) last.end = end;
    else out.push({ start, end });
  }
  if (out.length > MAX_RANGES) return [{ start: out[0]!.start, end: out[out.length - 1]!.end }];
  return out;
}

/** [start, end) widened to whole buckets of `grain`. */
export function alignRange(range: TimeRange, grain: 'hour' | 'day'): TimeRange {
  const start = truncateDate(range.start, grain);
  const floorEnd = truncateDate(range.end, grain);
  const end = floorEnd.getTime() === range.end.getTime() ? floorEnd : partitionEnd(floorEnd, grain);
  return { start, end };
}

/** `(col >= 'a' AND col < 'b') OR ...`: literal bounds that zone maps (and BRIN) can use. */
export function rangePredicate(column: string, ranges: readonly TimeRange[]): string {
  if (ranges.length === 0) return 'FALSE';
  const one = (r: TimeRange) => `${column} >= ${timestampLiteral(r.start)} AND ${column} < ${timestampLiteral(r.end)}`;
  return ranges.length === 1 ? one(ranges[0]!) : `(${ranges.map((r) => `(${one(r)})`).join(' OR ')})`;
}

// ---------------------------------------------------------------------------------------------
// Rendering one aggregate's work

/** What to recompute for one aggregate: the hours whose rows changed. */
export interface AggregateWork {
  aggregate: string;
  /** Hour starts (pending work), or a range (backfill) widened to the aggregate's grain. */
  hours?: readonly Date[];
  range?: TimeRange;
  /**
   * Inside the load batch: the hours are the rows of the load's temp table {@link LOAD_HOURS_TABLE}
   * (not known when the batch is rendered), bounded by their MIN/MAX and filtered by membership.
   */
  loadHours?: true;
  /**
   * With loadHours: the load only inserted rows (an append, not a reload): distinct counts at a
   * coarser grain add the bucket's new members instead of recounting the bucket.
   */
  append?: true;
  /** Distinguishes the temp tables of this work within one batch. */
  tempSuffix?: string;
}

/** The load batch's temp table of the hours its rows touch (time_column, hour): what in-load aggregates recompute. */
export const LOAD_HOURS_TABLE = 'forklift_hours';

/**
 * The rows of `column` whose `grain` bucket holds one of the load's hours (of time column `time`):
 * between the buckets of the first and last hour (bounds a zone map or index can use once the
 * scalar subqueries ran), and in the set of buckets (exact).
 */
export function loadHoursPredicate(column: string, grain: 'hour' | 'day', time: string): string {
  const hours = `FROM ${quoteIdent(LOAD_HOURS_TABLE)} WHERE time_column = ${literal(time)}`;
  const g = literal(grain);
  return `${loadHoursBounds(column, grain, time)} AND DATE_TRUNC(${g}, ${column}) IN (SELECT DATE_TRUNC(${g}, hour) ${hours})`;
}

/** The bounds of {@link loadHoursPredicate} alone: between the buckets of the load's first and last hour. */
export function loadHoursBounds(column: string, grain: 'hour' | 'day', time: string): string {
  const hours = `FROM ${quoteIdent(LOAD_HOURS_TABLE)} WHERE time_column = ${literal(time)}`;
  const g = literal(grain);
  return `${column} >= (SELECT DATE_TRUNC(${g}, MIN(hour)) ${hours}) AND ${column} < (SELECT DATE_TRUNC(${g}, MAX(hour)) + INTERVAL '1 ${grain}' ${hours})`;
}

/** The statements of one aggregate's recompute, and the index (0-based, within them) of its fact INSERT. */
export function renderAggregateWork(config: ForkliftConfig, work: AggregateWork): { sqls: string[]; factInsert: number } {
  const name = work.aggregate;
  const a = config.aggregates[name];
  if (!a) throw new ForkliftError(`unknown aggregate '${name}'`);
  const fact = relationName(config, name);
  const hourRanges = work.range ? [alignRange(work.range, a.grain)] : bucketRanges(work.hours ?? [], 'hour');
  const factRanges = work.range ? [alignRange(work.range, a.grain)] : bucketRanges(work.hours ?? [], a.grain);
  const root = work.loadHours ? rootTimeColumn(config, name) : '';
  /** The rows of `column` in the affected hours (`hour`) or in the aggregate's affected buckets (`fact`). */
  const within = (column: string, which: 'hour' | 'fact'): string =>
    work.loadHours
      ? loadHoursPredicate(column, which === 'hour' ? 'hour' : a.grain, root)
      : rangePredicate(column, which === 'hour' ? hourRanges : factRanges);
  const sqls: string[] = [];

  if (a.sql !== undefined) {
    if (work.loadHours) throw new ForkliftError(`aggregate '${name}': a raw-SQL aggregate is recomputed by its own batch, not inside the load`);
    const columns = Object.keys(a.columns ?? {}).map(quoteIdent).join(', ');
    // One covering range: the SELECT is the user's, with one {{start}} and one {{end}}.
    const cover = { start: factRanges[0]!.start, end: factRanges[factRanges.length - 1]!.end };
    const start = timestampLiteral(cover.start);
    const end = timestampLiteral(cover.end);
    sqls.push(`DELETE FROM ${fact} WHERE ${rangePredicate('bucket', [cover])}`);
    sqls.push(`INSERT INTO ${fact} (${columns}) ${a.sql.split('{{start}}').join(start).split('{{end}}').join(end)}`);
    return { sqls, factInsert: 1 };
  }

  const time = quoteIdent(a.timeColumn);
  const dims = a.dimensions.map(quoteIdent);
  const source = relationName(config, a.source);
  if (!rollsUp(config, a)) {
    const bucket = `DATE_TRUNC(${literal(a.grain)}, ${time})`;
    const select = directSelect(config, a);
    sqls.push(`DELETE FROM ${fact} WHERE ${within('bucket', 'fact')}`);
    sqls.push(
      `INSERT INTO ${fact} (${['bucket', ...a.dimensions, ...select.map((c) => c.name)].map(quoteIdent).join(', ')}) ` +
        `SELECT ${[`${bucket} AS bucket`, ...dims, ...select.map((c) => c.expr)].join(', ')} FROM ${source} ` +
        `WHERE ${within(time, 'fact')} GROUP BY ${[bucket, ...dims].join(', ')}`,
    );
    return { sqls, factInsert: 1 };
  }

  // Coarse grain from a raw table: partials and key sets of the affected hours, then the roll-up.
  const tables = aggregateTables(config, name);
  const hour = `DATE_TRUNC('hour', ${time})`;
  const partials = tables.find((t) => t.role === 'partials')!;
  const partialsName = qualified(partials.schema, partials.name);
  const partialSelect = partialsSelect(a);
  sqls.push(`DELETE FROM ${partialsName} WHERE ${within('bucket', 'hour')}`);
  sqls.push(
    `INSERT INTO ${partialsName} (${['bucket', ...a.dimensions, ROWS, ...partialSelect.map((c) => c.name)].map(quoteIdent).join(', ')}) ` +
      `SELECT ${[`${hour} AS bucket`, ...dims, 'COUNT(*)', ...partialSelect.map((c) => c.expr)].join(', ')} FROM ${source} ` +
      `WHERE ${within(time, 'hour')} GROUP BY ${[hour, ...dims].join(', ')}`,
  );
  const keySets = tables.filter((t) => t.role === 'keys');
  const eq = (x: string, y: string) => (c: string): string => {
    const q = quoteIdent(c);
    return c === 'bucket' ? `${x}.${q} = ${y}.${q}` : `(${x}.${q} = ${y}.${q} OR (${x}.${q} IS NULL AND ${y}.${q} IS NULL))`;
  };
  const coarse = `DATE_TRUNC(${literal(a.grain)}, bucket)`;
  const suffix = work.tempSuffix ?? '0';
  const memberCols = ['bucket', ...a.dimensions, 'value'].map(quoteIdent).join(', ');
  keySets.forEach((k, i) => {
    const column = quoteIdent(a.measures[k.measure!]!.column!);
    const keys = qualified(k.schema, k.name);
    const membersTable = tables.find((t) => t.role === 'members' && t.measure === k.measure)!;
    const countsTable = tables.find((t) => t.role === 'counts' && t.measure === k.measure)!;
    const members = qualified(membersTable.schema, membersTable.name);
    const counts = qualified(countsTable.schema, countsTable.name);
    const countCols = ['bucket', ...a.dimensions, 'n'].map(quoteIdent).join(', ');
    sqls.push(`DELETE FROM ${keys} WHERE ${within('bucket', 'hour')}`);
    sqls.push(
      `INSERT INTO ${keys} (${['bucket', ...a.dimensions, 'value'].map(quoteIdent).join(', ')}) ` +
        `SELECT DISTINCT ${[hour, ...dims, column].join(', ')} FROM ${source} ` +
        `WHERE ${within(time, 'hour')} AND ${column} IS NOT NULL`,
    );
    const kBucket = `DATE_TRUNC(${literal(a.grain)}, k.bucket)`;
    const kDims = dims.map((d) => `k.${d}`);
    if (!work.append) {
      // The buckets' members again from their hours' key sets, and their counts. Members are written in
      // sort key order (as Redshift advises for loads): a DISTINCT by hashing would scatter a bucket over the
      // whole write, and every later append's look at its bucket would read all of it.
      sqls.push(`DELETE FROM ${members} WHERE ${within('bucket', 'fact')}`);
      sqls.push(`DELETE FROM ${counts} WHERE ${within('bucket', 'fact')}`);
      sqls.push(
        `INSERT INTO ${members} (${memberCols}) SELECT DISTINCT ${[kBucket, ...kDims, 'k.value'].join(', ')} FROM ${keys} k WHERE ${within('k.bucket', 'fact')} ORDER BY 1`,
      );
      sqls.push(
        `INSERT INTO ${counts} (${countCols}) SELECT ${['bucket', ...dims, 'COUNT(*)'].join(', ')} FROM ${members} ` +
          `WHERE ${within('bucket', 'fact')} GROUP BY ${['bucket', ...dims].join(', ')}`,
      );
      return;
    }
    // An append: a bucket with a count gains the values of the new hours it does not hold yet, and its
    // count grows by as many; a bucket without one (new, or kept by an older version) is counted from its key sets.
    const unseeded = quoteIdent(`forklift_unseeded_${suffix}_${i + 1}`);
    const added = quoteIdent(`forklift_members_${suffix}_${i + 1}`);
    const uOn = ['bucket', ...a.dimensions].map((c) => (c === 'bucket' ? `u.bucket = ${kBucket}` : eq('u', 'k')(c))).join(' AND ');
    // EXCEPT, not NOT EXISTS: a set operation (NULL dimensions compare equal) that no planner turns into a
    // nested loop over a table whose statistics lag its writes in this transaction.
    sqls.push(
      `CREATE TEMP TABLE ${unseeded} AS SELECT ${[`${kBucket} AS bucket`, ...kDims].join(', ')} FROM ${keys} k WHERE ${within('k.bucket', 'hour')} ` +
        `EXCEPT SELECT ${['c.bucket', ...dims.map((d) => `c.${d}`)].join(', ')} FROM ${counts} c WHERE ${loadHoursBounds('c.bucket', a.grain, root)}`,
    );
    const seedRange = `k.bucket >= (SELECT MIN(bucket) FROM ${unseeded}) AND k.bucket < (SELECT MAX(bucket) + INTERVAL '1 ${a.grain}' FROM ${unseeded})`;
    sqls.push(
      `INSERT INTO ${members} (${memberCols}) SELECT DISTINCT ${[kBucket, ...kDims, 'k.value'].join(', ')} FROM ${keys} k ` +
        `WHERE ${seedRange} AND EXISTS (SELECT 1 FROM ${unseeded} u WHERE ${uOn})`,
    );
    sqls.push(
      `INSERT INTO ${counts} (${countCols}) SELECT ${['m.bucket', ...dims.map((d) => `m.${d}`), 'COUNT(*)'].join(', ')} FROM ${members} m JOIN ${unseeded} u ON ` +
        `${['bucket', ...a.dimensions].map(eq('u', 'm')).join(' AND ')} ` +
        `WHERE m.bucket >= (SELECT MIN(bucket) FROM ${unseeded}) AND m.bucket < (SELECT MAX(bucket) + INTERVAL '1 ${a.grain}' FROM ${unseeded}) ` +
        `GROUP BY ${['m.bucket', ...dims.map((d) => `m.${d}`)].join(', ')}`,
    );
    sqls.push(
      `CREATE TEMP TABLE ${added} AS SELECT ${[`${kBucket} AS bucket`, ...kDims, 'k.value'].join(', ')} FROM ${keys} k WHERE ${within('k.bucket', 'hour')} ` +
        `EXCEPT SELECT ${['m.bucket', ...dims.map((d) => `m.${d}`), 'm.value'].join(', ')} FROM ${members} m WHERE ${loadHoursBounds('m.bucket', a.grain, root)}`,
    );
    sqls.push(`INSERT INTO ${members} (${memberCols}) SELECT ${memberCols} FROM ${added}`);
    sqls.push(
      `UPDATE ${counts} SET n = n + x.added FROM (SELECT ${['bucket', ...dims, 'COUNT(*) AS added'].join(', ')} FROM ${added} GROUP BY ${['bucket', ...dims].join(', ')}) x ` +
        `WHERE ${['bucket', ...a.dimensions].map(eq(quoteIdent(countsTable.name), 'x')).join(' AND ')}`,
    );
  });
  const rolled = rollupSelect(a);
  const joins = keySets.map((k, i) => {
    const alias = `k${i + 1}`;
    const countsTable = tables.find((t) => t.role === 'counts' && t.measure === k.measure)!;
    return (
      ` LEFT JOIN (SELECT ${['bucket', ...dims, 'n'].join(', ')} FROM ${qualified(countsTable.schema, countsTable.name)} ` +
      `WHERE ${within('bucket', 'fact')}) ${alias} ON ${['bucket', ...a.dimensions].map(eq(alias, 'p')).join(' AND ')}`
    );
  });
  const distinctExpr = new Map(keySets.map((k, i) => [k.measure!, `COALESCE(k${i + 1}.n, 0)`]));
  const factCols = ['bucket', ...a.dimensions];
  const exprs = ['p.bucket', ...dims.map((d) => `p.${d}`)];
  for (const [m, spec] of Object.entries(a.measures)) {
    if (spec.fn === 'count_distinct') {
      factCols.push(m);
      exprs.push(distinctExpr.get(m)!);
    } else if (spec.fn === 'avg') {
      factCols.push(m, `${m}_sum`, `${m}_count`);
      exprs.push(`p.${quoteIdent(`${m}_sum`)} / NULLIF(p.${quoteIdent(`${m}_count`)}, 0)`, `p.${quoteIdent(`${m}_sum`)}`, `p.${quoteIdent(`${m}_count`)}`);
    } else {
      factCols.push(m);
      exprs.push(`p.${quoteIdent(m)}`);
    }
  }
  sqls.push(`DELETE FROM ${fact} WHERE ${within('bucket', 'fact')}`);
  sqls.push(
    `INSERT INTO ${fact} (${factCols.map(quoteIdent).join(', ')}) SELECT ${exprs.join(', ')} FROM ` +
      `(SELECT ${[`${coarse} AS bucket`, ...dims, ...rolled.map((c) => `${c.expr} AS ${quoteIdent(c.name)}`)].join(', ')} FROM ${partialsName} ` +
      `WHERE ${within('bucket', 'fact')} GROUP BY ${[coarse, ...dims].join(', ')}) p${joins.join('')}`,
  );
  return { sqls, factInsert: sqls.length - 1 };
}

/** Measures of a fact computed directly (hour grain from raw, or any grain from an aggregate). */
function directSelect(config: ForkliftConfig, a: AggregateConfig): Array<{ name: string; expr: string }> {
  const fromAggregate = config.aggregates[a.source] !== undefined;
  const out: Array<{ name: string; expr: string }> = [];
  for (const [name, m] of Object.entries(a.measures)) {
    const c = m.column ? quoteIdent(m.column) : undefined;
    const need = (): string => {
      if (!c) throw new ForkliftError(`aggregate measure '${name}': ${m.fn} needs a column`);
      return c;
    };
    switch (m.fn) {
      case 'count':
        out.push({ name, expr: fromAggregate ? `SUM(${need()})` : c ? `COUNT(${c})` : 'COUNT(*)' });
        break;
      case 'count_distinct':
        if (fromAggregate) throw new ForkliftError(`aggregate measure '${name}': distinct counts are not additive; compute them from the raw table`);
        out.push({ name, expr: `COUNT(DISTINCT ${need()})` });
        break;
      case 'sum':
        out.push({ name, expr: `SUM(${need()})` });
        break;
      case 'min':
        out.push({ name, expr: `MIN(${need()})` });
        break;
      case 'max':
        out.push({ name, expr: `MAX(${need()})` });
        break;
      case 'avg': {
        const col = need();
        if (fromAggregate) {
          const sum = quoteIdent(`${m.column}_sum`);
          const count = quoteIdent(`${m.column}_count`);
          out.push(
            { name, expr: `SUM(${sum}) / NULLIF(SUM(${count}), 0)` },
            { name: `${name}_sum`, expr: `SUM(${sum})` },
            { name: `${name}_count`, expr: `SUM(${count})` },
          );
        } else {
          out.push(
            { name, expr: `AVG(CAST(${col} AS DOUBLE PRECISION))` },
            { name: `${name}_sum`, expr: `SUM(CAST(${col} AS DOUBLE PRECISION))` },
            { name: `${name}_count`, expr: `COUNT(${col})` },
          );
        }
        break;
      }
    }
  }
  return out;
}

/** Hour-grain partial expressions (over raw rows) of the additive measures. */
function partialsSelect(a: AggregateConfig): Array<{ name: string; expr: string }> {
  const out: Array<{ name: string; expr: string }> = [];
  for (const [name, m] of Object.entries(a.measures)) {
    const c = m.column ? quoteIdent(m.column) : '*';
    switch (m.fn) {
      case 'count_distinct':
        break;
      case 'count':
        out.push({ name, expr: `COUNT(${c})` });
        break;
      case 'sum':
        out.push({ name, expr: `SUM(${c})` });
        break;
      case 'min':
        out.push({ name, expr: `MIN(${c})` });
        break;
      case 'max':
        out.push({ name, expr: `MAX(${c})` });
        break;
      case 'avg':
        out.push({ name: `${name}_sum`, expr: `SUM(CAST(${c} AS DOUBLE PRECISION))` }, { name: `${name}_count`, expr: `COUNT(${c})` });
        break;
    }
  }
  return out;
}

/** Roll-up expressions (over partials rows) of the additive measures. */
function rollupSelect(a: AggregateConfig): Array<{ name: string; expr: string }> {
  const out: Array<{ name: string; expr: string }> = [];
  for (const [name, m] of Object.entries(a.measures)) {
    const q = quoteIdent(name);
    switch (m.fn) {
      case 'count_distinct':
        break;
      case 'count':
      case 'sum':
        out.push({ name, expr: `SUM(${q})` });
        break;
      case 'min':
        out.push({ name, expr: `MIN(${q})` });
        break;
      case 'max':
        out.push({ name, expr: `MAX(${q})` });
        break;
      case 'avg':
        out.push({ name: `${name}_sum`, expr: `SUM(${quoteIdent(`${name}_sum`)})` }, { name: `${name}_count`, expr: `SUM(${quoteIdent(`${name}_count`)})` });
        break;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// One batch

/** Columns of the aggregate tables found in the warehouse, by `schema.table` (unquoted). */
export type ExistingTables = ReadonlyMap<string, ExistingColumn[]>;

/** What {@link renderAggregateBatch} needs. */
export interface AggregateBatchArgs {
  config: ForkliftConfig;
  /** The work, in dependency order (sources first). */
  work: AggregateWork[];
  /** Loads to mark done per aggregate (pending work); empty for a range run. */
  loads?: ReadonlyMap<string, readonly string[]>;
  /** Aggregate tables as the warehouse has them; undefined: assume none exists (CREATE IF NOT EXISTS). */
  existing?: ExistingTables;
  now?: Date;
  /** Statement budget (default MAX_BATCH_STATEMENTS). */
  maxStatements?: number;
  /** The warehouse's groups (pg_group), when read: grants go to these only (a GRANT to a missing group fails the batch). */
  existingGroups?: ReadonlySet<string>;
}

/** The rendered batch: which aggregates it covers, one `fact` step per aggregate (at its fact INSERT). */
export interface AggregateBatch {
  sqls: string[];
  steps: StepRef[];
  covered: string[];
  /** Aggregates of `work` that did not fit: the next batch's. */
  remaining: string[];
  /** Columns added to existing fact tables: their history needs a backfill. */
  addedColumns: Array<{ aggregate: string; columns: string[] }>;
  /** Configured readOnlyGroups of the covered aggregates that do not exist (`existingGroups`): not granted. */
  skippedGroups: string[];
}

/** Statements of a batch besides the aggregates' own: LOCK, done marks, grants. */
function fixedStatements(config: ForkliftConfig, aggregates: readonly string[], marks: boolean, existingGroups: ReadonlySet<string> | undefined): number {
  return 1 + (marks ? 1 : 0) + grantStatements(config, aggregates, existingGroups).length;
}

/**
 * The next batch of `work`: as many aggregates (a prefix, in dependency order) as fit the
 * statement budget, each with its DDL (missing tables, missing columns), then LOCK of every
 * table the batch writes or reads from another aggregate, the recomputes, the done marks and
 * the grants. Throws when one aggregate alone cannot fit (checkAggregateLimits refuses such
 * configs at synthesis).
 */
export function renderAggregateBatch(args: AggregateBatchArgs): AggregateBatch {
  const { config } = args;
  const budget = args.maxStatements ?? MAX_BATCH_STATEMENTS;
  const marks = args.loads !== undefined;
  const chosen: Array<{ work: AggregateWork; ddl: string[]; body: string[]; factInsert: number; added: string[] }> = [];
  for (const work of args.work) {
    const ddl: string[] = [];
    const added: string[] = [];
    for (const t of aggregateTables(config, work.aggregate)) {
      const existing = args.existing === undefined ? undefined : args.existing.get(`${t.schema}.${t.name}`);
      const changes = renderAggregateTableChanges(t, existing, t.role === 'fact' ? config.aggregates[work.aggregate]!.sortKey : undefined);
      ddl.push(...changes);
      if (t.role === 'fact' && existing !== undefined) added.push(...changes.map((c) => /ADD COLUMN ("(?:[^"]|"")+")/.exec(c)?.[1] ?? c));
    }
    const { sqls: body, factInsert } = renderAggregateWork(config, work);
    const names = [...chosen.map((c) => c.work.aggregate), work.aggregate];
    const fixed = fixedStatements(config, names, marks, args.existingGroups);
    const total = chosen.reduce((n, c) => n + c.ddl.length + c.body.length, 0) + ddl.length + body.length + fixed;
    if (total > budget) {
      if (chosen.length === 0) {
        throw new ForkliftError(
          `aggregate '${work.aggregate}' needs ${total} statements in one transaction, more than the ${budget} a Data API batch takes; ` +
            'split its measures into several aggregates',
        );
      }
      break;
    }
    chosen.push({ work, ddl: [...new Set(ddl)], body, factInsert, added });
  }
  const covered = chosen.map((c) => c.work.aggregate);
  const sqls: string[] = [];
  for (const c of chosen) for (const s of c.ddl) if (!sqls.includes(s)) sqls.push(s);
  const locked = new Set<string>();
  for (const name of covered) {
    for (const t of aggregateTables(config, name)) locked.add(qualified(t.schema, t.name));
    const source = config.aggregates[name]!.source;
    if (config.aggregates[source]) locked.add(relationName(config, source));
  }
  // LOCK first (after creating what is missing): two aggregate transactions on one fact table serialize.
  sqls.push(`LOCK ${[...locked].sort().join(', ')}`);
  const steps: StepRef[] = [];
  for (const c of chosen) {
    const base = sqls.length;
    sqls.push(...c.body);
    steps.push({ kind: 'fact', name: c.work.aggregate, statement: base + c.factInsert + 1 });
  }
  if (marks) {
    const now = timestampLiteral(args.now ?? new Date());
    const values = covered.flatMap((name) => (args.loads!.get(name) ?? []).map((id) => `(${literal(name)}, ${literal(id)}, ${now})`));
    if (values.length) {
      sqls.push(`INSERT INTO ${aggregatedLoadsTable(config.warehouse.auditSchema)} (aggregate_name, load_id, aggregated_at) VALUES ${values.join(', ')}`);
    }
  }
  sqls.push(...grantStatements(config, covered, args.existingGroups));
  for (const s of sqls) {
    if (Buffer.byteLength(s, 'utf8') > MAX_STATEMENT_BYTES) {
      throw new ForkliftError(`an aggregate statement is ${Buffer.byteLength(s, 'utf8')} bytes, over the Data API's 100 KB: ${s.slice(0, 120)}...`);
    }
  }
  return {
    sqls,
    steps,
    covered,
    remaining: args.work.slice(covered.length).map((w) => w.aggregate),
    addedColumns: chosen.filter((c) => c.added.length).map((c) => ({ aggregate: c.work.aggregate, columns: c.added })),
    skippedGroups: [...new Set(covered.flatMap((name) => splitGrantees(aggregateGroups(config.aggregates[name]!), args.existingGroups).missing))],
  };
}

/** The aggregates of a load, rendered to run inside its batch (after its INSERT, before its audit rows). */
export interface LoadAggregates {
  /** Every table the statements write (fact, partials, key sets), qualified: the load's LOCK takes them first. */
  locks: string[];
  /** ADD COLUMN of fact or hidden tables that lack configured columns (after the LOCK). */
  alters: string[];
  /** The recomputes in dependency order, the done marks (guarded), the grants. */
  sqls: string[];
  /** 0-based index in `sqls` of each aggregate's fact INSERT. */
  factInserts: Array<{ aggregate: string; index: number }>;
}

/**
 * The recomputes of `aggregates` (a whole tree of one raw table, in dependency order) for the
 * load batch: their buckets come from the load's hours ({@link LOAD_HOURS_TABLE}), the done
 * marks are written only when the guard lets the load run, so nothing is left pending. The
 * tables exist before the batch (Prepare's aggregate read creates them); `existing` holds
 * their columns as read. Throws ForkliftError for a raw-SQL aggregate or a column type change
 * (the caller then leaves the aggregates to their own batch).
 */
export function renderLoadAggregates(args: {
  config: ForkliftConfig;
  aggregates: readonly string[];
  existing: ExistingTables;
  loadId: string;
  append?: boolean;
  /** The warehouse's groups (pg_group), when read: grants go to these only (a GRANT to a missing group fails the batch). */
  existingGroups?: ReadonlySet<string>;
}): LoadAggregates {
  const { config } = args;
  const locks = new Set<string>();
  const alters: string[] = [];
  const sqls: string[] = [];
  const factInserts: LoadAggregates['factInserts'] = [];
  for (const name of args.aggregates) {
    if (config.aggregates[name]?.sql !== undefined) {
      throw new ForkliftError(`aggregate '${name}': a raw-SQL aggregate is recomputed by its own batch, not inside the load`);
    }
    for (const t of aggregateTables(config, name)) {
      locks.add(qualified(t.schema, t.name));
      const existing = args.existing.get(`${t.schema}.${t.name}`);
      if (existing === undefined) throw new ForkliftError(`${t.role} table ${t.schema}.${t.name} of aggregate '${name}' was not read before the load`);
      alters.push(...renderAggregateTableChanges(t, existing));
    }
    const source = config.aggregates[name]!.source;
    if (config.aggregates[source]) locks.add(relationName(config, source));
    const work = renderAggregateWork(config, { aggregate: name, loadHours: true, tempSuffix: String(factInserts.length + 1), ...(args.append ? { append: true } : {}) });
    factInserts.push({ aggregate: name, index: sqls.length + work.factInsert });
    sqls.push(...work.sqls);
  }
  const marks = args.aggregates.map(
    (name) =>
      `SELECT CAST(${literal(name)} AS VARCHAR(127)), CAST(${literal(args.loadId)} AS VARCHAR(80)), GETDATE() FROM ${quoteIdent(GUARD_TABLE)} WHERE decision = 'load'`,
  );
  sqls.push(`INSERT INTO ${aggregatedLoadsTable(config.warehouse.auditSchema)} (aggregate_name, load_id, aggregated_at) ${marks.join(' UNION ALL ')}`);
  sqls.push(...grantStatements(config, args.aggregates, args.existingGroups));
  return { locks: [...locks], alters, sqls, factInserts };
}

/**
 * Read access to the fact tables of `aggregates` for their readOnlyGroups: per group, USAGE on
 * the schemas, SELECT on the tables, and default privileges so tables created later in those
 * schemas are readable too.
 */
export function grantStatements(config: ForkliftConfig, aggregates: readonly string[], existingGroups?: ReadonlySet<string>): string[] {
  const byGroup = new Map<string, { schemas: Set<string>; tables: string[] }>();
  for (const name of aggregates) {
    const a = config.aggregates[name]!;
    for (const g of splitGrantees(aggregateGroups(a), existingGroups).granted) {
      const e = byGroup.get(g) ?? { schemas: new Set(), tables: [] };
      e.schemas.add(a.schema);
      e.tables.push(relationName(config, name));
      byGroup.set(g, e);
    }
  }
  return [...byGroup].flatMap(([g, e]) => {
    const group = quoteIdent(g);
    const schemas = [...e.schemas].map(quoteIdent);
    return [
      `GRANT USAGE ON SCHEMA ${schemas.join(', ')} TO GROUP ${group}`,
      `GRANT SELECT ON ${e.tables.join(', ')} TO GROUP ${group}`,
      ...schemas.map((s) => `ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT SELECT ON TABLES TO GROUP ${group}`),
    ];
  });
}

function aggregateGroups(a: AggregateConfig): readonly string[] {
  return a.readOnlyGroups;
}

/**
 * Synthesis-time check: every aggregate's recompute fits one Data API batch on its own
 * (statements with all its tables missing, its LOCK, marks and grants; statement size for
 * MAX_RANGES hour ranges). Returns one problem per aggregate that cannot fit.
 */
export function checkAggregateLimits(config: ForkliftConfig): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  const hours = Array.from({ length: MAX_RANGES }, (_, i) => new Date(Date.UTC(2026, 0, 1 + i * 2)));
  for (const name of aggregateOrder(config)) {
    try {
      const batch = renderAggregateBatch({ config, work: [{ aggregate: name, hours }], loads: new Map([[name, ['x']]]), now: new Date(0) });
      if (batch.covered.length !== 1) throw new ForkliftError('does not fit a batch');
    } catch (err) {
      problems.push({ path: `aggregates.${name}`, message: (err as Error).message });
    }
  }
  return problems;
}

/**
 * The columns of the aggregate tables of `aggregates` from information_schema (a leader-node
 * catalog view: its own statement, never mixed with user tables).
 */
export function renderAggregateColumnsQuery(config: ForkliftConfig, aggregates: readonly string[]): string {
  const tables = aggregates.flatMap((a) => aggregateTables(config, a));
  const where = tables.map((t) => `(table_schema = ${literal(t.schema)} AND table_name = ${literal(t.name)})`).join(' OR ');
  return (
    'SELECT table_schema, table_name, column_name, data_type, character_maximum_length, numeric_precision, numeric_scale ' +
    `FROM information_schema.columns WHERE ${where || 'FALSE'} ORDER BY table_schema, table_name, ordinal_position`
  );
}

/** Rows of {@link renderAggregateColumnsQuery} as ExistingTables. */
export function parseAggregateColumns(rows: ReadonlyArray<ReadonlyArray<unknown>>): Map<string, ExistingColumn[]> {
  const out = new Map<string, ExistingColumn[]>();
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  for (const [schema, table, column, dataType, len, precision, scale] of rows) {
    const key = `${String(schema)}.${String(table)}`;
    const list = out.get(key) ?? [];
    const type: ColumnType = parseInformationSchemaType(String(dataType), num(len), num(precision), num(scale)) ?? { base: 'VARCHAR', length: 65535 };
    list.push({ name: String(column), type });
    out.set(key, list);
  }
  return out;
}

/** Rows of {@link renderPendingQuery}. */
export function parsePending(rows: ReadonlyArray<ReadonlyArray<unknown>>): PendingHour[] {
  return rows.map(([aggregate, loadId, hour, loadedAt]) => {
    const h = parseTimestamp(hour as string);
    if (!h) throw new ForkliftError(`pending work: unreadable hour ${String(hour)}`);
    const at = parseTimestamp((loadedAt ?? null) as string | null);
    return { aggregate: String(aggregate), loadId: String(loadId), hour: h, ...(at ? { loadedAt: at } : {}) };
  });
}
