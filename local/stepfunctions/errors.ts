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
