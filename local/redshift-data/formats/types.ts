/** One input record of a COPY source, before type checks. */
export interface SourceRecord {
  /** 1-based line where the record starts in its file. */
  line: number;
  /** The record's text, for stl_load_errors.raw_line. */
  raw: string;
  /** Values in target column order; `undefined` means the source had none (NULL). */
  values: unknown[];
}

/** A record that cannot be split into fields at all (bad JSON, wrong field count). */
export class RecordProblem extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly raw: string,
    readonly errCode: number,
  ) {
    super(reason);
    this.name = 'RecordProblem';
  }
}
