/** Local S3 through the real S3Client: buckets, objects, and ObjectCreated records shaped like AWS's. */
import { existsSync } from 'node:fs';
import { CopyObjectCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
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
