/**
 * A partition of 2,000 files: the load batch stays within the Data API's limits (40 SQLs, 100 KB
 * each) because the file list travels as an S3 object, not as SQL. The objects are put into the
 * bucket before the pipeline starts (no 2,000 S3 events through discover: a manual run loads them).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startLocalS3 } from '../../../local/s3';
import { BUCKET, hourly, jsonLines, resultOf, rows, startManual, startTestPipeline, statementsSince, testConfig, type TestPipeline } from './helpers';

const config = testConfig({ bp_many: hourly('bp/many/', { completeness: { marker: '_SUCCESS' } }) });
const keys = Array.from({ length: 2000 }, (_, i) => `bp/many/2026-11-20T10/a-rather-long-object-name-as-producers-write-them-${String(i).padStart(5, '0')}.json`);

let dir: string;
let t: TestPipeline | undefined;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'forklift-big-'));
  const s3 = await startLocalS3({ dataDir: join(dir, 's3'), buckets: [BUCKET] });
  try {
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(
        keys.slice(i, i + 50).map((Key, j) =>
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

it('a partition of 2,000 files loads in one batch within the Data API limits (40 SQLs, 100 KB each)', async () => {
  const p = t!.pipeline;
  const server = p.stack.redshiftData.server;
  const mark = server.stats.statements.length;
  const submissions = server.stats.submissions;
  const result = await resultOf(p, await startManual(p, { table: 'bp_many', date: '2026-11-20T10', force: true }, 'bp-many'));
  expect(result.status).toBe('SUCCEEDED');
  expect(result.output).toMatchObject({ status: 'loaded', rows: 2000, files: 2000 });
  expect(await rows(p, 'SELECT COUNT(*)::int AS n, COUNT(DISTINCT id)::int AS ids FROM landing.bp_many')).toEqual([{ n: 2000, ids: 2000 }]);
  expect(await rows(p, "SELECT COUNT(DISTINCT file_key)::int AS n FROM forklift.load_files WHERE table_name = 'bp_many'")).toEqual([{ n: 2000 }]);
  const sqls = statementsSince(p, mark);
  expect(Math.max(...sqls.map((s) => Buffer.byteLength(s)))).toBeLessThan(100 * 1024);
  // As SQL text the file list alone would exceed 100 KB.
  expect(keys.join('').length).toBeGreaterThan(100 * 1024);
  // A state read and the load batch (no aggregates).
  expect(server.stats.submissions - submissions).toBe(2);
}, 300_000);
