/**
 * Redshift and Data API rules that depend on the config, checked at synthesis (config
 * cross-checks) and, for what grows at run time, when a batch is rendered:
 * - BatchExecuteStatement takes 1 to 40 SQLs of at most 100 KB each (Redshift Management Guide,
 *   "Considerations when calling the Amazon Redshift Data API");
 * - a column's ENCODE must suit its type (Database Developer Guide, "Compression encodings").
 */
import type { BaseType, ColumnType } from '../config/columnTypes';
import type { ForkliftConfig } from '../config/schema';
import { type ConfigIssue, ForkliftError } from '../errors';

/** SQLs per BatchExecuteStatement. */
export const MAX_BATCH_STATEMENTS = 40;
/** Bytes per SQL text. */
export const MAX_SQL_BYTES = 100 * 1024;

/**
 * Statements of a load batch besides 2 per read-only group and 1 per new column: LOCK, file-list
 * temp table and its COPY, guard, staging, COPY, a snapshot's minimum-rows check, affected hours,
 * the mode's DELETE, INSERT, loads, load_files, a reload's ledger DELETE, ledger, outcome SELECT.
 */
export const LOAD_BATCH_FIXED_STATEMENTS = 15;

/** Throws a ForkliftError naming `what` when `sqls` does not fit one BatchExecuteStatement. */
export function assertFitsBatch(sqls: readonly string[], what: string): void {
  if (sqls.length < 1 || sqls.length > MAX_BATCH_STATEMENTS) {
    throw new ForkliftError(`${what} has ${sqls.length} statements; a Data API batch takes 1 to ${MAX_BATCH_STATEMENTS}`);
  }
  sqls.forEach((sql, i) => {
    const bytes = Buffer.byteLength(sql, 'utf8');
    if (bytes > MAX_SQL_BYTES) throw new ForkliftError(`${what}: statement ${i + 1} is ${bytes} bytes; the Data API takes at most ${MAX_SQL_BYTES}`);
  });
}

/** Tables whose load batch cannot fit 40 statements because of their read-only groups (2 GRANTs each). */
export function loadBatchIssues(config: ForkliftConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [name, t] of Object.entries(config.tables)) {
    const statements = LOAD_BATCH_FIXED_STATEMENTS + 2 * t.readOnlyGroups.length;
    if (statements > MAX_BATCH_STATEMENTS) {
      const most = Math.floor((MAX_BATCH_STATEMENTS - LOAD_BATCH_FIXED_STATEMENTS) / 2);
      issues.push({
        path: `tables.${name}.readOnlyGroups`,
        message: `${t.readOnlyGroups.length} groups make the load batch ${statements} statements (a Data API batch takes at most ${MAX_BATCH_STATEMENTS}): use at most ${most}`,
      });
    }
  }
  return issues;
}

const INTEGERS: BaseType[] = ['SMALLINT', 'INTEGER', 'BIGINT'];
const TEMPORAL: BaseType[] = ['DATE', 'TIMESTAMP', 'TIMESTAMPTZ'];
const ALL: BaseType[] = [...INTEGERS, 'DECIMAL', 'REAL', 'DOUBLE PRECISION', 'BOOLEAN', 'CHAR', 'VARCHAR', ...TEMPORAL];

/** The types each encoding accepts (Database Developer Guide, "Compression encodings", the encodings table). */
export const ENCODING_TYPES: Record<string, readonly BaseType[]> = {
  raw: ALL,
  az64: [...INTEGERS, 'DECIMAL', ...TEMPORAL],
  bytedict: [...INTEGERS, 'DECIMAL', 'REAL', 'DOUBLE PRECISION', 'CHAR', 'VARCHAR', ...TEMPORAL],
  delta: [...INTEGERS, 'DECIMAL', 'DATE', 'TIMESTAMP'],
  delta32k: ['INTEGER', 'BIGINT', 'DECIMAL', 'DATE', 'TIMESTAMP'],
  lzo: [...INTEGERS, 'DECIMAL', 'CHAR', 'VARCHAR', ...TEMPORAL],
  mostly8: [...INTEGERS, 'DECIMAL'],
  mostly16: ['INTEGER', 'BIGINT', 'DECIMAL'],
  mostly32: ['BIGINT', 'DECIMAL'],
  runlength: ALL,
  text255: ['VARCHAR'],
  text32k: ['VARCHAR'],
  zstd: ALL,
};

/** Why `encoding` cannot be used on a column of `base`, or undefined when it can. */
export function encodingProblem(encoding: string, base: BaseType): string | undefined {
  const types = ENCODING_TYPES[encoding.toLowerCase()];
  if (!types) return `unknown encoding '${encoding}'`;
  if (types.includes(base)) return undefined;
  const fitting = Object.keys(ENCODING_TYPES).filter((e) => ENCODING_TYPES[e]!.includes(base));
  return `encoding ${encoding.toUpperCase()} cannot be used on a ${base} column (it takes ${types.join(', ')}); for ${base} use one of ${fitting.map((e) => e.toUpperCase()).join(', ')}`;
}

/** Columns of tables and raw-SQL aggregates whose ENCODE does not suit their type. */
export function encodingIssues(config: ForkliftConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const check = (path: string, columns: Record<string, { type: ColumnType; encoding?: string | undefined }>): void => {
    for (const [name, c] of Object.entries(columns)) {
      if (c.encoding === undefined) continue;
      const problem = encodingProblem(c.encoding, c.type.base);
      if (problem) issues.push({ path: `${path}.${name}.encoding`, message: problem });
    }
  };
  for (const [name, t] of Object.entries(config.tables)) check(`tables.${name}.columns`, t.columns);
  for (const [name, a] of Object.entries(config.aggregates)) if (a.columns) check(`aggregates.${name}.columns`, a.columns);
  return issues;
}
