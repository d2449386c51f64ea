/**
 * Step Functions execution names. They are deterministic, so duplicate S3 events for one
 * partition try to start the same execution and Step Functions refuses the copy
 * (ExecutionAlreadyExists = already handled, once that execution is no longer running).
 * A top-up of files that landed later is named after those files. They are also the
 * `load_id` of the audit rows.
 */
import { createHash } from 'node:crypto';

/** Step Functions' limit on execution names (and the width of `loads.load_id`). */
export const MAX_EXECUTION_NAME = 80;
const MAX_RUN_ID = 24;
const HASH_LENGTH = 8;

function shortHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, HASH_LENGTH);
}

/**
 * `text` restricted to [A-Za-z0-9_-] and at most `max` characters. When anything had to
 * change, a short hash of the original is appended, so distinct inputs keep distinct names.
 */
function namePart(text: string, max: number): string {
  const cleaned = text.replace(/[^A-Za-z0-9_-]/g, '_');
  if (cleaned === text && cleaned.length <= max) return cleaned;
  return `${cleaned.slice(0, Math.max(0, max - HASH_LENGTH - 1))}_${shortHash(text)}`;
}

/** `20261120T130000` (UTC); milliseconds are appended (`20261120T130000250`) only when not zero. */
export function compactStamp(date: Date): string {
  const iso = date.toISOString();
  const stamp = iso.slice(0, 19).replace(/[-:]/g, '');
  const ms = iso.slice(20, 23);
  return ms === '000' ? stamp : `${stamp}${ms}`;
}

function join(name: string, fixed: string[]): string {
  const suffix = fixed.map((p) => `-${p}`).join('');
  return `${namePart(name, MAX_EXECUTION_NAME - suffix.length)}${suffix}`;
}

/**
 * The execution name of a load: `visits-20261120T130000` for automatic loads (the same for
 * every event of the partition), plus `-<runId>` for manual runs (sanitized). Long or unusual
 * table names are truncated with a stable hash suffix; the result is at most 80 characters of [A-Za-z0-9_-].
 */
export function executionName(table: string, partitionDate: Date, runId?: string): string {
  const parts = [compactStamp(partitionDate)];
  if (runId !== undefined && runId !== '') parts.push(namePart(runId, MAX_RUN_ID));
  return join(table, parts);
}

/**
 * The execution name of a top-up (files landed in a partition after its load):
 * `visits-20261120T130000-<8 hex>`, the hash of the sorted new file keys. Duplicate events
 * for the same new files dedupe; any other set of new files gets a new execution.
 */
export function topUpExecutionName(table: string, partitionDate: Date, newFileKeys: readonly string[]): string {
  return join(table, [compactStamp(partitionDate), shortHash([...newFileKeys].sort().join('\n'))]);
}

/** The execution name of an aggregate-only run over [start, end): `visits_hourly-agg-<start>-<end>-<runId>`. */
export function aggregateRunName(aggregateOrTable: string, start: Date, end: Date, runId: string): string {
  return join(aggregateOrTable, ['agg', compactStamp(start), compactStamp(end), namePart(runId, MAX_RUN_ID)]);
}

/**
 * The execution name of another attempt at a partition whose load (or top-up) failed or was
 * stopped: `visits-20261120T130000-r<8 hex>`, the hash of the partition's listed file identities
 * (key#ETag). The same files dedupe to one attempt; a re-put (new ETag) or a new file is a new one.
 */
export function retryExecutionName(table: string, partitionDate: Date, listedIdentities: readonly string[]): string {
  return join(table, [compactStamp(partitionDate), `r${shortHash([...listedIdentities].sort().join('\n'))}`]);
}

/** Which automatic load an execution name is: a partition's first load, a top-up, or a retry. */
export type AutomaticLoadKind = 'load' | 'top-up' | 'retry';

/** The table, partition and kind an automatic load's execution name stands for. */
export interface AutomaticLoadName {
  table: string;
  partitionDate: Date;
  kind: AutomaticLoadKind;
}

// `-<stamp>` then nothing (load), `-<8 hex>` (top-up) or `-r<8 hex>` (retry).
const AUTOMATIC_SUFFIX = /^-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})?(?:-(r?)([0-9a-f]{8}))?$/;

/**
 * The automatic load `name` stands for, among `tables` (the configured ones), or undefined: an
 * aggregate-only run (`-agg-`), a manual run (`-<runId>`, e.g. `-cli-…`) or a name of no such table.
 * Table names hold no `-` (identifiers), so the table part is what precedes the first `-`; it is
 * matched by recomputing each table's part for this suffix's length (long or unusual names are
 * truncated with a hash), never by guessing.
 */
export function parseAutomaticLoadName(name: string, tables: readonly string[]): AutomaticLoadName | undefined {
  const dash = name.indexOf('-');
  if (dash <= 0) return undefined;
  const suffix = name.slice(dash);
  const m = AUTOMATIC_SUFFIX.exec(suffix);
  if (!m) return undefined;
  const partitionDate = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, m[7] === undefined ? 0 : +m[7]));
  // The stamp must be the one compactStamp writes (no month 13, no explicit 000 milliseconds).
  if (Number.isNaN(partitionDate.getTime()) || suffix !== `-${compactStamp(partitionDate)}${m[9] === undefined ? '' : `-${m[8]}${m[9]}`}`) return undefined;
  const head = name.slice(0, dash);
  const table = tables.find((t) => namePart(t, MAX_EXECUTION_NAME - suffix.length) === head);
  if (table === undefined) return undefined;
  return { table, partitionDate, kind: m[9] === undefined ? 'load' : m[8] === 'r' ? 'retry' : 'top-up' };
}
