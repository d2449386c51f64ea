/**
 * Typed errors. The state machine's Catch and the CLI match on `name`, so every
 * subclass sets it, and each carries the data a caller needs to act.
 */
export class ForkliftError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ForkliftError';
  }
}

/** One problem in a pipeline config, located by its path (`tables.visits.columns.ip.type`). */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** The config is invalid; `issues` lists every problem, not just the first. */
export class ConfigError extends ForkliftError {
  readonly issues: ConfigIssue[];
  readonly source: string | undefined;
  constructor(issues: ConfigIssue[], source?: string, options?: ErrorOptions) {
    const where = source ? ` (${source})` : '';
    super(
      `invalid Forklift config${where}:\n` + issues.map((i) => `  ${i.path || '<root>'}: ${i.message}`).join('\n'),
      options,
    );
    this.name = 'ConfigError';
    this.issues = issues;
    this.source = source;
  }
}

/** A key matched a table's prefix but not its pattern (or looked hostile). */
export class KeyParseError extends ForkliftError {
  readonly key: string;
  readonly table: string | undefined;
  readonly reason: string;
  constructor(key: string, reason: string, table?: string, options?: ErrorOptions) {
    super(`cannot parse key '${key}'${table ? ` for table '${table}'` : ''}: ${reason}`, options);
    this.name = 'KeyParseError';
    this.key = key;
    this.table = table;
    this.reason = reason;
  }
}

/** An identifier (schema, table, column) is not a valid Redshift identifier. */
export class IdentifierError extends ForkliftError {
  readonly identifier: string;
  constructor(identifier: string, reason: string, options?: ErrorOptions) {
    super(`invalid identifier '${identifier}': ${reason}`, options);
    this.name = 'IdentifierError';
    this.identifier = identifier;
  }
}

/** A requested partition does not exist, or is not complete yet. */
export class PartitionNotFoundError extends ForkliftError {
  readonly table: string;
  readonly date: string | undefined;
  constructor(table: string, date: string | undefined, detail: string, options?: ErrorOptions) {
    super(`no partition${date ? ` ${date}` : ''} for table '${table}': ${detail}`, options);
    this.name = 'PartitionNotFoundError';
    this.table = table;
    this.date = date;
  }
}

/** The config asks for a schema change Redshift cannot make in place (e.g. INTEGER -> VARCHAR). */
export class SchemaChangeError extends ForkliftError {
  readonly table: string;
  readonly changes: string[];
  constructor(table: string, changes: string[], options?: ErrorOptions) {
    super(
      `incompatible schema change for table '${table}' (nothing was loaded):\n` +
        changes.map((c) => `  ${c}`).join('\n'),
      options,
    );
    this.name = 'SchemaChangeError';
    this.table = table;
    this.changes = changes;
  }
}

/** The load was refused by the rules (older partition without force...). */
export class LoadRejectedError extends ForkliftError {
  readonly reason: string;
  constructor(reason: string, options?: ErrorOptions) {
    super(`load rejected: ${reason}`, options);
    this.name = 'LoadRejectedError';
    this.reason = reason;
  }
}

/** Where a COPY failed, in the shape of Redshift's stl_load_errors. */
export interface CopyErrorDetail {
  file: string;
  line: number;
  column: string;
  reason: string;
  rawLine?: string;
}

/** A COPY failed on a bad row; the whole transaction rolled back. */
export class CopyError extends ForkliftError {
  readonly detail: CopyErrorDetail;
  constructor(detail: CopyErrorDetail, options?: ErrorOptions) {
    super(
      `COPY failed: ${detail.reason} (file ${detail.file}, line ${detail.line}, column ${detail.column || '-'})`,
      options,
    );
    this.name = 'CopyError';
    this.detail = detail;
  }
}

/** A Data API statement ended FAILED or ABORTED. */
export class StatementFailedError extends ForkliftError {
  readonly statementId: string;
  readonly status: string;
  constructor(statementId: string, status: string, error: string, options?: ErrorOptions) {
    super(`statement ${statementId} ${status}: ${error}`, options);
    this.name = 'StatementFailedError';
    this.statementId = statementId;
    this.status = status;
  }
}
