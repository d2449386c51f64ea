/**
 * CLI errors and exit codes: 2 for usage and config problems (the command could not
 * even start), 1 for runs that started and failed.
 */
import { ForkliftError } from '../functions/core/errors';

/** Exit codes of `forklift`. */
export const ExitCode = { Ok: 0, Failed: 1, Usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The command line is wrong (missing or conflicting options). */
export class UsageError extends ForkliftError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** A run (execution, backfill) started and failed; the message is the cause. */
export class RunFailedError extends ForkliftError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RunFailedError';
  }
}

/** Typed errors that mean "fix the command line or the config", not "the run failed". */
const USAGE_ERRORS = new Set(['UsageError', 'ConfigError', 'PartitionNotFoundError', 'KeyParseError', 'IdentifierError', 'ForkliftError']);

/** The exit code for an error that ended a command. */
export function exitCodeFor(error: unknown): ExitCode {
  const name = (error as { name?: unknown } | undefined)?.name;
  if (error instanceof ForkliftError && typeof name === 'string' && USAGE_ERRORS.has(name)) return ExitCode.Usage;
  return ExitCode.Failed;
}
