/**
 * Where a raw table or an aggregate's fact table lives, and its columns, so the
 * renderers never resolve config names twice in different ways.
 */
import type { ColumnType } from '../config/columnTypes';
import { factColumns, type ColumnTypes } from '../config/crossChecks';
import type { ForkliftConfig } from '../config/schema';
import { ForkliftError } from '../errors';
import { qualified } from '../identifiers';

/** The system column every raw table carries: the partition a row came from. */
export const PARTITION_COLUMN = '_forklift_partition';

/** The type of {@link PARTITION_COLUMN}. */
export const PARTITION_COLUMN_TYPE: ColumnType = { base: 'TIMESTAMP' };

/** `"schema"."name"` of a raw table or a fact table. Throws when the config has neither. */
export function relationName(config: ForkliftConfig, name: string): string {
  const t = config.tables[name] ?? config.aggregates[name];
  if (!t) throw new ForkliftError(`unknown table or aggregate '${name}'`);
  return qualified(t.schema, name);
}

/** Column name → type of a raw table (config columns only) or a fact table (bucket, dimensions, measures). */
export function relationColumns(config: ForkliftConfig, name: string, seen: ReadonlySet<string> = new Set()): ColumnTypes {
  const table = config.tables[name];
  if (table) return new Map(Object.entries(table.columns).map(([n, c]) => [n, c.type]));
  const aggregate = config.aggregates[name];
  if (!aggregate || seen.has(name)) throw new ForkliftError(`unknown table or aggregate '${name}'`);
  const source = aggregate.sql === undefined ? relationColumns(config, aggregate.source, new Set([...seen, name])) : new Map();
  return factColumns(aggregate, source);
}

/**
 * The aggregate of `name`'s chain whose source is a raw table (the aggregate itself
 * when it reads a raw table): its timeColumn is the time column affected hours are
 * recorded for.
 */
export function rootAggregate(config: ForkliftConfig, name: string): string {
  const seen = new Set<string>();
  let current = name;
  for (;;) {
    const a = config.aggregates[current];
    if (!a || seen.has(current)) throw new ForkliftError(`aggregate '${name}' does not lead to a raw table`);
    seen.add(current);
    if (config.tables[a.source]) return current;
    current = a.source;
  }
}

/** The raw-table column affected hours are recorded for, for aggregate `name`. */
export function rootTimeColumn(config: ForkliftConfig, name: string): string {
  return config.aggregates[rootAggregate(config, name)]!.timeColumn;
}
