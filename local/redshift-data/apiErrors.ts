/** Data API service errors, sent in the awsJson shape so the SDK throws its named exceptions. */
export class DataApiError extends Error {
  constructor(
    readonly type:
      | 'ValidationException'
      | 'ResourceNotFoundException'
      | 'ExecuteStatementException'
      | 'BatchExecuteStatementException'
      | 'ActiveStatementsExceededException'
      | 'InternalServerException',
    message: string,
    readonly fields: Record<string, string> = {},
    readonly statusCode = 400,
  ) {
    super(message);
    this.name = type;
  }
}

/** ValidationException with a message. */
export const validation = (message: string): DataApiError => new DataApiError('ValidationException', message);

/** ResourceNotFoundException for a statement id. */
export const notFound = (id: string): DataApiError =>
  new DataApiError('ResourceNotFoundException', `Query does not exist: ${id}`, { ResourceId: id });
