/**
 * The aggregate batch: per aggregate (dependency order) CREATE IF NOT EXISTS,
 * LOCK, DELETE the affected buckets, INSERT ... SELECT ... GROUP BY those buckets
 * only. One transaction for all aggregates fed by a load.
 */
import { aggregateOrder, rootTable } from '../config/crossChecks';
import type { AggregateConfig, ForkliftConfig } from '../config/schema';
import { partitionEnd, truncateDate } from '../dates';
import { ForkliftError } from '../errors';
import { literal, quoteIdent, timestampLiteral } from '../identifiers';
import type { StepRef } from '../types';
import { auditIdentity, auditTable } from './audit';
import { renderFactTableDdl } from './ddl';
import { relationName, rootTimeColumn } from './relations';

/** Which buckets to recompute: those a load touched, or an explicit [start, end). */
export type AggregateBuckets = { kind: 'load'; loadId: string; table: string } | { kind: 'range'; start: Date; end: Date };

/** What renderAggregateBatch needs. */
export interface AggregateBatchArgs {
  config: ForkliftConfig;
  /** Aggregate names in dependency order (sources first). */
  aggregates: string[];
  buckets: AggregateBuckets;
}

/** The rendered batch; one `fact` step per aggregate, at its INSERT. */
export interface AggregateBatch {
  sqls: string[];
  steps: StepRef[];
}

/** The enabled aggregates fed by raw table `table`, directly or through other aggregates, in dependency order. */
export function aggregatesFedBy(config: ForkliftConfig, table: string): string[] {
  return aggregateOrder(config).filter((a) => config.aggregates[a]!.enabled && rootTable(config, a) === table);
}

/** Renders the aggregate batch. */
export function renderAggregateBatch(args: AggregateBatchArgs): AggregateBatch {
  const { config } = args;
  const sqls: string[] = [];
  const steps: StepRef[] = [];
  for (const name of args.aggregates) {
    const a = config.aggregates[name];
    if (!a) throw new ForkliftError(`unknown aggregate '${name}'`);
    const fact = relationName(config, name);
    const range = bucketRange(config, name, a, args.buckets);
    sqls.push(...renderFactTableDdl(config, name), `LOCK ${fact}`);
    if (a.sql !== undefined) {
      const sql = a.sql.split('{{start}}').join(range.start).split('{{end}}').join(range.end);
      const columns = Object.keys(a.columns ?? {}).map(quoteIdent);
      sqls.push(`DELETE FROM ${fact} WHERE bucket >= ${range.start} AND bucket < ${range.end}`);
      sqls.push(`INSERT INTO ${fact} (${columns.join(', ')}) ${sql}`);
    } else {
      const time = quoteIdent(a.timeColumn);
      const bucket = `DATE_TRUNC(${literal(a.grain)}, ${time})`;
      const select = selectList(config, a, bucket);
      const where =
        range.buckets === undefined
          ? `${time} >= ${range.start} AND ${time} < ${range.end}`
          : `${bucket} IN (${range.buckets}) AND ${time} >= ${range.start} AND ${time} < ${range.end}`;
      sqls.push(`DELETE FROM ${fact} WHERE ${range.buckets === undefined ? `bucket >= ${range.start} AND bucket < ${range.end}` : `bucket IN (${range.buckets})`}`);
      sqls.push(
        `INSERT INTO ${fact} (${select.map((c) => quoteIdent(c.name)).join(', ')}) ` +
          `SELECT ${select.map((c) => c.expr).join(', ')} FROM ${relationName(config, a.source)} ` +
          `WHERE ${where} GROUP BY ${[bucket, ...a.dimensions.map(quoteIdent)].join(', ')}`,
      );
    }
    steps.push({ kind: 'fact', name, statement: sqls.length });
  }
  return { sqls, steps };
}

interface BucketRange {
  /** Timestamp expressions: the first bucket, and the end of the last one (exclusive). */
  start: string;
  end: string;
  /** For loads: a subquery of the affected buckets. */
  buckets?: string;
}

function bucketRange(config: ForkliftConfig, name: string, a: AggregateConfig, buckets: AggregateBuckets): BucketRange {
  if (buckets.kind === 'range') {
    if (!(buckets.start.getTime() < buckets.end.getTime())) throw new ForkliftError(`aggregate '${name}': empty range`);
    const start = truncateDate(buckets.start, a.grain);
    const floorEnd = truncateDate(buckets.end, a.grain);
    const end = floorEnd.getTime() === buckets.end.getTime() ? floorEnd : partitionEnd(floorEnd, a.grain);
    return { start: timestampLiteral(start), end: timestampLiteral(end) };
  }
  if (rootTable(config, name) !== buckets.table) throw new ForkliftError(`aggregate '${name}' is not fed by table '${buckets.table}'`);
  const hours =
    `FROM ${auditTable(config.warehouse.auditSchema, 'affected_hours')} WHERE load_id = ${literal(buckets.loadId)} ` +
    `AND table_name = ${literal(auditIdentity(config, buckets.table))} AND time_column = ${literal(rootTimeColumn(config, name))}`;
  const b = `DATE_TRUNC(${literal(a.grain)}, hour)`;
  return {
    start: `(SELECT MIN(${b}) ${hours})`,
    end: `(SELECT MAX(${b}) + INTERVAL '1 ${a.grain}' ${hours})`,
    buckets: `SELECT DISTINCT ${b} ${hours}`,
  };
}

/** Fact column name → SELECT expression, in fact-table column order. */
function selectList(config: ForkliftConfig, a: AggregateConfig, bucket: string): Array<{ name: string; expr: string }> {
  const fromAggregate = config.aggregates[a.source] !== undefined;
  const out = [{ name: 'bucket', expr: `${bucket} AS bucket` }, ...a.dimensions.map((d) => ({ name: d, expr: quoteIdent(d) }))];
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
