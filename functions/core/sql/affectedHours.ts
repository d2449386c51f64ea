/**
 * The affected_hours rows of a load: the distinct hours, per time column used by
 * the aggregates fed by the table, of the rows the load stages and of the target
 * rows it is about to delete. Aggregates recompute exactly those buckets.
 */
import type { ForkliftConfig } from '../config/schema';
import { literal, quoteIdent } from '../identifiers';
import { aggregatesFedBy, LOAD_HOURS_TABLE } from './aggregate';
import { auditIdentity, auditTable } from './audit';
import { guardAllows } from './guard';
import { rootTimeColumn } from './relations';

/** The distinct root time columns of the aggregates fed (directly or through other aggregates) by `table`. */
export function affectedTimeColumns(config: ForkliftConfig, table: string): string[] {
  return [...new Set(aggregatesFedBy(config, table).map((a) => rootTimeColumn(config, a)))];
}

/** Rows read for their hours: `FROM <from> WHERE <where>`, columns referenced through `alias`. */
export interface RowSource {
  from: string;
  alias: string;
  where?: string;
}

/** What the INSERT reads. */
export interface AffectedHoursArgs {
  config: ForkliftConfig;
  table: string;
  loadId: string;
  /** The staged rows and, when the mode deletes, the target rows it deletes. */
  sources: RowSource[];
}

function hourSelects(args: AffectedHoursArgs, columns: readonly string[]): string {
  return columns
    .flatMap((c) =>
      args.sources.map((src) => {
        const col = `${src.alias}.${quoteIdent(c)}`;
        const where = [...(src.where ? [src.where] : []), `${col} IS NOT NULL`].join(' AND ');
        return `SELECT CAST(${literal(c)} AS VARCHAR(127)) AS time_column, DATE_TRUNC('hour', ${col}) AS hour FROM ${src.from} WHERE ${where}`;
      }),
    )
    .join(' UNION ALL ');
}

function insertAffected(args: AffectedHoursArgs, from: string): string {
  return (
    `INSERT INTO ${auditTable(args.config.warehouse.auditSchema, 'affected_hours')} (load_id, table_name, time_column, hour) ` +
    `SELECT DISTINCT ${literal(args.loadId)}, ${literal(auditIdentity(args.config, args.table))}, h.time_column, h.hour FROM ${from} h`
  );
}

/** One INSERT into affected_hours (guarded), or undefined when no aggregate reads the table. */
export function renderAffectedHours(args: AffectedHoursArgs): string | undefined {
  const columns = affectedTimeColumns(args.config, args.table);
  if (columns.length === 0) return undefined;
  return `${insertAffected(args, `(${hourSelects(args, columns)})`)} WHERE ${guardAllows()}`;
}

/**
 * For a load that recomputes its aggregates in its own batch: the hours in a temp table
 * ({@link LOAD_HOURS_TABLE}, empty unless the guard lets the load run), then the same
 * affected_hours rows from it. The aggregates read the temp table, never the shared audit.
 */
export function renderLoadHours(args: AffectedHoursArgs): string[] {
  const columns = affectedTimeColumns(args.config, args.table);
  if (columns.length === 0) return [];
  const temp = quoteIdent(LOAD_HOURS_TABLE);
  return [
    `CREATE TEMP TABLE ${temp} AS SELECT DISTINCT h.time_column, h.hour FROM (${hourSelects(args, columns)}) h WHERE ${guardAllows()}`,
    insertAffected(args, temp),
  ];
}
