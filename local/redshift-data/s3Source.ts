/**
 * The objects a COPY reads: one key, every key under a prefix, or a manifest's
 * entries; fetched through the S3 client the server was given and decompressed.
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { gunzipSync } from 'node:zlib';
import { SqlRejectedError } from './dialect';

/** One object to load. */
export interface SourceObject {
  url: string;
  bucket: string;
  key: string;
  /** From a manifest entry: a missing object fails the COPY instead of being skipped. */
  mandatory?: boolean;
}

/** Splits `s3://bucket/key`. */
export function parseS3Url(url: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new SqlRejectedError(`invalid S3 URL '${url}'`);
  return { bucket: m[1] as string, key: m[2] as string };
}

function isMissing(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata?.httpStatusCode === 404;
}

/** Reads a whole object; undefined when it does not exist. */
export async function readObject(s3: S3Client, url: string): Promise<Uint8Array | undefined> {
  const { bucket, key } = parseS3Url(url);
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return res.Body ? await res.Body.transformToByteArray() : new Uint8Array();
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}

/** The objects named by the COPY's FROM: a manifest's entries or every key under the prefix. */
export async function resolveSources(s3: S3Client, from: string, manifest: boolean): Promise<SourceObject[]> {
  if (manifest) {
    const body = await readObject(s3, from);
    if (!body) throw new SqlRejectedError(`Manifest file '${from}' not found`);
    let parsed: { entries?: Array<{ url?: string; mandatory?: boolean }> };
    try {
      parsed = JSON.parse(Buffer.from(body).toString('utf8')) as typeof parsed;
    } catch {
      throw new SqlRejectedError(`Manifest file '${from}' is not valid JSON`);
    }
    if (!Array.isArray(parsed.entries)) throw new SqlRejectedError(`Manifest file '${from}' has no "entries" array`);
    const out: SourceObject[] = [];
    for (const entry of parsed.entries) {
      if (typeof entry.url !== 'string') throw new SqlRejectedError(`Manifest file '${from}' has an entry without "url"`);
      const { bucket, key } = parseS3Url(entry.url);
      out.push({ url: entry.url, bucket, key, ...(entry.mandatory ? { mandatory: true } : {}) });
    }
    return out;
  }
  const { bucket, key } = parseS3Url(from);
  const out: SourceObject[] = [];
  let token: string | undefined;
  do {
    const res = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: key, ...(token ? { ContinuationToken: token } : {}) }),
    );
    for (const o of res.Contents ?? []) {
      if (o.Key && !o.Key.endsWith('/')) out.push({ url: `s3://${bucket}/${o.Key}`, bucket, key: o.Key });
    }
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  if (out.length === 0) throw new SqlRejectedError(`The specified S3 prefix '${key}' does not exist`);
  out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return out;
}

/** Undoes GZIP; BZIP2, ZSTD and LZOP are refused with a clear message (no decoder here). */
export function decompress(bytes: Uint8Array, compression: 'none' | 'gzip' | 'bzip2' | 'zstd' | 'lzop'): Uint8Array {
  switch (compression) {
    case 'none':
      return bytes;
    case 'gzip':
      return gunzipSync(bytes);
    default:
      throw new SqlRejectedError(`${compression.toUpperCase()} is not supported by the local Data API (Node 20 has no decoder); use GZIP`);
  }
}
