/**
 * The one COPY of a load (a manifest naming every file of the partition: one
 * commit-queue event per partition) and the manifest it reads.
 */
import type { TableConfig } from '../config/schema';
import { literal, quoteIdent } from '../identifiers';
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
 * to the manifest and COPYed into the file-list temp table: the batch stays the same size
 * whatever the number of files (a Data API SQL is at most 100 KB).
 */
export function renderFileList(files: readonly ObjectInfo[]): string {
  return files.map((f) => JSON.stringify({ file_key: f.key, bytes: f.size, etag: f.etag ?? null })).join('\n') + (files.length ? '\n' : '');
}

/** `COPY <table> (file_key, bytes) FROM '<file list>' IAM_ROLE '...' FORMAT AS JSON 'auto'`. */
export function renderFileListCopy(table: string, fileListUrl: string, roleArn: string): string {
  return (
    `COPY ${quoteIdent(table)} (${FILE_LIST_COLUMNS.join(', ')}) FROM ${literal(fileListUrl)} IAM_ROLE ${literal(roleArn)} ` +
    "FORMAT AS JSON 'auto' STATUPDATE OFF COMPUPDATE OFF"
  );
}
