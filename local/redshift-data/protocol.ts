/**
 * The awsJson1_1 wire protocol: `POST /` with `X-Amz-Target: RedshiftData.<Operation>`,
 * JSON in and out, errors as `{ "__type": ..., "message": ... }` plus the
 * `x-amzn-errortype` header the SDK reads.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { DataApiError } from './apiErrors';

/** Who signed the request: the access key id of its SigV4 `Authorization` header. */
export interface Caller {
  accessKeyId?: string;
}

/** Operation name → handler taking the parsed JSON input. */
export type Operations = Record<string, (input: Record<string, unknown>, caller: Caller) => unknown>;

/** The access key id of a SigV4 `Authorization: AWS4-HMAC-SHA256 Credential=<id>/<date>/...` header. */
export function callerOf(authorization: string | undefined): Caller {
  const m = /Credential=([^/,\s]+)\//.exec(authorization ?? '');
  return m ? { accessKeyId: m[1] as string } : {};
}

const CONTENT_TYPE = 'application/x-amz-json-1.1';

function send(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': crypto.randomUUID(),
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(text);
}

function sendError(res: ServerResponse, e: DataApiError): void {
  send(res, e.statusCode, { __type: e.type, message: e.message, Message: e.message, ...e.fields }, e.type);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** An HTTP server dispatching Data API calls to `operations`. */
export function createProtocolServer(operations: Operations): Server {
  return createServer((req, res) => {
    void (async () => {
      try {
        const target = String(req.headers['x-amz-target'] ?? '');
        const body = await readBody(req);
        if (req.method !== 'POST' || !target.startsWith('RedshiftData.')) {
          throw new DataApiError('ValidationException', `Unsupported request: ${req.method ?? ''} ${target || '(no X-Amz-Target)'}`);
        }
        const op = operations[target.slice('RedshiftData.'.length)];
        if (!op) throw new DataApiError('ValidationException', `Operation ${target} is not supported by the local Data API`);
        let input: Record<string, unknown>;
        try {
          input = body ? (JSON.parse(body) as Record<string, unknown>) : {};
        } catch {
          throw new DataApiError('ValidationException', 'Request body is not valid JSON');
        }
        send(res, 200, op(input, callerOf(req.headers['authorization'])));
      } catch (e) {
        sendError(res, e instanceof DataApiError ? e : new DataApiError('InternalServerException', String((e as Error)?.message ?? e), {}, 500));
      }
    })();
  });
}
