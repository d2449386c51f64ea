/**
 * Rules that relate one part of the config to another. Each returns every
 * problem it finds, located by path, so a user fixes the file in one pass.
 */
import type { ConfigIssue } from '../errors';
import { compilePartitionPattern } from '../dates';
import { AUDIT_TABLES } from '../sql/audit';
import { isNumeric, isTemporal, type ColumnType } from './columnTypes';
import type { AggregateConfig, ForkliftConfig, TableConfig } from './schema';
import { encodingIssues, loadBatchIssues } from '../sql/limits';

/** Column name → type of a table or of an aggregate's fact table. */
export type ColumnTypes = Map<string, ColumnType>;

/** All problems found across the config (empty when it is consistent). */
export function crossCheck(config: ForkliftConfig): ConfigIssue[] {
  return [
    ...checkWarehouse(config),
    ...checkTables(config),
    ...checkPartitionPatterns(config),
    ...checkPrefixes(config),
    ...checkAggregates(config),
    ...checkReservedNames(config),
    ...checkFactColumnNames(config),
    ...loadBatchIssues(config),
    ...encodingIssues(config),
  ];
}

/** Column names Forklift adds to raw tables start with this; a config column cannot. */
export const RESERVED_COLUMN_PREFIX = '_forklift_';

/** No config column takes a name Forklift adds, and no relation takes an audit table's place. */
function checkReservedNames(config: ForkliftConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const audit = config.warehouse.auditSchema;
  const relations: Array<[string, string, string]> = [
    ...Object.entries(config.tables).map(([n, t]): [string, string, string] => [`tables.${n}`, n, t.schema]),
    ...Object.entries(config.aggregates).map(([n, a]): [string, string, string] => [`aggregates.${n}`, n, a.schema]),
  ];
  for (const [path, name, schema] of relations) {
    if (Buffer.byteLength(`${schema}.${name}`, 'utf8') > 127) {
      issues.push({ path, message: `'${schema}.${name}' is the name the audit records (its table_name is VARCHAR(127)): keep schema and name within 126 bytes together` });
    }
    if (schema === audit && ((AUDIT_TABLES as readonly string[]).includes(name) || name.startsWith('ledger__'))) {
      issues.push({
        path,
        message: `'${schema}.${name}' is one of Forklift's audit tables (${AUDIT_TABLES.join(', ')}, ledger__* in warehouse.auditSchema '${audit}'): rename it or use another schema`,
      });
    }
  }
  for (const [name, t] of Object.entries(config.tables)) {
    for (const column of Object.keys(t.columns)) {
      if (column.startsWith(RESERVED_COLUMN_PREFIX)) {
        issues.push({ path: `tables.${name}.columns.${column}`, message: `column names starting with '${RESERVED_COLUMN_PREFIX}' are Forklift's own (_forklift_partition)` });
      }
    }
  }
  return issues;
}

/**
 * Every column of a declarative aggregate's fact table has one origin: `bucket`, a dimension,
 * a measure, or the `_sum`/`_count` column of an avg. A second origin for a name is refused
 * where it is declared.
 */
function checkFactColumnNames(config: ForkliftConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [name, a] of Object.entries(config.aggregates)) {
    if (a.sql !== undefined) continue;
    const at = `aggregates.${name}`;
    const owners = new Map<string, string>([['bucket', "the time bucket column 'bucket'"]]);
    const claim = (column: string, owner: string, path: string) => {
      const first = owners.get(column);
      if (first) issues.push({ path, message: `fact column '${column}' of '${name}' would be both ${first} and ${owner}: rename one` });
      else owners.set(column, owner);
    };
    a.dimensions.forEach((d, i) => claim(d, `the dimension '${d}'`, `${at}.dimensions.${i}`));
    for (const [m, spec] of Object.entries(a.measures)) {
      const path = `${at}.measures.${m}`;
      claim(m, `the measure '${m}'`, path);
      if (spec.fn === 'avg') {
        claim(`${m}_sum`, `the sum column of the avg measure '${m}'`, path);
        claim(`${m}_count`, `the count column of the avg measure '${m}'`, path);
      }
    }
  }
  return issues;
}

function checkWarehouse(config: ForkliftConfig): ConfigIssue[] {
  const w = config.warehouse;
  const modes = [
    w.clusterIdentifier !== undefined && w.dbUser !== undefined && w.secretArn === undefined,
    w.clusterIdentifier !== undefined && w.secretArn !== undefined && w.dbUser === undefined,
    w.workgroupName !== undefined && w.clusterIdentifier === undefined && w.dbUser === undefined,
  ];
  if (modes.filter(Boolean).length !== 1) {
    return [
      {
        path: 'warehouse',
        message: 'give exactly one of: clusterIdentifier + dbUser, clusterIdentifier + secretArn, or workgroupName (optionally with secretArn)',
      },
    ];
  }
  return [];
}

function checkTables(config: ForkliftConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [name, t] of Object.entries(config.tables)) {
    const at = `tables.${name}`;
    const columnType = (column: string) => t.columns[column]?.type;
    const mustExist = (column: string | undefined, path: string) => {
      if (column !== undefined && !columnType(column)) issues.push({ path, message: `unknown column '${column}'` });
    };
    mustExist(t.dataDateColumn, `${at}.dataDateColumn`);
    const dateType = columnType(t.dataDateColumn);
    if (dateType && !isTemporal(dateType)) {
      issues.push({ path: `${at}.dataDateColumn`, message: `column '${t.dataDateColumn}' must be a DATE or TIMESTAMP` });
    }
    mustExist(t.distKey, `${at}.distKey`);
    t.sortKey?.forEach((c, i) => mustExist(c, `${at}.sortKey.${i}`));
    t.primaryKey?.forEach((c, i) => mustExist(c, `${at}.primaryKey.${i}`));
    mustExist(t.deleteFlagColumn, `${at}.deleteFlagColumn`);
    if (t.distStyle === 'key' && !t.distKey) issues.push({ path: `${at}.distKey`, message: "distStyle 'key' needs a distKey" });
    if (t.distKey && t.distStyle !== 'key') issues.push({ path: `${at}.distStyle`, message: "a distKey needs distStyle 'key'" });
    if (t.mode === 'merge' && !t.primaryKey?.length) {
      issues.push({ path: `${at}.primaryKey`, message: "merge mode needs a primaryKey" });
    }
    if (t.mode === 'merge') {
      t.primaryKey?.forEach((c, i) => {
        if (t.columns[c] && t.columns[c].nullable !== false) {
          issues.push({
            path: `${at}.primaryKey.${i}`,
            message: `merge matches rows by key, and a NULL key never matches: declare column '${c}' with nullable: false`,
          });
        }
      });
    }
    if (t.mode !== 'merge' && t.deleteFlagColumn) {
      issues.push({ path: `${at}.deleteFlagColumn`, message: 'only merge mode uses a deleteFlagColumn' });
    }
    const flagType = t.deleteFlagColumn ? columnType(t.deleteFlagColumn) : undefined;
    if (flagType && flagType.base !== 'BOOLEAN') {
      issues.push({ path: `${at}.deleteFlagColumn`, message: `column '${t.deleteFlagColumn}' must be BOOLEAN` });
    }
    if (t.format.type === 'parquet' && t.compression !== 'none') {
      issues.push({ path: `${at}.compression`, message: 'parquet files carry their own compression: use none' });
    }
  }
  return issues;
}

/** Each table's partition pattern compiles; a single-object pattern cannot have a completeness marker. */
function checkPartitionPatterns(config: ForkliftConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [name, t] of Object.entries(config.tables)) {
    const path = `tables.${name}.partition`;
    try {
      const pattern = compilePartitionPattern(t.partition);
      if (pattern.kind === 'object' && 'marker' in t.completeness) {
        issues.push({ path, message: `a single-object partition cannot have a completeness marker: end the pattern with '/' or use quietSeconds` });
      }
    } catch (err) {
      issues.push({ path, message: (err as Error).message });
    }
  }
  return issues;
}

function checkPrefixes(config: ForkliftConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const entries = Object.entries(config.tables);
  for (const [i, [a, ta]] of entries.entries()) {
    if (ta.prefix.startsWith(config.landing.manifestPrefix) || config.landing.manifestPrefix.startsWith(ta.prefix)) {
      issues.push({ path: `tables.${a}.prefix`, message: `overlaps the manifest prefix '${config.landing.manifestPrefix}'` });
    }
    for (const [b, tb] of entries.slice(i + 1)) {
      if (!(ta.prefix.startsWith(tb.prefix) || tb.prefix.startsWith(ta.prefix))) continue;
      // Overlapping prefixes are a flat layout: fine when neither pattern can match the other's keys.
      const shared = sharedKey(ta, tb) ?? sharedKey(tb, ta);
      if (shared === undefined && !patternProblem(ta) && !patternProblem(tb)) continue;
      issues.push({
        path: `tables.${b}.prefix`,
        message:
          `'${tb.prefix}' overlaps the prefix '${ta.prefix}' of table '${a}'` +
          (shared !== undefined ? `, and both partition patterns match keys such as '${shared}'` : ''),
      });
    }
  }
  return issues;
}

/** Dates whose rendered partitions stand for every key of a pattern (varied digits, both halves of the day). */
const SAMPLE_DATES = ['2026-11-20T13:45:56Z', '1999-01-02T03:04:05Z', '2030-12-31T23:59:59Z'].map((d) => new Date(d));

function patternProblem(t: TableConfig): boolean {
  try {
    compilePartitionPattern(t.partition);
    return false;
  } catch {
    return true;
  }
}

/** A key of `owner` (rendered from sample dates) that `other`'s prefix and pattern also match, if any. */
function sharedKey(owner: TableConfig, other: TableConfig): string | undefined {
  if (patternProblem(owner) || patternProblem(other)) return undefined;
  const own = compilePartitionPattern(owner.partition);
  const theirs = compilePartitionPattern(other.partition);
  for (const date of SAMPLE_DATES) {
    const key = owner.prefix + own.render(date) + (own.kind === 'folder' ? 'part-0000.json.gz' : '');
    if (key.startsWith(other.prefix) && theirs.match(key.slice(other.prefix.length)) !== undefined) return key;
  }
  return undefined;
}

/** The columns of an aggregate's fact table (bucket, dimensions, measures), given its source's columns. */
export function factColumns(aggregate: AggregateConfig, source: ColumnTypes): ColumnTypes {
  if (aggregate.sql !== undefined) {
    return new Map(Object.entries(aggregate.columns ?? {}).map(([n, c]) => [n, c.type]));
  }
  const columns: ColumnTypes = new Map([['bucket', { base: 'TIMESTAMP' }]]);
  for (const d of aggregate.dimensions) {
    const type = source.get(d);
    if (type) columns.set(d, type);
  }
  for (const [name, m] of Object.entries(aggregate.measures)) {
    const input = m.column ? source.get(m.column) : undefined;
    switch (m.fn) {
      case 'count':
      case 'count_distinct':
        columns.set(name, { base: 'BIGINT' });
        break;
      case 'sum':
        columns.set(name, input && (input.base === 'DECIMAL' || input.base === 'REAL' || input.base === 'DOUBLE PRECISION') ? input : { base: 'BIGINT' });
        if (input?.base === 'DECIMAL') columns.set(name, { base: 'DECIMAL', precision: 38, scale: input.scale ?? 0 });
        break;
      case 'min':
      case 'max':
        if (input) columns.set(name, input);
        break;
      case 'avg':
        // Averages are stored with their sum and count so that coarser aggregates can compute them exactly.
        columns.set(name, { base: 'DOUBLE PRECISION' });
        columns.set(`${name}_sum`, { base: 'DOUBLE PRECISION' });
        columns.set(`${name}_count`, { base: 'BIGINT' });
        break;
    }
  }
  return columns;
}

/** Aggregate names in dependency order (sources before the aggregates built on them). */
export function aggregateOrder(config: ForkliftConfig): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string): void => {
    if (state.get(name) === 'done' || state.get(name) === 'visiting') return;
    state.set(name, 'visiting');
    const source = config.aggregates[name]?.source;
    if (source && config.aggregates[source]) visit(source);
    state.set(name, 'done');
    order.push(name);
  };
  Object.keys(config.aggregates).forEach(visit);
  return order;
}

/** The raw table an aggregate is ultimately fed by (following aggregate sources). */
export function rootTable(config: ForkliftConfig, aggregateName: string): string | undefined {
  const seen = new Set<string>();
  let name = aggregateName;
  while (config.aggregates[name] && !seen.has(name)) {
    seen.add(name);
    name = config.aggregates[name]!.source;
  }
  return config.tables[name] ? name : undefined;
}

/** Whether following `name`'s sources comes back to an aggregate already seen. */
function inCycle(config: ForkliftConfig, name: string): boolean {
  const seen = new Set<string>();
  let current: string | undefined = name;
  while (current !== undefined && config.aggregates[current]) {
    if (seen.has(current)) return true;
    seen.add(current);
    current = config.aggregates[current]!.source;
  }
  return false;
}

function checkAggregates(config: ForkliftConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const tableColumns = (name: string): ColumnTypes | undefined => {
    const t = config.tables[name];
    return t ? new Map(Object.entries(t.columns).map(([n, c]) => [n, c.type])) : undefined;
  };
  const resolved = new Map<string, ColumnTypes>();
  for (const name of aggregateOrder(config)) {
    const a = config.aggregates[name]!;
    const at = `aggregates.${name}`;
    if (config.tables[name]) issues.push({ path: at, message: `'${name}' is also a table name` });
    const fromAggregate = config.aggregates[a.source] !== undefined;
    if (!config.tables[a.source] && !fromAggregate) {
      issues.push({ path: `${at}.source`, message: `unknown table or aggregate '${a.source}'` });
      continue;
    }
    if (rootTable(config, name) === undefined) {
      // Either a cycle, or a chain ending at an unknown source (reported on the aggregate that names it).
      if (inCycle(config, name)) issues.push({ path: `${at}.source`, message: 'aggregate sources form a cycle' });
      continue;
    }
    if (a.enabled && config.aggregates[a.source]?.enabled === false) {
      issues.push({ path: `${at}.enabled`, message: `its source aggregate '${a.source}' is disabled: disable '${name}' too, or enable '${a.source}'` });
    }
    const source = tableColumns(a.source) ?? resolved.get(a.source);
    if (!source) continue;
    const sourceGrain = config.aggregates[a.source]?.grain;
    if (sourceGrain === 'day' && a.grain === 'hour') {
      issues.push({ path: `${at}.grain`, message: `cannot compute hourly buckets from the daily aggregate '${a.source}'` });
    }
    const time = source.get(a.timeColumn);
    if (!time) issues.push({ path: `${at}.timeColumn`, message: `unknown column '${a.timeColumn}' in '${a.source}'` });
    else if (!isTemporal(time)) issues.push({ path: `${at}.timeColumn`, message: `column '${a.timeColumn}' must be a DATE or TIMESTAMP` });
    if (a.sql !== undefined) {
      if (!a.sql.includes('{{start}}') || !a.sql.includes('{{end}}')) {
        issues.push({ path: `${at}.sql`, message: 'must use both {{start}} and {{end}} to select only the affected buckets' });
      }
      if (!a.columns || !a.columns['bucket']) {
        issues.push({ path: `${at}.columns`, message: "with sql, list the fact table's columns, including 'bucket'" });
      }
      if (a.dimensions.length || Object.keys(a.measures).length) {
        issues.push({ path: at, message: 'give either sql + columns, or dimensions + measures, not both' });
      }
    } else {
      a.dimensions.forEach((d, i) => {
        if (!source.has(d)) issues.push({ path: `${at}.dimensions.${i}`, message: `unknown column '${d}' in '${a.source}'` });
      });
      if (Object.keys(a.measures).length === 0) issues.push({ path: `${at}.measures`, message: 'an aggregate needs at least one measure' });
      for (const [m, spec] of Object.entries(a.measures)) {
        const path = `${at}.measures.${m}`;
        if (spec.fn !== 'count' && !spec.column) {
          issues.push({ path: `${path}.column`, message: `${spec.fn} needs a column` });
          continue;
        }
        const type = spec.column ? source.get(spec.column) : undefined;
        if (spec.column && !type) {
          issues.push({ path: `${path}.column`, message: `unknown column '${spec.column}' in '${a.source}'` });
          continue;
        }
        if ((spec.fn === 'sum' || spec.fn === 'avg') && type && !isNumeric(type)) {
          issues.push({ path: `${path}.column`, message: `${spec.fn} needs a numeric column, '${spec.column}' is ${type.base}` });
        }
        if (fromAggregate && spec.fn === 'count_distinct') {
          issues.push({
            path: `${path}.fn`,
            message: `distinct counts are not additive: compute '${m}' from the raw table, not from the aggregate '${a.source}'`,
          });
        }
        if (fromAggregate && spec.fn === 'count' && spec.column === undefined) {
          issues.push({ path: `${path}.column`, message: `from an aggregate, count sums a count column: name it` });
        }
        if (fromAggregate && spec.fn === 'avg' && !(spec.column && source.has(`${spec.column}_sum`) && source.has(`${spec.column}_count`))) {
          issues.push({ path: `${path}.column`, message: `from an aggregate, avg needs an avg measure of '${a.source}'` });
        }
      }
    }
    resolved.set(name, factColumns(a, source));
  }
  return issues;
}
