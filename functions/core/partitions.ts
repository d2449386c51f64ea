/**
 * Partitions of a table from an S3 listing: grouping objects by the date in
 * their key, choosing the partition to load, and deciding whether it is complete.
 */
import type { ForkliftConfig, TableConfig } from './config/schema';
import { isoSecond, partitionEnd } from './dates';
import { PartitionNotFoundError } from './errors';
import { matchKey, tablePattern } from './keys';
import type { Completeness, ObjectInfo, Partition } from './types';

/** An object of a listing that cannot be part of any partition of the table, and why. */
export interface RejectedObject {
  key: string;
  reason: string;
}

/** The result of grouping a listing: the partitions, and the objects left out of them. */
export interface GroupedPartitions {
  /** Partitions sorted by date ascending; files sorted by key; marker apart. */
  partitions: Partition[];
  /** Objects that do not parse (hostile, wrong shape, impossible date, another table...), never mixed in. Callers log them. */
  rejected: RejectedObject[];
}

/**
 * Group a listing of a table's prefix into partitions by the date in each key. Objects that
 * do not belong (see `rejected`) are returned apart, so one bad object never blocks or
 * pollutes a partition; folder placeholders (keys ending in '/') and side files matching the
 * table's `ignore` globs (_SUCCESS, .crc...) are dropped silently. Keys dated outside the
 * table's `keyDates` bounds at `now` are rejected.
 * When two keys give the same date with different spellings (rfc3339 offsets), the
 * lexicographically first partition key wins and the others are rejected.
 */
export function groupPartitions(config: ForkliftConfig, tableName: string, objects: ObjectInfo[], now: Date = new Date()): GroupedPartitions {
  const table = config.tables[tableName];
  if (!table) throw new PartitionNotFoundError(tableName, undefined, 'no such table in the config');
  const granularity = tablePattern(table).granularity;
  const rejected: RejectedObject[] = [];
  const byDate = new Map<number, Partition>();
  const sorted = [...objects].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const matches = sorted.map((o) => ({ object: o, match: matchKey(config, o.key, now) }));
  // Place partitions with the smallest key first, so the winner of a date is deterministic.
  matches.sort((a, b) => {
    const ka = a.match.kind === 'partition' ? a.match.partitionKey : a.object.key;
    const kb = b.match.kind === 'partition' ? b.match.partitionKey : b.object.key;
    return ka < kb ? -1 : ka > kb ? 1 : a.object.key < b.object.key ? -1 : a.object.key > b.object.key ? 1 : 0;
  });
  for (const { object, match } of matches) {
    if (match.kind === 'ignored') {
      // Folder placeholders and side files (_SUCCESS, .crc...) of the table are dropped silently.
      if (!object.key.startsWith(table.prefix) || object.key.startsWith(config.landing.manifestPrefix)) {
        rejected.push({ key: object.key, reason: match.reason });
      }
      continue;
    }
    if (match.kind === 'rejected') {
      rejected.push({ key: object.key, reason: match.reason });
      continue;
    }
    if (match.table !== tableName) {
      rejected.push({ key: object.key, reason: `belongs to table '${match.table}', not '${tableName}'` });
      continue;
    }
    const at = match.partitionDate.getTime();
    let partition = byDate.get(at);
    if (!partition) {
      partition = {
        table: tableName,
        date: match.partitionDate,
        end: partitionEnd(match.partitionDate, granularity),
        key: match.partitionKey,
        files: [],
      };
      byDate.set(at, partition);
    } else if (partition.key !== match.partitionKey) {
      rejected.push({
        key: object.key,
        reason: `partition date ${isoSecond(match.partitionDate)} is already given by '${partition.key}'`,
      });
      continue;
    }
    if (match.isMarker) partition.marker = object;
    else partition.files.push(object);
  }
  const partitions = [...byDate.values()].sort((a, b) => a.date.getTime() - b.date.getTime());
  for (const p of partitions) p.files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  rejected.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { partitions, rejected };
}

/** The partition with the newest date in its key (never by lastModified or listing order); undefined when none. */
export function latestPartition(partitions: readonly Partition[]): Partition | undefined {
  let latest: Partition | undefined;
  for (const p of partitions) if (!latest || p.date.getTime() > latest.date.getTime()) latest = p;
  return latest;
}

/**
 * The partition to load: the one starting exactly at `date` when given, else the latest.
 * Throws PartitionNotFoundError naming the table, the date and the nearest existing partitions.
 */
export function selectPartition(partitions: readonly Partition[], tableName: string, date?: Date): Partition {
  if (date === undefined) {
    const latest = latestPartition(partitions);
    if (!latest) throw new PartitionNotFoundError(tableName, undefined, 'the table has no partitions yet');
    return latest;
  }
  const wanted = date.getTime();
  const exact = partitions.find((p) => p.date.getTime() === wanted);
  if (exact) return exact;
  let before: Partition | undefined;
  let after: Partition | undefined;
  for (const p of partitions) {
    const t = p.date.getTime();
    if (t < wanted && (!before || t > before.date.getTime())) before = p;
    if (t > wanted && (!after || t < after.date.getTime())) after = p;
  }
  const nearest = [before && `${isoSecond(before.date)} (before)`, after && `${isoSecond(after.date)} (after)`].filter(Boolean);
  const detail = nearest.length
    ? `nearest existing partitions: ${nearest.join(', ')}`
    : 'the table has no partitions yet';
  throw new PartitionNotFoundError(tableName, isoSecond(date), detail);
}

/**
 * Whether a partition is complete under its table's rule, at `now`:
 * a marker rule needs the marker file; a quiet rule needs the newest object to be at least
 * `quietSeconds` old (`retryAfterSeconds` says how long to wait). A partition without files is never complete.
 */
export function checkCompleteness(
  tableConfig: Pick<TableConfig, 'completeness'>,
  partition: Partition,
  now: Date,
): Completeness {
  if (partition.files.length === 0) {
    return { complete: false, reason: `partition '${partition.key}' has no data files yet` };
  }
  const rule = tableConfig.completeness;
  if ('marker' in rule) {
    if (partition.marker) return { complete: true };
    return { complete: false, reason: `waiting for the completeness marker '${partition.key}${rule.marker}'` };
  }
  if (rule.quietSeconds === 0) return { complete: true };
  const objects = partition.marker ? [...partition.files, partition.marker] : partition.files;
  const newest = Math.max(...objects.map((o) => o.lastModified.getTime()));
  const quietUntil = newest + rule.quietSeconds * 1000;
  if (quietUntil <= now.getTime()) return { complete: true };
  return {
    complete: false,
    reason:
      `partition '${partition.key}' received an object at ${isoSecond(new Date(newest))}, ` +
      `less than ${rule.quietSeconds}s ago; it counts as complete from ${isoSecond(new Date(quietUntil))}`,
    retryAfterSeconds: Math.max(1, Math.ceil((quietUntil - now.getTime()) / 1000)),
  };
}
