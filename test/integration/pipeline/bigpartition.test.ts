/**
 * A partition of 2,000 files whose keys make a 260 KB file list: the load batch stays within the
 * Data API's limits (40 SQLs, 100 KB each) because the file list travels as an S3 object, not as
 * SQL, and Prepare lists the partition across ListObjectsV2 pages (1,000 keys each). The objects
 * are put into the bucket before the pipeline starts (no 2,000 S3 events through discover: a
 * manual run loads them).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startLocalS3 } from '../../../local/s3';
import { BUCKET, hourly, jsonLines, resultOf, rows, startManual, startTestPipeline, statementsSince, testConfig, type TestPipeline } from './helpers';

const config = testConfig({ bp_many: hourly('bp/many/', { completeness: { marker: '_SUCCESS' } }) });
const FILES = 2000;
const keys = Array.from(
  { length: FILES },
  (_, i) => `bp/many/2026-11-20T10/region=eu-west-1/producer=clickstream-collector-7/a-rather-long-object-name-as-producers-write-them-${String(i).padStart(5, '0')}.json`,
);

let dir: string;
let t: TestPipeline | undefined;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'forklift-big-'));
  const s3 = await startLocalS3({ dataDir: join(dir, 's3'), buckets: [BUCKET] });
  try {
    for (let i = 0; i < keys.length; i += 100) {
      await Promise.all(
        keys.slice(i, i + 100).map((Key, j) =>
          s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: jsonLines([{ id: i + j, at: `2026-11-20T10:${String((i + j) % 60).padStart(2, '0')}:00Z`, v: 1 }]) })),
        ),
      );
    }
  } finally {
    await s3.stop();
  }
  t = await startTestPipeline(config, { dataDir: dir });
}, 180_000);
afterAll(async () => {
  await t?.stop();
  await rm(dir, { recursive: true, force: true });
}, 60_000);

it('a partition of 2,000 files (a 260 KB file list, two listing pages) loads in one batch within the Data API limits (40 SQLs, 100 KB each)', async () => {
  const p = t!.pipeline;
  const server = p.stack.redshiftData.server;
  const mark = server.stats.statements.length;
  const submissions = server.stats.submissions;
  const result = await resultOf(p, await startManual(p, { table: 'bp_many', date: '2026-11-20T10', force: true }, 'bp-many'));
  expect({ status: result.status, error: result.error, cause: result.cause, output: result.output }).toMatchObject({
    status: 'SUCCEEDED',
    output: { status: 'loaded', rows: FILES, files: FILES },
  });
  expect(await rows(p, 'SELECT COUNT(*)::int AS n, COUNT(DISTINCT id)::int AS ids FROM landing.bp_many')).toEqual([{ n: FILES, ids: FILES }]);
  expect(await rows(p, "SELECT COUNT(DISTINCT file_key)::int AS n FROM forklift.load_files WHERE table_name = 'landing.bp_many'")).toEqual([{ n: FILES }]);
  const sqls = statementsSince(p, mark);
  expect(Math.max(...sqls.map((s) => Buffer.byteLength(s)))).toBeLessThan(100 * 1024);
  // As SQL text the file list alone would exceed 100 KB.
  expect(keys.join('').length).toBeGreaterThan(250 * 1024);
  // A state read and the load batch (no aggregates).
  expect(server.stats.submissions - submissions).toBe(2);
}, 300_000);
