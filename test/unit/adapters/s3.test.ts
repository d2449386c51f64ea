import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { headObject, listObjects, putManifest } from '../../../functions/adapters/s3';

const s3 = mockClient(S3Client);
const client = new S3Client({ region: 'us-east-1' });

beforeEach(() => s3.reset());

describe('listObjects', () => {
  it('follows continuation tokens to the end of the listing', async () => {
    const at = new Date('2026-11-20T13:05:00Z');
    s3.on(ListObjectsV2Command, { ContinuationToken: undefined })
      .resolves({ IsTruncated: true, NextContinuationToken: 't1', Contents: [{ Key: 'a/1.json', Size: 10, LastModified: at }] })
      .on(ListObjectsV2Command, { ContinuationToken: 't1' })
      .resolves({ IsTruncated: true, NextContinuationToken: 't2', Contents: [{ Key: 'a/2.json', Size: 20, LastModified: at }] })
      .on(ListObjectsV2Command, { ContinuationToken: 't2' })
      .resolves({ IsTruncated: false, Contents: [{ Key: 'a/3.json', Size: 30, LastModified: at }] });

    const objects = await listObjects(client, 'bucket', 'a/');

    expect(objects.map((o) => o.key)).toEqual(['a/1.json', 'a/2.json', 'a/3.json']);
    expect(objects[2]).toEqual({ key: 'a/3.json', size: 30, lastModified: at });
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(3);
    expect(s3.commandCalls(ListObjectsV2Command)[0]!.args[0].input).toMatchObject({ Bucket: 'bucket', Prefix: 'a/' });
  });

  it('carries each object\'s ETag without quotes (the file ledger\'s identity of a version)', async () => {
    const at = new Date('2026-11-20T13:05:00Z');
    s3.on(ListObjectsV2Command).resolves({ IsTruncated: false, Contents: [{ Key: 'a/1.json', Size: 10, LastModified: at, ETag: '"9b2cf535f27731c974343645a3985328"' }] });
    await expect(listObjects(client, 'bucket', 'a/')).resolves.toEqual([{ key: 'a/1.json', size: 10, lastModified: at, etag: '9b2cf535f27731c974343645a3985328' }]);
  });

  it('returns an empty list for an empty prefix', async () => {
    s3.on(ListObjectsV2Command).resolves({ IsTruncated: false });
    await expect(listObjects(client, 'bucket', 'none/')).resolves.toEqual([]);
  });
});

describe('putManifest', () => {
  it('writes JSON and returns the s3 URL', async () => {
    s3.on(PutObjectCommand).resolves({});
    const url = await putManifest(client, 'bucket', '_forklift/manifests/visits/x.manifest', '{"entries":[]}');
    expect(url).toBe('s3://bucket/_forklift/manifests/visits/x.manifest');
    expect(s3.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({
      Bucket: 'bucket',
      Key: '_forklift/manifests/visits/x.manifest',
      Body: '{"entries":[]}',
      ContentType: 'application/json',
    });
  });
});

describe('headObject', () => {
  it('returns undefined for a missing object', async () => {
    s3.on(HeadObjectCommand).rejects(Object.assign(new Error('not found'), { name: 'NotFound' }));
    await expect(headObject(client, 'bucket', 'k')).resolves.toBeUndefined();
  });

  it('returns size and modification time', async () => {
    const at = new Date('2026-11-20T13:00:00Z');
    s3.on(HeadObjectCommand).resolves({ ContentLength: 5, LastModified: at });
    await expect(headObject(client, 'bucket', 'k')).resolves.toEqual({ key: 'k', size: 5, lastModified: at });
  });
});
