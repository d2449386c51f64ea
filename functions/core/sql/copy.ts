/**
 * The one COPY of a load (a manifest naming every file of the partition: one
 * commit-queue event per partition) and the manifest it reads.
 */
import type { TableConfig } from '../config/schema';
import { IdentifierError } from '../errors';
import { integerLiteral, literal, quoteIdent } from '../identifiers';
import type { ObjectInfo } from '../types';

/** What the COPY needs. */
export interface CopyArgs {
  /** The (temp, unqualified) staging table. */
  staging: string;
  /** Columns the files fill, in config order. */
  columns: readonly string[];
  /** `s3://bucket/key` of the manifest. */
  manifestUrl: string;
  /** IAM role the warehouse assumes to read the bucket. */
  roleArn: string;
  table: TableConfig;
}

/** `COPY staging (cols) FROM 's3://...' IAM_ROLE '...' MANIFEST <format> <compression> <time formats> STATUPDATE OFF COMPUPDATE OFF`. */
export function renderCopy(args: CopyArgs): string {
  const { table } = args;
  const parts = [
    `COPY ${quoteIdent(args.staging)} (${args.columns.map(quoteIdent).join(', ')})`,
    `FROM ${literal(args.manifestUrl)}`,
    `IAM_ROLE ${literal(args.roleArn)}`,
    'MANIFEST',
  ];
  switch (table.format.type) {
    case 'json':
      parts.push(`FORMAT AS JSON ${literal(table.format.jsonpaths)}`);
      break;
    case 'csv':
      parts.push(`CSV DELIMITER ${delimiterLiteral(table.format.delimiter)}`);
      if (table.format.header) parts.push('IGNOREHEADER 1');
      break;
    case 'parquet':
      parts.push('FORMAT AS PARQUET');
      break;
  }
  if (table.format.type !== 'parquet') {
    if (table.compression !== 'none') parts.push(table.compression.toUpperCase());
    parts.push(`TIMEFORMAT ${literal(table.timeFormat)}`, `DATEFORMAT ${literal(table.dateFormat)}`);
  }
  parts.push('STATUPDATE OFF', 'COMPUPDATE OFF');
  return parts.join(' ');
}

/**
 * COPY's DELIMITER argument: a tab as Redshift documents it, `'\t'` (COPY reads the escape;
 * a raw tab would not survive literal()); any other (printable, config-checked) character quoted.
 */
export function delimiterLiteral(delimiter: string): string {
  return delimiter === '\t' ? "'\\t'" : literal(delimiter);
}

/** The COPY manifest (JSON) for `files` of `bucket`: every entry mandatory, with its length (required for Parquet). */
export function renderManifest(bucket: string, files: readonly ObjectInfo[]): string {
  return JSON.stringify({
    entries: files.map((f) => ({ url: `s3://${bucket}/${f.key}`, mandatory: true, meta: { content_length: f.size } })),
  });
}

/** The columns of the load's file-list temp table, as {@link renderFileList} writes them. */
export const FILE_LIST_COLUMNS = ['file_key', 'bytes', 'etag'] as const;

/**
 * The load's file list as JSON lines (`{"file_key": ..., "bytes": ..., "etag": ...}` per file), written next
 * to the manifest and COPYed into the file-list temp table when it is too long to inline
 * ({@link renderFileListInsert}): the batch stays the same size whatever the number of files (a Data API SQL
 * is at most 100 KB).
 */
export function renderFileList(files: readonly ObjectInfo[]): string {
  return files.map((f) => JSON.stringify({ file_key: f.key, bytes: f.size, etag: f.etag ?? null })).join('\n') + (files.length ? '\n' : '');
}

/**
 * A file list at most this long (bytes of its INSERT) is written into the batch; a longer one is COPYed from S3,
 * so the batch's statements stay far below the Data API's 100 KB whatever the number of files (typically up to
 * about a hundred files are inlined).
 */
export const INLINE_FILE_LIST_BYTES = 16 * 1024;

/**
 * `INSERT INTO <table> (file_key, bytes, etag) VALUES (...), ...`: the load's file list inside its batch, which saves
 * the batch a COPY (and Prepare an S3 PUT); undefined when the INSERT would exceed {@link INLINE_FILE_LIST_BYTES} or a
 * key or ETag is not a plain literal (a control character or backslash), and the list is COPYed instead.
 */
export function renderFileListInsert(table: string, files: readonly ObjectInfo[]): string | undefined {
  if (files.length === 0) return undefined;
  const rows: string[] = [];
  let bytes = 0;
  try {
    for (const f of files) {
      const row = `(${literal(f.key)}, ${integerLiteral(f.size)}, ${f.etag === undefined ? 'NULL' : literal(f.etag)})`;
      bytes += Buffer.byteLength(row, 'utf8') + 2;
      if (bytes > INLINE_FILE_LIST_BYTES) return undefined;
      rows.push(row);
    }
  } catch (err) {
    if (err instanceof IdentifierError) return undefined;
    throw err;
  }
  return `INSERT INTO ${quoteIdent(table)} (${FILE_LIST_COLUMNS.join(', ')}) VALUES ${rows.join(', ')}`;
}

/** `COPY <table> (file_key, bytes) FROM '<file list>' IAM_ROLE '...' FORMAT AS JSON 'auto'`. */
export function renderFileListCopy(table: string, fileListUrl: string, roleArn: string): string {
  return (
    `COPY ${quoteIdent(table)} (${FILE_LIST_COLUMNS.join(', ')}) FROM ${literal(fileListUrl)} IAM_ROLE ${literal(roleArn)} ` +
    "FORMAT AS JSON 'auto' STATUPDATE OFF COMPUPDATE OFF"
  );
}
