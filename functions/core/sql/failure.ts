/**
 * The audit row of a failed load (status `failed`): one INSERT ... SELECT. With a
 * COPY lookup it takes the file, line, column and reason from Redshift's
 * `sys_load_error_detail` (the newest error under the partition's prefix since the
 * execution started) and still writes the row when there is none. The SYS view exists on
 * provisioned clusters and on Serverless; Serverless has no `stl_*` views. The SELECT
 * after it reads back what was recorded.
 */
import type { FailureRecord } from './audit';
import { AUDIT_DDL_STATEMENTS, auditTable, renderAuditDdl, textFitting } from './audit';
import { integerLiteral, literal, timestampLiteral } from '../identifiers';

/** Where to look for the COPY's errors. */
export interface CopyFailureLookup {
  /** `s3://bucket/<partition key>`: errors of files under it. */
  filePrefix: string;
  /** Only errors logged at or after this time (the execution's start). */
  since?: Date;
}

/** 1-based index of the SELECT reading the recorded row: `error_file, error_line, error_column, reason`. */
export const RECORDED_FAILURE_STATEMENT = AUDIT_DDL_STATEMENTS + 2;

/** Audit DDL, the INSERT of the `failed` row, then the SELECT at {@link RECORDED_FAILURE_STATEMENT}. */
export function renderFailureRecord(auditSchema: string, f: FailureRecord, lookup?: CopyFailureLookup): string[] {
  const opt = <T>(v: T | undefined, render: (x: T) => string): string => (v === undefined ? 'NULL' : render(v));
  const loads = auditTable(auditSchema, 'loads');
  const reason = textFitting(f.error, 1024);
  // Without a lookup, or when sys_load_error_detail has no row, the error fields are the ones the caller knows.
  const known = {
    file: opt(f.errorFile, (k) => textFitting(k, 1024)),
    line: opt(f.errorLine, integerLiteral),
    column: opt(f.errorColumn, (c) => textFitting(c, 127)),
  };
  const fromError = lookup
    ? {
        reason: `CASE WHEN e.error_message IS NULL THEN ${reason} ELSE LEFT('COPY failed: ' || TRIM(e.error_message), 1024) END`,
        file: `COALESCE(LEFT(TRIM(e.file_name), 1024), ${known.file})`,
        line: `COALESCE(CAST(e.line_number AS INTEGER), ${known.line})`,
        column: `COALESCE(LEFT(TRIM(e.column_name), 127), ${known.column})`,
        join:
          ' LEFT JOIN (SELECT file_name, line_number, column_name, error_message FROM sys_load_error_detail ' +
          `WHERE LEFT(TRIM(file_name), ${integerLiteral(lookup.filePrefix.length)}) = ${textFitting(lookup.filePrefix, 1024)}` +
          (lookup.since ? ` AND start_time >= ${timestampLiteral(lookup.since)}` : '') +
          ' ORDER BY start_time DESC LIMIT 1) AS e ON 1 = 1',
      }
    : { reason, ...known, join: '' };
  return [
    ...renderAuditDdl(auditSchema),
    `INSERT INTO ${loads} (load_id, table_name, partition_date, partition_key, mode, status, reason, files, rows_loaded, ` +
      'started_at, finished_at, error, error_file, error_line, error_column) SELECT ' +
      [
        literal(f.loadId),
        literal(f.table),
        opt(f.partitionDate, timestampLiteral),
        opt(f.partitionKey, (k) => textFitting(k, 1024)),
        opt(f.mode, literal),
        "'failed'",
        fromError.reason,
        opt(f.files, integerLiteral),
        '0',
        opt(f.startedAt, timestampLiteral),
        timestampLiteral(f.finishedAt),
        textFitting(f.error, 4096),
        fromError.file,
        fromError.line,
        fromError.column,
      ].join(', ') +
      ` FROM (SELECT 1 AS one) AS o${fromError.join}`,
    // What the INSERT stored, computed again rather than read back from `loads`: a batch that reads
    // `loads` as well as writing it conflicts (1023) with any other such batch running at once.
    `SELECT ${fromError.file} AS error_file, ${fromError.line} AS error_line, ${fromError.column} AS error_column, ` +
      `${fromError.reason} AS reason FROM (SELECT 1 AS one) AS o${fromError.join}`,
  ];
}
