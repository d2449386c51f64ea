/**
 * Local S3: s3rver on 127.0.0.1 behind the real S3Client, with ObjectCreated notifications
 * normalized to exactly the record shape S3 sends to Lambda/SQS.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { readdirSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { HeadObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { S3EventRecord } from 'aws-lambda';

/** Options of {@link startLocalS3}. */
export interface LocalS3Options {
  /** Where objects are stored; omitted = a temp dir removed on stop. */
  dataDir?: string;
  /** Port on 127.0.0.1; 0 or omitted lets the OS pick. */
  port?: number;
  /** Buckets created at start. */
  buckets: string[];
}

/** Receives the records of one S3 notification. */
export type ObjectCreatedListener = (records: S3EventRecord[]) => void;

/** The running local S3. */
export interface LocalS3 {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** A real S3Client pointed at this endpoint. */
  client: S3Client;
  /** Where the objects live (a temp dir unless `dataDir` was given). */
  dataDir: string;
  /** Subscribes to ObjectCreated notifications (all buckets). */
  onObjectCreated(listener: ObjectCreatedListener): void;
  /** Resolves once every notification emitted so far has been delivered to the listeners. */
  idle(): Promise<void>;
  /** Closes the port and removes the temp dir (if this module created it). */
  stop(): Promise<void>;
}

/** What s3rver 3.7.1 emits on `event` (see node_modules/s3rver/lib/models/event.js). */
interface S3rverRecord {
  eventTime: string;
  eventName: string;
  awsRegion: string;
  userIdentity?: { principalId?: string };
  requestParameters?: { sourceIPAddress?: string };
  responseElements?: Record<string, string>;
  s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string; sequencer?: string } };
}

/** A Koa context, as far as the key-length check reads and answers it. */
interface KoaContext {
  method: string;
  path: string;
  status: number;
  type: string;
  body: string;
}

interface S3rverInstance {
  /** The object store every request uses (lib/stores/filesystem.js). */
  store: S3rverObjectStore;
  /** Koa's middleware list (s3rver extends Koa); composed at run(). */
  middleware: Array<(ctx: KoaContext, next: () => Promise<void>) => Promise<void> | void>;
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  on(event: 'event', listener: (event: { Records: S3rverRecord[] }) => void): void;
  httpServer?: { closeAllConnections?: () => void };
}

type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

/**
 * s3rver's directory walk (lib/utils.js) stats every file it lists, three per object (data, MD5,
 * metadata); a listing of a partition of 100 objects made 300 stat calls besides the reads. This
 * walk reads the entry types from the directory itself (a symbolic link is still followed with a
 * stat, as before): the same paths in the same order. Set before s3rver's store module takes it.
 */
function* walkDirectory(dir: string, recurseFilter?: (path: string) => boolean): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const filePath = posix.join(dir, entry.name);
    const isDirectory = entry.isDirectory() || (entry.isSymbolicLink() && statSync(filePath).isDirectory());
    if (!isDirectory) yield filePath;
    else if (!recurseFilter || recurseFilter(filePath)) yield* walkDirectory(filePath, recurseFilter);
  }
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
(require('s3rver/lib/utils') as { walk: typeof walkDirectory }).walk = walkDirectory;

// s3rver ships no types; its surface above is all we use.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as S3rverConstructor;

/** What s3rver's store answers to a listing (node_modules/s3rver/lib/stores/filesystem.js). */
interface StoreListing {
  objects: unknown[];
  commonPrefixes: string[];
  isTruncated: boolean;
}
interface S3rverStore {
  listObjects(bucket: string, options: Record<string, unknown>): Promise<StoreListing>;
}
/** The Koa context of a bucket GET, as far as the listing wrapper reads and writes it. */
interface ListContext {
  query: Record<string, string | undefined>;
  querystring: string;
  params: { bucket: string };
  store: S3rverStore;
  body: { ListBucketResult?: Record<string, unknown> } | undefined;
}
type GetBucket = (ctx: ListContext) => Promise<void>;
interface S3rverBucketController {
  getBucket: GetBucket;
}
interface S3rverErrorConstructor {
  new (code: string, message: string, detail: Record<string, string>): Error;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const bucketController = require('s3rver/lib/controllers/bucket') as S3rverBucketController;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rverError = require('s3rver/lib/models/error') as S3rverErrorConstructor;

/**
 * ListObjectsV2 paging as S3 does it: at most 1,000 keys a page, `IsTruncated` and an opaque
 * `NextContinuationToken` that resumes after the page's last key. s3rver 3.7.1 encrypts its
 * continuation tokens with DES, which OpenSSL 3 (Node 17+) no longer offers, so every listing
 * of more than one page failed with InternalError. Its controller is wrapped (routes.js calls
 * `bucketCtrl.getBucket` through the module's exports, after authentication): the token is
 * ours (base64 of the bucket and the last key), turned into `start-after` before s3rver
 * lists, and the truncation the store reports becomes our token.
 */
function pageListObjectsV2(): void {
  const original = bucketController.getBucket as GetBucket & { forkliftPaging?: true };
  if (original.forkliftPaging) return;
  const paged: GetBucket & { forkliftPaging?: true } = async (ctx) => {
    if (ctx.query['list-type'] !== '2') return original(ctx);
    const bucket = ctx.params.bucket;
    const token = ctx.query['continuation-token'];
    if (token !== undefined && token !== '') {
      const startAfter = readContinuationToken(token, bucket);
      const query = new URLSearchParams(ctx.querystring);
      query.delete('continuation-token');
      query.set('start-after', startAfter);
      ctx.querystring = query.toString();
    }
    let truncated = false;
    const store = ctx.store;
    ctx.store = Object.assign(Object.create(store) as S3rverStore, {
      async listObjects(b: string, options: Record<string, unknown>): Promise<StoreListing> {
        const listing = await store.listObjects.call(store, b, options);
        truncated = listing.isTruncated;
        return { ...listing, isTruncated: false };
      },
    });
    await original(ctx);
    const result = ctx.body?.ListBucketResult;
    if (!result) return;
    const contents = (result.Contents ?? []) as Array<{ Key: string }>;
    const last = contents.at(-1)?.Key;
    result.IsTruncated = truncated;
    if (token !== undefined && token !== '') {
      result.ContinuationToken = token;
      delete result.StartAfter;
    }
    if (truncated && last !== undefined) result.NextContinuationToken = continuationToken(bucket, last);
  };
  paged.forkliftPaging = true;
  bucketController.getBucket = paged;
}
pageListObjectsV2();

function continuationToken(bucket: string, lastKey: string): string {
  return Buffer.from(JSON.stringify({ b: bucket, k: lastKey }), 'utf8').toString('base64');
}

function readContinuationToken(token: string, bucket: string): string {
  try {
    const { b, k } = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { b?: unknown; k?: unknown };
    if (b === bucket && typeof k === 'string') return k;
  } catch {
    /* answered below */
  }
  throw new S3rverError('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
}

/** s3rver checks signatures against its one built-in key pair. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** The S3Client config for the local endpoint: path-style, us-east-1, s3rver's credentials. */
export function localS3ClientConfig(endpoint: string): S3ClientConfig {
  return { endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { ...S3RVER_CREDENTIALS } };
}

/** An object's metadata as s3rver's store answers it (stored metadata, etag, last-modified, content-length). */
type ObjectMetadata = Record<string, unknown>;

/** The methods of s3rver's filesystem store that read or change an object's metadata. */
interface S3rverObjectStore {
  getMetadata(bucket: string, key: string): Promise<ObjectMetadata>;
  putMetadata(bucket: string, key: string, ...rest: unknown[]): Promise<unknown>;
  putObject(object: { bucket: string; key: string }): Promise<unknown>;
  copyObject(srcBucket: string, srcKey: string, destBucket: string, destKey: string, ...rest: unknown[]): Promise<unknown>;
  deleteObject(bucket: string, key: string): Promise<unknown>;
  deleteBucket(bucket: string): Promise<unknown>;
  reset(): void;
}

/**
 * s3rver reads an object's metadata from disk (a stat and two file reads) for every GET, HEAD and
 * every key of a listing, so listing a partition cost as many file reads as it has objects,
 * again at every listing. Answers are kept in memory per key and forgotten whenever the key is
 * written (put, copy onto it, multipart completion, new metadata) or deleted, or its bucket is: every
 * write goes through this store. A read that overlapped a write of its key is not kept.
 */
export function cacheObjectMetadata(store: S3rverObjectStore): void {
  const cache = new Map<string, ObjectMetadata>();
  const versions = new Map<string, number>();
  let epoch = 0;
  const id = (bucket: string, key: string) => `${bucket}\u0000${key}`;
  const version = (k: string) => `${epoch}:${versions.get(k) ?? 0}`;
  const touch = (bucket: string, key: string) => {
    const k = id(bucket, key);
    versions.set(k, (versions.get(k) ?? 0) + 1);
    cache.delete(k);
  };
  const forgetAll = () => {
    epoch++;
    cache.clear();
  };
  const writing = async <T>(keys: Array<[string, string]>, write: () => Promise<T>): Promise<T> => {
    keys.forEach(([b, k]) => touch(b, k));
    try {
      return await write();
    } finally {
      keys.forEach(([b, k]) => touch(b, k));
    }
  };
  const read = store.getMetadata.bind(store);
  store.getMetadata = async (bucket, key) => {
    const k = id(bucket, key);
    const hit = cache.get(k);
    if (hit) return { ...hit };
    const before = version(k);
    const metadata = await read(bucket, key);
    if (version(k) === before) cache.set(k, { ...metadata });
    return metadata;
  };
  const putMetadata = store.putMetadata.bind(store);
  store.putMetadata = (bucket, key, ...rest) => writing([[bucket, key]], () => putMetadata(bucket, key, ...rest));
  const putObject = store.putObject.bind(store);
  store.putObject = (object) => writing([[object.bucket, object.key]], () => putObject(object));
  const copyObject = store.copyObject.bind(store);
  store.copyObject = (srcBucket, srcKey, destBucket, destKey, ...rest) =>
    writing([[destBucket, destKey]], () => copyObject(srcBucket, srcKey, destBucket, destKey, ...rest));
  const deleteObject = store.deleteObject.bind(store);
  store.deleteObject = (bucket, key) => writing([[bucket, key]], () => deleteObject(bucket, key));
  // A multipart completion stores through putObject (above), which forgets the key.
  const deleteBucket = store.deleteBucket.bind(store);
  store.deleteBucket = async (bucket) => {
    forgetAll();
    try {
      return await deleteBucket(bucket);
    } finally {
      forgetAll();
    }
  };
  const reset = store.reset.bind(store);
  store.reset = () => {
    forgetAll();
    reset();
  };
}

/** Starts s3rver with the buckets and returns a client for it. */
export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  const ownDir = options.dataDir === undefined;
  const directory = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'forklift-s3-')));
  const server = new S3rver({
    port: options.port ?? 0,
    address: '127.0.0.1',
    directory,
    silent: true,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  cacheObjectMetadata(server.store);
  // First in the chain: keys s3rver cannot store as files are answered, never crash the process.
  server.middleware.unshift(async (ctx, next) => {
    const problem = ctx.method === 'PUT' || ctx.method === 'POST' ? localKeyProblem(ctx.path) : undefined;
    if (problem === undefined) return next();
    ctx.status = 400;
    ctx.type = 'application/xml';
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${problem.code}</Code><Message>${problem.message}</Message></Error>`;
  });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = new S3Client(localS3ClientConfig(endpoint));
  const listeners: ObjectCreatedListener[] = [];
  let pending: Promise<void> = Promise.resolve();

  server.on('event', (event) => {
    const created = event.Records.filter((r) => r.eventName.startsWith('ObjectCreated:'));
    if (created.length === 0) return;
    // Deliver in emission order; eTags missing from s3rver (Copy) are looked up first.
    pending = pending.then(async () => {
      const records = await Promise.all(created.map((r) => normalize(r, client)));
      for (const listener of listeners) {
        try {
          listener(records);
        } catch {
          // A failing consumer must not break delivery to the others (S3 retries are out of scope).
        }
      }
    });
  });

  return {
    endpoint,
    client,
    dataDir: directory,
    onObjectCreated: (listener) => {
      listeners.push(listener);
    },
    idle: () => pending,
    stop: async () => {
      await pending;
      client.destroy();
      server.httpServer?.closeAllConnections?.();
      await server.close();
      if (ownDir) await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * The record as S3 sends it: key URL-encoded with '+' for spaces, `arn:aws:s3:::bucket`,
 * eventVersion 2.1, an eTag without quotes, CompleteMultipartUpload named as such.
 */
async function normalize(raw: S3rverRecord, client: S3Client): Promise<S3EventRecord> {
  const { name: bucket } = raw.s3.bucket;
  const { key } = raw.s3.object;
  let eTag = raw.s3.object.eTag?.replace(/"/g, '');
  if (eTag === undefined) {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
    eTag = head?.ETag?.replace(/"/g, '') ?? '';
  }
  let eventName = raw.eventName;
  if (eventName === 'ObjectCreated:Post' && /-\d+$/.test(eTag)) eventName = 'ObjectCreated:CompleteMultipartUpload';
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: raw.eventTime,
    eventName,
    userIdentity: { principalId: raw.userIdentity?.principalId ?? 'AWS:LOCAL' },
    requestParameters: { sourceIPAddress: (raw.requestParameters?.sourceIPAddress ?? '127.0.0.1').replace(/^::ffff:/, '') },
    responseElements: {
      'x-amz-request-id': raw.responseElements?.['x-amz-request-id'] ?? randomBytes(8).toString('hex').toUpperCase(),
      'x-amz-id-2': raw.responseElements?.['x-amz-id-2'] ?? randomBytes(32).toString('base64'),
    },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'forklift-local',
      bucket: { name: bucket, ownerIdentity: { principalId: 'LOCALOWNER' }, arn: `arn:aws:s3:::${bucket}` },
      object: {
        key: encodeS3Key(key),
        size: raw.s3.object.size ?? 0,
        eTag,
        sequencer: (raw.s3.object.sequencer ?? Date.now().toString(16)).toUpperCase().padStart(18, '0'),
      },
    },
  };
}

/**
 * S3 notification key encoding: form-style URL encoding (letters, digits and `-_.*` kept,
 * spaces as '+', so `date=2024-01-01` arrives as `date%3D2024-01-01`); '/' stays as is.
 */
export function encodeS3Key(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+')
    .replace(/%2F/gi, '/');
}

/** s3rver keeps an object as `<segment>._S3rver_metadata.json` beside its data: the longest suffix it adds. */
const S3RVER_SUFFIX_BYTES = Buffer.byteLength('._S3rver_metadata.json');
/** File-name limit of the file systems s3rver writes to. */
const NAME_MAX = 255;

/**
 * Why a PUT to `/<bucket>/<key>` (path style) cannot be stored, or undefined. S3's own rule:
 * keys longer than 1,024 bytes are refused with KeyTooLongError. The stand-in's rule: s3rver
 * stores each key segment as a file name, so a segment longer than the file system allows is
 * refused with a clear error instead of an unhandled ENAMETOOLONG (S3 itself accepts it).
 */
export function localKeyProblem(path: string): { code: string; message: string } | undefined {
  const slash = path.indexOf('/', 1);
  if (slash < 0) return undefined;
  let key: string;
  try {
    key = decodeURIComponent(path.slice(slash + 1));
  } catch {
    return undefined;
  }
  if (Buffer.byteLength(key) > 1024) return { code: 'KeyTooLongError', message: 'Your key is too long' };
  const segments = key.split('/');
  const long = segments.findIndex((segment, i) => Buffer.byteLength(segment) + (i === segments.length - 1 ? S3RVER_SUFFIX_BYTES : 0) > NAME_MAX);
  if (long < 0) return undefined;
  return {
    code: 'LocalStackKeySegmentTooLong',
    message:
      `the local S3 stand-in (s3rver) stores each key segment as a file name: segment ${long + 1} of the key is ` +
      `${Buffer.byteLength(segments[long]!)} bytes, over the ${long === segments.length - 1 ? NAME_MAX - S3RVER_SUFFIX_BYTES : NAME_MAX} it can store; ` +
      'Amazon S3 accepts any segment length within its 1,024-byte key limit',
  };
}
