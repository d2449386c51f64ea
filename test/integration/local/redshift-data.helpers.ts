/** Shared fixtures for the local Redshift Data API tests: s3rver, the server, SDK clients. */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BatchExecuteStatementCommand, DescribeStatementCommand, type DescribeStatementResponse, ExecuteStatementCommand, RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { mkdtemp, rm } from 'node:fs/promises';
import { startRedshiftDataServer, type RedshiftDataServer } from '../../../local/redshift-data/server';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (o: Record<string, unknown>) => { run(): Promise<{ port: number }>; close(): Promise<void> };

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
/** s3rver accepts only its built-in key pair. */
const s3Credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** A running s3rver with one bucket and a client for it. */
export interface LocalS3 {
  s3: S3Client;
  bucket: string;
  put(key: string, body: string | Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** Starts s3rver on an OS port in a temp directory. */
export async function startLocalS3(bucket = 'landing'): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), 'forklift-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', directory, silent: true, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  const s3 = new S3Client({ region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true, credentials: s3Credentials });
  await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch(() => undefined);
  return {
    s3,
    bucket,
    async put(key, body) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    async close() {
      s3.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** A Data API client for the local endpoint. */
export function dataClient(endpoint: string): RedshiftDataClient {
  return new RedshiftDataClient({ region: 'us-east-1', endpoint, credentials, maxAttempts: 1 });
}

/** Where statements run, as the pipeline passes it. */
export const TARGET = { Database: 'dev', WorkgroupName: 'forklift' } as const;

/** Polls DescribeStatement until the statement ends; returns the final description. */
export async function waitDone(client: RedshiftDataClient, Id: string): Promise<DescribeStatementResponse> {
  for (let i = 0; i < 2000; i++) {
    const d = await client.send(new DescribeStatementCommand({ Id }));
    if (d.Status === 'FINISHED' || d.Status === 'FAILED' || d.Status === 'ABORTED') return d;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`statement ${Id} did not end`);
}

/** One statement, run to its end: its final description. */
export async function runStatement(client: RedshiftDataClient, Sql: string): Promise<DescribeStatementResponse> {
  const { Id } = await client.send(new ExecuteStatementCommand({ ...TARGET, Sql }));
  return waitDone(client, Id as string);
}

/** One batch (one transaction), run to its end: its final description. */
export async function runBatchStatement(client: RedshiftDataClient, Sqls: string[]): Promise<DescribeStatementResponse> {
  const { Id } = await client.send(new BatchExecuteStatementCommand({ ...TARGET, Sqls }));
  return waitDone(client, Id as string);
}

/**
 * A local Data API server whose COPYs have no S3 to read (the tests that never COPY) and a client
 * for it; `stop()` closes both.
 */
export async function startDataApiWithoutS3(): Promise<{ server: RedshiftDataServer; client: RedshiftDataClient; stop(): Promise<void> }> {
  const s3 = new S3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const server = await startRedshiftDataServer({ s3 });
  const client = dataClient(server.endpoint);
  return {
    server,
    client,
    async stop() {
      client.destroy();
      await server.stop();
      s3.destroy();
    },
  };
}
