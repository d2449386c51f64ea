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
  state: Pick<WarehouseState, 'newestLoaded' | 'partitionLoaded'>;
  flags: LoadFlags;
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
 */
export function decideLoad(args: DecideLoadArgs): Decision {
  const { table, partitionDate, state, flags } = args;
  const date = isoSecond(partitionDate);
  const reload = state.partitionLoaded;
  const load = (reason: string): Decision => ({ action: 'load', reason, reload });
  const skip = (reason: string): Decision => ({ action: 'skip', reason });

  if (state.partitionLoaded) {
    return flags.force
      ? load(`table '${table}': partition ${date} is already loaded; reloading it because of --force (its previous rows are replaced)`)
      : skip(`table '${table}': partition ${date} is already loaded; use --force to reload it`);
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
  if (args.olderPartitions === 'load') return load(`${older}; loading it because the table's olderPartitions policy is 'load'`);
  return skip(`${older}; the table's olderPartitions policy is 'skip'; use --force to load it`);
}
