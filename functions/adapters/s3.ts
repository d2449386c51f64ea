/**
 * The S3 adapter: listing a table's or a partition's objects (to the end of the
 * listing, however many pages) and writing COPY manifests. The client is injected,
 * so the same code runs against AWS, the local stack and aws-sdk-client-mock.
 */
import {
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { ObjectInfo } from '../core/types';

/** An ETag as S3 returns it (`"9b2c..."`), without the quotes; undefined when absent or empty. */
export function unquoteEtag(etag: string | undefined): string | undefined {
  const bare = etag?.replace(/"/g, '').trim();
  return bare ? bare : undefined;
}

/** Every object under `prefix`, following continuation tokens to the end; `onPage` hears the running count. */
export async function listObjects(client: S3Client, bucket: string, prefix: string, onPage?: (listed: number) => void): Promise<ObjectInfo[]> {
  const objects: ObjectInfo[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      if (o.Key === undefined) continue;
      const object: ObjectInfo = { key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) };
      const etag = unquoteEtag(o.ETag);
      if (etag !== undefined) object.etag = etag;
      objects.push(object);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    onPage?.(objects.length);
  } while (token);
  return objects;
}

/** Write a COPY manifest (JSON) at `key`; returns its s3:// URL, as the COPY statement names it. */
export async function putManifest(client: S3Client, bucket: string, key: string, body: string): Promise<string> {
  await client.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }),
  );
  return `s3://${bucket}/${key}`;
}

/** One object's size and modification time, or undefined when it does not exist (explicit `files` of a manual run). */
export async function headObject(client: S3Client, bucket: string, key: string): Promise<ObjectInfo | undefined> {
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const object: ObjectInfo = { key, size: head.ContentLength ?? 0, lastModified: head.LastModified ?? new Date(0) };
    const etag = unquoteEtag(head.ETag);
    if (etag !== undefined) object.etag = etag;
    return object;
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return undefined;
    throw err;
  }
}
