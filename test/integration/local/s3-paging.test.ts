/**
 * ListObjectsV2 paging on the local S3 as S3 documents it (API reference, ListObjectsV2: "Returns
 * some or all (up to 1,000) of the objects in a bucket"; `IsTruncated`, `NextContinuationToken`,
 * `ContinuationToken`). s3rver 3.7.1 alone fails every second page with InternalError (its DES
 * continuation tokens are not available in OpenSSL 3).
 */
import { ListObjectsV2Command, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { listObjects } from '../../../functions/adapters/s3';
import { startLocalS3, type LocalS3 } from '../../../local/s3';

const BUCKET = 'paging';
const MANY = 1001;
const keyOf = (i: number): string => `many/part-${String(i).padStart(5, '0')}.json`;
let s3: LocalS3;

beforeAll(async () => {
  s3 = await startLocalS3({ buckets: [BUCKET] });
  for (let i = 0; i < MANY; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, MANY - i) }, (_, j) =>
        s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: keyOf(i + j), Body: 'x' })),
      ),
    );
  }
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'other/a.json', Body: 'x' }));
}, 120_000);
afterAll(async () => {
  await s3.stop();
});

it('pages with MaxKeys and continuation tokens until IsTruncated is false', async () => {
  const pages: string[][] = [];
  let token: string | undefined;
  do {
    const page = await s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'many/', MaxKeys: 400, ContinuationToken: token }));
    pages.push((page.Contents ?? []).map((c) => c.Key!));
    expect(page.KeyCount).toBe(page.Contents?.length ?? 0);
    expect(page.ContinuationToken).toBe(token);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    if (page.IsTruncated) expect(page.NextContinuationToken).toEqual(expect.any(String));
  } while (token);
  expect(pages.map((p) => p.length)).toEqual([400, 400, 201]);
  expect(pages.flat()).toEqual(Array.from({ length: MANY }, (_, i) => keyOf(i)));
});

it('caps a page at 1,000 keys and the adapter lists every key of a 1,001-key prefix', async () => {
  const first = await s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'many/', MaxKeys: 5000 }));
  expect(first.Contents).toHaveLength(1000);
  expect(first.IsTruncated).toBe(true);
  const listed = await listObjects(s3.client, BUCKET, 'many/');
  expect(listed.map((o) => o.key)).toEqual(Array.from({ length: MANY }, (_, i) => keyOf(i)));
});

it('refuses a continuation token it did not issue with InvalidArgument', async () => {
  const bad = s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: Buffer.from('{"b":"elsewhere","k":"x"}').toString('base64') }));
  await expect(bad).rejects.toBeInstanceOf(S3ServiceException);
  await expect(bad).rejects.toMatchObject({ name: 'InvalidArgument' });
});
