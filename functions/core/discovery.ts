/**
 * What to do about one (table, partition) an S3 event mentioned, without side effects: is a
 * load of it running (come back later), which of its listed objects make it up, is it
 * complete, what do the load rules decide, and under which execution name to start it. The
 * discover handler lists, reads the state and starts; the aggregate sweep reuses the same rules.
 *
 * Execution names are deterministic, so duplicate events start nothing new: the partition's
 * name for a first load, a top-up name (hash of the new file versions) once it is loaded,
 * and a retry name (hash of every listed file version) once the primary name failed. A failed
 * partition is therefore attempted again as soon as its listing changes (a new file, or a
 * re-put with a new ETag), and once more for an unchanged listing (a transient failure).
 */
import type { ForkliftConfig } from './config/schema';
import { isoSecond } from './dates';
import { decideLoad, fileIdentity, newFiles } from './decide';
import { executionName, parseAutomaticLoadName, retryExecutionName, topUpExecutionName } from './names';
import { checkCompleteness, groupPartitions } from './partitions';
import type { ObjectInfo, Partition, WarehouseState } from './types';

/** The running execution of this partition (its name, a top-up or a retry), if any. */
export function busyExecution(table: string, partitionDate: Date, running: Iterable<string>): string | undefined {
  const base = executionName(table, partitionDate);
  for (const name of running) if (name === base || name.startsWith(`${base}-`)) return name;
  return undefined;
}

/** What {@link planPartitionStart} needs. */
export interface PartitionStartArgs {
  config: ForkliftConfig;
  table: string;
  partitionDate: Date;
  /** The objects listed under the partition's key now. */
  listing: ObjectInfo[];
  /** The warehouse as read for this partition (with the file ledger and failed loads). */
  state: WarehouseState;
  now: Date;
}

/** Start `name`; when it is taken by a finished failure, `retryName` (when different). */
export type PartitionStart =
  | { action: 'start'; name: string; retryName: string; reason: string; partition: Partition }
  | {
      action: 'skip';
      reason: string;
      /** `rules`: the load rules said skip (counted as LoadsSkipped); otherwise nothing to load yet or any more. */
      why: 'gone' | 'incomplete' | 'rules' | 'failed';
    };

/** Group, check completeness, decide and name: whether (and as what) to start a load of the partition. */
export function planPartitionStart(args: PartitionStartArgs): PartitionStart {
  const { config, table, partitionDate, state } = args;
  const tableConfig = config.tables[table]!;
  const partition = groupPartitions(config, table, args.listing, args.now).partitions.find((p) => p.date.getTime() === partitionDate.getTime());
  const at = `table '${table}': partition ${isoSecond(partitionDate)}`;
  if (!partition) return { action: 'skip', why: 'gone', reason: `${at} has no objects any more; nothing to load` };
  const completeness = checkCompleteness(tableConfig, partition, args.now);
  // A quiet-period partition starts anyway: Prepare waits inside the execution, and the name dedupes.
  if (!completeness.complete && completeness.retryAfterSeconds === undefined) {
    return { action: 'skip', why: 'incomplete', reason: `${at} is not complete yet (${completeness.reason}); its marker event will trigger the load` };
  }
  const listed = partition.files.map(fileIdentity);
  const decision = decideLoad({
    table,
    mode: tableConfig.mode,
    olderPartitions: tableConfig.olderPartitions,
    partitionDate,
    state,
    flags: { force: false, truncate: false },
    listedKeys: listed,
  });
  if (decision.action === 'skip') return { action: 'skip', why: 'rules', reason: decision.reason };
  // A top-up is named after its new file versions: duplicate events for them dedupe, other files start anew.
  const primary = state.partitionLoaded ? topUpExecutionName(table, partitionDate, newFiles(listed, state.loadedFiles)) : executionName(table, partitionDate);
  const retry = retryExecutionName(table, partitionDate, listed);
  const failed = state.failedLoads ?? new Set<string>();
  if (!failed.has(primary)) return { action: 'start', name: primary, retryName: retry, reason: decision.reason, partition };
  if (failed.has(retry)) {
    return {
      action: 'skip',
      why: 'failed',
      reason:
        `${at}: its loads ${primary} and ${retry} failed with these exact files; ` +
        'put a fixed file (or a new one) to try again, or run forklift reload',
    };
  }
  return { action: 'start', name: retry, retryName: retry, reason: `${decision.reason} (attempt after the failed load ${primary})`, partition };
}

/** An execution that already holds a name, as DescribeExecution reports it. */
export interface ExistingExecution {
  status: string;
  stopDate?: Date;
}

/**
 * What a taken name means: `redeliver` while it runs (or when it stopped after the state was
 * read at `checkedAt`: it may not hold every listed file, come back once it committed),
 * `retry` when it failed, timed out or was stopped (its files are not loaded), `handled` when it succeeded.
 */
export function nameTaken(existing: ExistingExecution, checkedAt: Date): 'redeliver' | 'retry' | 'handled' {
  if (existing.status === 'RUNNING') return 'redeliver';
  if (existing.stopDate !== undefined && existing.stopDate.getTime() >= checkedAt.getTime()) return 'redeliver';
  return existing.status === 'SUCCEEDED' ? 'handled' : 'retry';
}

/**
 * The one message that comes back for a partition whose load is running: every event of a
 * partition asks the same thing (list it once that load committed, and load what it lacks), so one
 * redelivered message stands for all of them, and the others are deleted. Redelivering every one
 * multiplied the work of a busy partition (a listing and a ledger read per redelivered batch) by
 * its events, at every visibility timeout. The message received the fewest times is kept: it has
 * the most receives left before the dead-letter queue.
 */
export function representativeMessage(messages: ReadonlyMap<string, number>): string | undefined {
  let best: [string, number] | undefined;
  for (const [id, receives] of messages) if (best === undefined || receives < best[1]) best = [id, receives];
  return best?.[0];
}

/** An execution that ended without succeeding (ABORTED, FAILED, TIMED_OUT), as ListExecutions lists it. */
export interface UnfinishedExecution {
  name: string;
  startDate: Date;
}

/** A partition whose automatic loads ended without succeeding: their names, newest first. */
export interface SweepCandidate {
  table: string;
  partitionDate: Date;
  /** The start of its newest unfinished execution. */
  newest: Date;
  executions: string[];
}

/**
 * The load sweep's partitions from the unfinished executions of every status: only automatic
 * loads of enabled configured tables (by name: {@link parseAutomaticLoadName}; aggregate-only and
 * manual runs are a person's to repeat), one entry per partition, the partition with the newest
 * unfinished execution first (ties: by table, then partition, so the order is stable).
 */
export function sweepCandidates(config: ForkliftConfig, executions: readonly UnfinishedExecution[]): SweepCandidate[] {
  const tables = Object.keys(config.tables).filter((t) => config.tables[t]!.enabled !== false);
  const byPartition = new Map<string, SweepCandidate & { dated: UnfinishedExecution[] }>();
  for (const e of executions) {
    const parsed = parseAutomaticLoadName(e.name, tables);
    if (!parsed) continue;
    const id = `${parsed.table}\u0000${parsed.partitionDate.getTime()}`;
    let c = byPartition.get(id);
    if (!c) byPartition.set(id, (c = { table: parsed.table, partitionDate: parsed.partitionDate, newest: e.startDate, executions: [], dated: [] }));
    c.dated.push(e);
    if (e.startDate.getTime() > c.newest.getTime()) c.newest = e.startDate;
  }
  return [...byPartition.values()]
    .sort((a, b) => b.newest.getTime() - a.newest.getTime() || a.table.localeCompare(b.table) || a.partitionDate.getTime() - b.partitionDate.getTime())
    .map(({ dated, ...c }) => ({ ...c, executions: [...dated].sort((a, b) => b.startDate.getTime() - a.startDate.getTime()).map((e) => e.name) }));
}
