/** The local S3 stand-in and long keys: S3's 1,024-byte limit as AWS answers it; s3rver's file-name limit as a clear error, never a crash. */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { localKeyProblem, startLocalS3, type LocalS3 } from '../../../local/s3';

describe('local S3: long keys', () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startLocalS3({ buckets: ['landing'] });
  });
  afterAll(async () => {
    await s3.stop();
  });

  it('a key segment s3rver cannot store as a file is refused with a clear error, and the endpoint keeps serving', async () => {
    const put = (Key: string) => s3.client.send(new PutObjectCommand({ Bucket: 'landing', Key, Body: 'x' }));
    await expect(put(`t/${'x'.repeat(300)}.json`)).rejects.toMatchObject({
      name: 'LocalStackKeySegmentTooLong',
      message: expect.stringMatching(/segment 2 of the key is 305 bytes.*Amazon S3 accepts any segment length within its 1,024-byte key limit/),
    });
    await expect(put(`t/${'y'.repeat(1100)}`)).rejects.toMatchObject({ name: 'KeyTooLongError' });
    await expect(put('t/after.json')).resolves.toBeDefined();
  });

  it('checks the decoded key of a path-style request', () => {
    expect(localKeyProblem('/landing/a/b.json')).toBeUndefined();
    expect(localKeyProblem(`/landing/${'%C3%A9'.repeat(120)}`)?.code).toBe('LocalStackKeySegmentTooLong');
    expect(localKeyProblem(`/landing/${'%C3%A9'.repeat(100)}`)).toBeUndefined();
  });
});
