/** Local S3 through the real S3Client: buckets, objects, and ObjectCreated records shaped like AWS's. */
import { existsSync } from 'node:fs';
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListBucketsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3EventRecord } from 'aws-lambda';
import { encodeS3Key, startLocalS3, type LocalS3 } from '../../../local/s3';

describe('local S3', () => {
  let s3: LocalS3;
  const received: S3EventRecord[] = [];

  beforeAll(async () => {
    s3 = await startLocalS3({ buckets: ['landing', 'archive'] });
    s3.onObjectCreated((records) => received.push(...records));
  });

  afterAll(async () => {
    await s3.stop();
  });

  it('serves the configured buckets to the real client', async () => {
    expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { Buckets } = await s3.client.send(new ListBucketsCommand({}));
    expect(Buckets?.map((b) => b.Name).sort()).toEqual(['archive', 'landing']);
  });

  it('delivers ObjectCreated:Put with the AWS record shape and encoded key', async () => {
    const key = 'visits/date=2024-01-01/hour 00/part 1.json';
    const body = '{"a":1}\n';
    const put = await s3.client.send(new PutObjectCommand({ Bucket: 'landing', Key: key, Body: body }));
    await s3.idle();
    const record = received.find((r) => r.eventName === 'ObjectCreated:Put');
    expect(record).toBeDefined();
    expect(record).toEqual({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: expect.any(String) },
      requestParameters: { sourceIPAddress: '127.0.0.1' },
      responseElements: { 'x-amz-request-id': expect.any(String), 'x-amz-id-2': expect.any(String) },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: expect.any(String),
        bucket: { name: 'landing', ownerIdentity: { principalId: expect.any(String) }, arn: 'arn:aws:s3:::landing' },
        object: { key: 'visits/date%3D2024-01-01/hour+00/part+1.json', size: Buffer.byteLength(body), eTag: put.ETag?.replace(/"/g, ''), sequencer: expect.stringMatching(/^[0-9A-F]{18}$/) },
      },
    });
    // A consumer decodes it the documented way and gets the object back.
    const decoded = decodeURIComponent(record!.s3.object.key.replace(/\+/g, ' '));
    expect(decoded).toBe(key);
    const got = await s3.client.send(new GetObjectCommand({ Bucket: 'landing', Key: decoded }));
    expect(await got.Body?.transformToString()).toBe(body);
  });

  it('fills the eTag s3rver leaves out of ObjectCreated:Copy', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: 'landing', Key: 'src.csv', Body: 'a,b\n' }));
    await s3.client.send(new CopyObjectCommand({ Bucket: 'archive', Key: 'copy.csv', CopySource: 'landing/src.csv' }));
    await s3.idle();
    const copy = received.find((r) => r.eventName === 'ObjectCreated:Copy');
    expect(copy?.s3.bucket.name).toBe('archive');
    expect(copy?.s3.object.key).toBe('copy.csv');
    expect(copy?.s3.object.eTag).toMatch(/^[0-9a-f]{32}$/);
  });

  it('listings, GETs and HEADs follow every write of a key (s3rver\'s metadata is kept in memory between writes)', async () => {
    const list = async () =>
      ((await s3.client.send(new ListObjectsV2Command({ Bucket: 'landing', Prefix: 'meta/' }))).Contents ?? []).map((o) => ({ key: o.Key, size: o.Size, etag: o.ETag }));
    const put = (key: string, body: string) => s3.client.send(new PutObjectCommand({ Bucket: 'landing', Key: key, Body: body }));
    const first = await put('meta/a/x.json', 'one');
    await put('meta/b.json', 'two!');
    expect(await list()).toEqual([
      { key: 'meta/a/x.json', size: 3, etag: first.ETag },
      { key: 'meta/b.json', size: 4, etag: expect.any(String) },
    ]);
    // Re-put under the same key with new content: the listing, a HEAD and a GET see the new version.
    const second = await put('meta/a/x.json', 'changed');
    expect(second.ETag).not.toBe(first.ETag);
    expect((await list())[0]).toEqual({ key: 'meta/a/x.json', size: 7, etag: second.ETag });
    expect((await s3.client.send(new HeadObjectCommand({ Bucket: 'landing', Key: 'meta/a/x.json' }))).ContentLength).toBe(7);
    expect(await (await s3.client.send(new GetObjectCommand({ Bucket: 'landing', Key: 'meta/a/x.json' }))).Body?.transformToString()).toBe('changed');
    // A copy onto a listed key, then a delete.
    await s3.client.send(new CopyObjectCommand({ Bucket: 'landing', Key: 'meta/b.json', CopySource: 'landing/meta/a/x.json' }));
    expect((await list())[1]).toEqual({ key: 'meta/b.json', size: 7, etag: second.ETag });
    await s3.client.send(new DeleteObjectCommand({ Bucket: 'landing', Key: 'meta/a/x.json' }));
    expect((await list()).map((o) => o.key)).toEqual(['meta/b.json']);
    await expect(s3.client.send(new HeadObjectCommand({ Bucket: 'landing', Key: 'meta/a/x.json' }))).rejects.toMatchObject({ name: 'NotFound' });
  });

  it('encodes keys like S3 notifications do', () => {
    expect(encodeS3Key("a b/c=d/e+f/(g)!~'*.json")).toBe('a+b/c%3Dd/e%2Bf/%28g%29%21%7E%27*.json');
  });

  it('removes its temp dir on stop', async () => {
    const other = await startLocalS3({ buckets: ['tmp'] });
    await other.client.send(new PutObjectCommand({ Bucket: 'tmp', Key: 'k', Body: 'v' }));
    expect(existsSync(other.dataDir)).toBe(true);
    await other.stop();
    expect(existsSync(other.dataDir)).toBe(false);
  });
});
