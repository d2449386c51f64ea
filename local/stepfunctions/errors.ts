/**
 * Errors of the local Step Functions endpoint. Service errors travel over the wire as
 * awsJson `__type` so the real SDK raises the same exception classes it raises on AWS.
 */

/** A Step Functions API error (`ExecutionAlreadyExists`, `InvalidName`...), sent as HTTP 400. */
export class SfnServiceError extends Error {
  readonly type: string;
  readonly statusCode: number;
  constructor(type: string, message: string, statusCode = 400) {
    super(message);
    this.name = type;
    this.type = type;
    this.statusCode = statusCode;
  }
}

/**
 * A Task failure as the state machine sees it: `name` is what Retry/Catch `ErrorEquals` match
 * and `message` is the Cause (the library reports `message` as Cause to a Catch).
 */
export class TaskError extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

/** Step Functions' payload quota: a state's input or output, or a Task's result, of at most 256 KiB (UTF-8). */
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;

/**
 * `States.DataLimitExceeded`: a terminal error that `States.ALL` does not catch and no Retry
 * repeats (Developer Guide, "Error handling"). aws-local-stepfunctions reads `isCatchable` and
 * `isRetryable` off the thrown error. (AWS lets a Catch that names it explicitly catch it; the
 * library cannot tell the two apart, so locally nothing catches it.)
 */
export class DataLimitExceededError extends TaskError {
  readonly isCatchable = false;
  readonly isRetryable = false;
  constructor(cause: string) {
    super('States.DataLimitExceeded', cause);
  }
}

/** The UTF-8 size of a JSON value as Step Functions counts payloads. */
export function payloadBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');
}
