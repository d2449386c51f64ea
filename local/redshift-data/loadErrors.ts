/**
 * Rows of the local `stl_load_errors`, written after the failed load's
 * transaction rolled back so they stay, as on Redshift.
 */
import type { Database } from './database';

/** One rejected row, in the shape of Redshift's stl_load_errors. */
export interface LoadErrorRow {
  tableOid: number;
  query: number;
  filename: string;
  lineNumber: number;
  colname: string;
  type: string;
  colLength: string;
  position: number;
  rawLine: string;
  rawFieldValue: string;
  errCode: number;
  errReason: string;
}

/** Inserts the rows (autocommit, outside any load transaction). */
export async function recordLoadErrors(db: Database, rows: LoadErrorRow[]): Promise<void> {
  for (const r of rows) {
    await db.query(
      `INSERT INTO public.stl_load_errors (userid, slice, tbl, starttime, session, query, filename, line_number, colname,
         type, col_length, position, raw_line, raw_field_value, err_code, err_reason)
       VALUES (100, 0, $1, (now() AT TIME ZONE 'UTC'), 0, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        r.tableOid,
        r.query,
        r.filename.slice(0, 256),
        r.lineNumber,
        r.colname.slice(0, 127),
        r.type.slice(0, 10),
        r.colLength.slice(0, 10),
        r.position,
        r.rawLine.slice(0, 1024),
        r.rawFieldValue.slice(0, 1024),
        r.errCode,
        r.errReason.slice(0, 100),
      ],
    );
  }
}
