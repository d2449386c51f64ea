/**
 * The load rules: given what the warehouse holds and what the operator asked,
 * load this partition or skip it, with a reason a person can act on. The same
 * rules are re-checked inside the load transaction (the guard).
 */
import type { LoadMode } from './config/schema';
import { isoSecond } from './dates';
import type { Decision, LoadFlags, WarehouseState } from './types';

/** What decideLoad needs to know. */
export interface DecideLoadArgs {
  table: string;
  mode: LoadMode;
  olderPartitions: 'skip' | 'load';
  partitionDate: Date;
  state: Pick<WarehouseState, 'newestLoaded' | 'newestData' | 'partitionLoaded' | 'loadedFiles'>;
  flags: LoadFlags;
  /**
   * The identities ({@link fileIdentity}) of the partition's files as listed now. With
   * `state.loadedFiles`, an already loaded partition whose listing has files the ledger does not
   * hold (new keys, or keys re-put with new content) is topped up instead of skipped.
   * Omitted (or no ledger): the partition-level rule only.
   */
  listedKeys?: readonly string[];
}

/**
 * A file's identity in the ledger: `key#etag` (`#` is outside the safe key set, so the split is
 * unambiguous), or the bare key when the ETag is unknown. The same key with new content is a new file.
 */
export function fileIdentity(file: { key: string; etag?: string }): string {
  return file.etag ? `${file.key}#${file.etag}` : file.key;
}

/** The key of a {@link fileIdentity}. */
export function identityKey(identity: string): string {
  const at = identity.indexOf('#');
  return at < 0 ? identity : identity.slice(0, at);
}

/** True when the ledger holds this version of the file (a ledger row without an ETag, written before ETags were recorded, holds every version). */
export function fileLoaded(identity: string, loadedFiles: ReadonlySet<string>): boolean {
  return loadedFiles.has(identity) || loadedFiles.has(identityKey(identity));
}

/** The listed identities the ledger does not hold (new keys and changed contents, sorted); [] when either is unknown. */
export function newFiles(listedKeys: readonly string[] | undefined, loadedFiles: ReadonlySet<string> | undefined): string[] {
  if (listedKeys === undefined || loadedFiles === undefined) return [];
  return [...new Set(listedKeys.filter((k) => !fileLoaded(k, loadedFiles)))].sort();
}

/** The listed identities whose key the ledger holds with other content (re-put objects, sorted). */
export function changedFiles(listedKeys: readonly string[] | undefined, loadedFiles: ReadonlySet<string> | undefined): string[] {
  if (listedKeys === undefined || loadedFiles === undefined) return [];
  const keys = new Set([...loadedFiles].map(identityKey));
  return newFiles(listedKeys, loadedFiles).filter((id) => keys.has(identityKey(id)));
}

/** The mode this run loads with: the table's mode, or `truncate` when the run's truncate flag is set. */
export function effectiveMode(mode: LoadMode, flags: Pick<LoadFlags, 'truncate'>): LoadMode {
  return flags.truncate ? 'truncate' : mode;
}

/**
 * Load or skip one partition. An empty table loads; an already loaded partition is skipped
 * unless forced (then reloaded); a newer partition loads; an older one loads when forced, is
 * skipped for snapshots (truncate mode or flag: truncate never implies force), and otherwise
 * follows the table's `olderPartitions` policy. `reload` is true when the partition was loaded before.
 *
 * Top-ups (the file ledger is the source of truth): an already loaded partition whose listing
 * has files the ledger does not hold loads again, unforced. Append loads only those files
 * (`newFilesOnly`, no reload: nothing is deleted); replace, merge and truncate reload the whole
 * partition (idempotent). Merge and snapshots of an older partition follow the older-partition
 * rules (a top-up must not put older rows over newer ones); append and replace top up at any age.
 */
export function decideLoad(args: DecideLoadArgs): Decision {
  const { table, partitionDate, state, flags } = args;
  const date = isoSecond(partitionDate);
  const reload = state.partitionLoaded;
  const load = (reason: string): Decision => ({ action: 'load', reason, reload });
  const skip = (reason: string): Decision => ({ action: 'skip', reason });

  if (state.partitionLoaded) {
    if (flags.force) {
      return load(`table '${table}': partition ${date} is already loaded; reloading it because of --force (its previous rows are replaced)`);
    }
    const arrived = newFiles(args.listedKeys, state.loadedFiles).length;
    if (arrived === 0) return skip(`table '${table}': partition ${date} is already loaded; use --force to reload it`);
    const changed = changedFiles(args.listedKeys, state.loadedFiles).length;
    const mode = effectiveMode(args.mode, flags);
    const what =
      changed === 0
        ? `table '${table}': ${arrived} new file${arrived === 1 ? '' : 's'} arrived for partition ${date}, already loaded`
        : `table '${table}': ${changed} file${changed === 1 ? ' was' : 's were'} put again with new content${arrived > changed ? ` and ${arrived - changed} new arrived` : ''} for partition ${date}, already loaded`;
    if (mode === 'append' && changed === 0) return { action: 'load', reason: `${what}: loading them`, reload: false, newFilesOnly: true };
    if (mode === 'append') {
      // Append rows carry only their partition: a changed file's old rows go with a reload of the whole partition.
      return load(`${what}: reloading the partition (append mode: its rows are replaced by the current files)`);
    }
    const older = state.newestLoaded !== undefined && partitionDate.getTime() < state.newestLoaded.getTime();
    if (!older || mode === 'replace') return load(`${what}: reloading the partition (${mode} mode: its previous rows are replaced)`);
    const newest = isoSecond(state.newestLoaded!);
    if (mode === 'truncate') {
      return skip(`${what}, but older than the newest loaded snapshot ${newest}; a snapshot is replaced only by a newer one; use --force to load it anyway`);
    }
    if (mode === 'merge') return load(`${what}, older than the newest loaded partition ${newest}: ${MERGE_OLDER}`);
    if (args.olderPartitions === 'load') {
      return load(`${what}, older than the newest loaded partition ${newest}: reloading it because the table's olderPartitions policy is 'load'`);
    }
    return skip(`${what}, but older than the newest loaded partition ${newest}; the table's olderPartitions policy is 'skip'; use --force to reload it`);
  }
  if (state.newestLoaded === undefined && state.newestData !== undefined) {
    return decideAdopted(args, state.newestData);
  }
  if (state.newestLoaded === undefined) {
    return load(`table '${table}' has no loaded partition yet: loading ${date}`);
  }
  const newest = isoSecond(state.newestLoaded);
  if (partitionDate.getTime() > state.newestLoaded.getTime()) {
    return load(`table '${table}': partition ${date} is newer than the newest loaded partition ${newest}`);
  }
  if (partitionDate.getTime() === state.newestLoaded.getTime()) {
    return load(`table '${table}': partition ${date} has the newest loaded date but no successful load of its own: loading it`);
  }
  const older = `table '${table}': partition ${date} is older than the newest loaded partition ${newest}`;
  if (flags.force) return load(`${older}; loading it because of --force`);
  if (effectiveMode(args.mode, flags) === 'truncate') {
    return skip(`${older}; a snapshot is replaced only by a newer one (truncate does not imply force); use --force to load it anyway`);
  }
  if (effectiveMode(args.mode, flags) === 'merge') return load(`${older}; ${MERGE_OLDER}`);
  if (args.olderPartitions === 'load') return load(`${older}; loading it because the table's olderPartitions policy is 'load'`);
  return skip(`${older}; the table's olderPartitions policy is 'skip'; use --force to load it`);
}

/**
 * Merge is newest-wins per key (sql/load.ts), so an older partition is always loaded: it cannot
 * put an older row over a newer one, and skipping it would lose the keys only it has.
 */
const MERGE_OLDER = 'loading it: merge is newest-wins per key, so only its new keys and rows newer than the stored ones land';

/**
 * A table Forklift adopts: it holds data but has no loaded partition in the audit. Its newest data
 * (the partition period of the MAX of its data-date column) stands in for the newest loaded
 * partition: a partition before that period is older and follows the same rules; that period and
 * later ones load.
 */
function decideAdopted(args: DecideLoadArgs, newestData: Date): Decision {
  const { table, partitionDate, flags } = args;
  const date = isoSecond(partitionDate);
  const holds = `table '${table}' has no partition loaded by Forklift but holds data up to the partition ${isoSecond(newestData)} (the newest value of its data-date column)`;
  if (partitionDate.getTime() >= newestData.getTime()) {
    return { action: 'load', reason: `${holds}: partition ${date} is not older, loading it`, reload: false };
  }
  const older = `${holds}: partition ${date} is older`;
  if (flags.force) return { action: 'load', reason: `${older}; loading it because of --force`, reload: false };
  if (effectiveMode(args.mode, flags) === 'truncate') {
    return { action: 'skip', reason: `${older}; a snapshot is replaced only by a newer one (truncate does not imply force); use --force to load it anyway` };
  }
  if (effectiveMode(args.mode, flags) === 'merge') return { action: 'load', reason: `${older}; ${MERGE_OLDER}`, reload: false };
  if (args.olderPartitions === 'load') return { action: 'load', reason: `${older}; loading it because the table's olderPartitions policy is 'load'`, reload: false };
  return { action: 'skip', reason: `${older}; the table's olderPartitions policy is 'skip'; use --force to load it` };
}
