/**
 * Planning one execution of the load state machine, without side effects: from the
 * config, the run's input, a listing of the partition, the warehouse state and the
 * clock, the LoadPlan (`$.plan`) with both rendered transactions, the manifest to write
 * and the statements that must run before the load batch. Prepare runs it and performs
 * the side effects; the CLI's `plan` prints the same SQL without running anything.
 */
import type { ForkliftConfig, TableConfig } from './config/schema';
import { isoSecond, parseDateArgument } from './dates';
import { decideLoad, effectiveMode, fileIdentity, fileLoaded } from './decide';
import { ForkliftError, PartitionNotFoundError } from './errors';
import { tablePattern } from './keys';
import { groupPartitions, selectPartition, checkCompleteness } from './partitions';
import { aggregateScope } from './aggregateRun';
import { aggregatesFedBy } from './sql/aggregate';
import { renderFileList, renderManifest } from './sql/copy';
import { planSchemaChanges } from './sql/evolve';
import { renderLoadBatch, type LoadBatch } from './sql/load';
import type { ExistingTables } from './sql/aggregate';
import { splitGrantees } from './sql/grants';
import { clientToken, expectLoad, expectedSeconds, pollSchedule, type PollingOptions } from './submission';
import type { LoadInput, LoadPlan, ObjectInfo, Partition, StepRef, WarehouseState, WarehouseTarget } from './types';

/** Seconds between DescribeStatement polls on AWS (the local runner shortens Waits). */
export const DEFAULT_POLL_SECONDS = 2;

/** The keys Prepare lists: a partition's folder, or the table's prefix (latest partition, single-object partitions). */
export function listingPrefix(config: ForkliftConfig, input: LoadInput): string {
  const { table } = requireTable(config, input.table);
  if (input.date === undefined || tablePattern(table).kind === 'object') return table.prefix;
  return table.prefix + tablePattern(table).render(parseDateArgument(input.date));
}

/** Where a load's COPY manifest is written: `<manifestPrefix><table>/<loadId>.manifest`. */
export function manifestKey(config: ForkliftConfig, table: string, loadId: string): string {
  return `${config.landing.manifestPrefix}${table}/${loadId}.manifest`;
}

/** Where a load's file list (sql/copy.ts renderFileList) is written, next to its manifest. */
export function fileListKey(config: ForkliftConfig, table: string, loadId: string): string {
  return `${config.landing.manifestPrefix}${table}/${loadId}.files.jsonl`;
}

/** The partition a load input names, chosen from a listing, or why it must wait. */
export type PartitionChoice =
  | { kind: 'partition'; table: string; tableConfig: TableConfig; partition: Partition; completenessOverridden?: string }
  | { kind: 'wait'; table: string; partition: Partition; reason: string; waitSeconds: number };

/**
 * Choose the partition of a load input from `listing` and check its completeness at `now`.
 * A quiet-period partition still receiving objects → `wait`; a missing marker or an empty
 * partition → PartitionNotFoundError (a forced run loads without the marker, never without files).
 */
export function choosePartition(config: ForkliftConfig, input: LoadInput, listing: ObjectInfo[], now: Date): PartitionChoice {
  const { name, table: tableConfig } = requireTable(config, input.table);
  const date = input.date === undefined ? undefined : parseDateArgument(input.date);
  const wanted = input.files === undefined ? listing : restrictToFiles(listing, input.files, name);
  const { partitions } = groupPartitions(config, name, wanted, now);
  if (input.files !== undefined && partitions.length > 1) {
    throw new ForkliftError(
      `table '${name}': the explicit files span ${partitions.length} partitions (${partitions.map((p) => isoSecond(p.date)).join(', ')}); give files of one partition`,
    );
  }
  const partition = selectPartition(partitions, name, date);
  // Explicit files are the operator's choice of what the partition is: no completeness rule applies.
  const completeness = input.files !== undefined ? ({ complete: true } as const) : checkCompleteness(tableConfig, partition, now);
  if (completeness.complete) return { kind: 'partition', table: name, tableConfig, partition };
  if (partition.files.length === 0) {
    throw new PartitionNotFoundError(name, isoSecond(partition.date), completeness.reason);
  }
  if (completeness.retryAfterSeconds !== undefined) {
    return { kind: 'wait', table: name, partition, reason: completeness.reason, waitSeconds: completeness.retryAfterSeconds };
  }
  if (input.force) {
    return { kind: 'partition', table: name, tableConfig, partition, completenessOverridden: completeness.reason };
  }
  throw new PartitionNotFoundError(name, isoSecond(partition.date), `${completeness.reason}; use --force to load it without the marker`);
}

/** What Prepare (or the CLI) needs to plan a load. */
export interface PlanLoadArgs {
  config: ForkliftConfig;
  input: LoadInput;
  /** The execution name: the load id of the audit rows. */
  loadId: string;
  /** When the execution started (audit `started_at`). */
  startedAt: Date;
  /** The time of planning: completeness is judged at it, and a load batch records it as `planned_at`. */
  now: Date;
  /** The objects of the partition (Prepare lists `listingPrefix`, or heads the explicit files). */
  listing: ObjectInfo[];
  /** The warehouse as seen for the chosen partition (discover's `observed`, or a read). */
  state: WarehouseState;
  target: WarehouseTarget;
  pollSeconds?: number;
  /** Expected durations and bounds of the polling schedule (core/submission.ts). */
  polling?: PollingOptions;
  /**
   * The columns of the aggregate tables fed by the table, as read (and created) before the load
   * (adapters/aggregates.ts readAggregateTables): given, the aggregates run inside the load batch
   * when they fit it; absent, they get their own batches after the load (PlanAggregates).
   */
  aggregateTables?: ExistingTables;
}

/**
 * True when the aggregates fed by `table` may run inside its load batch (Prepare then reads their
 * tables before planning): every one declarative. Whether they fit the batch is decided by planLoad.
 */
export function aggregatesInLoadCandidate(config: ForkliftConfig, table: string): boolean {
  const fed = aggregatesFedBy(config, table);
  return fed.length > 0 && fed.every((a) => config.aggregates[a]!.sql === undefined);
}

/** A plan and the side effects Prepare performs before returning it. */
export interface PlanResult {
  plan: LoadPlan;
  /** The COPY manifest to write before the load batch runs (load plans only). */
  manifest?: { key: string; body: string };
  /** The file list the load batch COPYs into its file-list temp table (load plans whose list is too long to inline). */
  fileList?: { key: string; body: string };
  /** Statements to run, each on its own, before the load batch (VARCHAR widening: not allowed in a transaction). */
  preStatements: string[];
  /** Configured readOnlyGroups the warehouse lacks: the load does not grant to them (Prepare warns). */
  missingGrantees?: string[];
}

/**
 * The state machine's two polling loops: each follows a schedule that starts at the batch's
 * expected duration (the load's: what the table's recent loads took, else from the bytes it loads)
 * and backs off geometrically (core/submission.ts), so completion is noticed soon after it happens
 * and a long statement costs few transitions. Also the submission attempts the conflict
 * resubmission counts.
 */
function pollWaits(
  pollSeconds: number,
  loadBytes: number,
  polling: PollingOptions = {},
  pastSeconds: readonly number[] = [],
): Pick<LoadPlan, 'loadWait' | 'aggregateWait' | 'loadPolls' | 'aggregatePolls' | 'attempts'> {
  const options = { minSeconds: pollSeconds, ...polling };
  const loadPolls = pollSchedule(expectLoad(loadBytes, pastSeconds, options), options);
  const aggregatePolls = pollSchedule(expectedSeconds(0, options), options);
  return {
    loadWait: { seconds: loadPolls[0]!, index: 0 },
    aggregateWait: { seconds: aggregatePolls[0]!, index: 0 },
    loadPolls,
    aggregatePolls,
    attempts: { load: 1, aggregate: 1, wait: 0 },
  };
}

/** Plan a load: wait, skip (with the rules' reason) or load (+ aggregates fed by the table). */
export function planLoad(args: PlanLoadArgs): PlanResult {
  const { config, input, loadId, target } = args;
  const pollSeconds = args.pollSeconds ?? DEFAULT_POLL_SECONDS;
  const choice = choosePartition(config, input, args.listing, args.now);
  const base = {
    loadId,
    table: choice.table,
    partitionDate: choice.partition.date.toISOString(),
    partitionKey: choice.partition.key,
    files: choice.partition.files.length,
    bytes: choice.partition.files.reduce((sum, f) => sum + f.size, 0),
    pollSeconds,
    ...pollWaits(pollSeconds, choice.partition.files.reduce((sum, f) => sum + f.size, 0), args.polling, args.state.recentLoadSeconds),
    steps: [] as StepRef[],
  };
  if (choice.kind === 'wait') {
    return { plan: { ...base, action: 'wait', reason: choice.reason, waitSeconds: choice.waitSeconds }, preStatements: [] };
  }
  const { table, tableConfig } = choice;
  let partition = choice.partition;
  const flags = { force: input.force === true, truncate: input.truncate === true };
  const mode = effectiveMode(tableConfig.mode, flags);
  const decision = decideLoad({
    table,
    mode: tableConfig.mode,
    olderPartitions: tableConfig.olderPartitions,
    partitionDate: partition.date,
    state: args.state,
    flags,
    listedKeys: partition.files.map(fileIdentity),
  });
  if (decision.action === 'skip') {
    return { plan: { ...base, mode, action: 'skip', reason: decision.reason }, preStatements: [] };
  }
  if (decision.newFilesOnly === true) {
    // An append top-up: the manifest, the ledger rows and the counts are the files the ledger does not hold.
    const loaded = args.state.loadedFiles ?? new Set<string>();
    partition = { ...partition, files: partition.files.filter((f) => !fileLoaded(fileIdentity(f), loaded)) };
    base.files = partition.files.length;
    base.bytes = partition.files.reduce((sum, f) => sum + f.size, 0);
  }
  const reason = choice.completenessOverridden
    ? `${decision.reason} (${choice.completenessOverridden}: loading anyway because of --force)`
    : decision.reason;

  const changes = planSchemaChanges(table, tableConfig, args.state.columns);
  const grantees = splitGrantees(tableConfig.readOnlyGroups, args.state.existingGroups);
  const key = manifestKey(config, table, loadId);
  const manifestUrl = `s3://${config.landing.bucketName}/${key}`;
  const listKey = fileListKey(config, table, loadId);
  const loadArgs = {
    config,
    table,
    loadId,
    partition,
    manifestUrl,
    fileListUrl: `s3://${config.landing.bucketName}/${listKey}`,
    mode,
    reload: decision.reload,
    force: flags.force,
    reason,
    addColumns: changes.addColumns,
    grantGroups: grantees.granted,
    startedAt: args.startedAt,
    plannedAt: args.now,
  };
  const fed = aggregatesFedBy(config, table);
  let load: LoadBatch | undefined;
  if (fed.length > 0 && args.aggregateTables !== undefined && aggregatesInLoadCandidate(config, table)) {
    try {
      // One transaction, one polling loop: the aggregates inside the load batch when they fit its 40 SQLs and 100 KB.
      load = renderLoadBatch({
        ...loadArgs,
        aggregates: { names: fed, existing: args.aggregateTables, ...(args.state.existingGroups ? { existingGroups: args.state.existingGroups } : {}) },
      });
    } catch (err) {
      if (!(err instanceof ForkliftError)) throw err;
    }
  }
  const inLoad = load !== undefined;
  load ??= renderLoadBatch(loadArgs);
  const plan: LoadPlan = {
    ...base,
    action: 'load',
    reason,
    mode,
    loadRequest: { ...target, Sqls: load.sqls, StatementName: loadId, ClientToken: clientToken(loadId, 'load', 1) },
    outcomeStatement: load.outcomeStatement,
    steps: [...load.steps],
  };
  // Otherwise the aggregate batches are planned after the load commits (PlanAggregates), from pending work.
  if (fed.length > 0 && !inLoad) plan.aggregates = fed;
  // Groups not granted for lack of existence: the table's, and those of the aggregates granted in this batch.
  const missingGrantees = [
    ...new Set([...grantees.missing, ...(inLoad ? fed.flatMap((a) => splitGrantees(config.aggregates[a]!.readOnlyGroups, args.state.existingGroups).missing) : [])]),
  ];
  return {
    plan,
    manifest: { key, body: renderManifest(config.landing.bucketName, partition.files) },
    ...(load.readsFileList ? { fileList: { key: listKey, body: renderFileList(partition.files) } } : {}),
    preStatements: [...changes.widenVarchar],
    ...(missingGrantees.length ? { missingGrantees } : {}),
  };
}

/** What an aggregate-only run needs. */
export interface PlanAggregateArgs {
  config: ForkliftConfig;
  input: LoadInput;
  loadId: string;
  target: WarehouseTarget;
  pollSeconds?: number;
  polling?: PollingOptions;
}

/**
 * Plan an aggregate-only run: recompute `aggregates` (default: every one fed by `table`) over
 * [start, end) if given, then their pending work. The batches are rendered by PlanAggregates.
 */
export function planAggregate(args: PlanAggregateArgs): PlanResult {
  const { config, input, loadId } = args;
  if ((input.start === undefined) !== (input.end === undefined)) {
    throw new ForkliftError('an aggregate-only run needs both start and end, or neither (pending work only)');
  }
  const start = input.start === undefined ? undefined : parseDateArgument(input.start);
  const end = input.end === undefined ? undefined : parseDateArgument(input.end);
  if (start && end && end.getTime() <= start.getTime()) {
    throw new ForkliftError(`aggregate-only run: end ${isoSecond(end)} must be after start ${isoSecond(start)}`);
  }
  const aggregates = aggregateScope(config, input);
  if (aggregates.length === 0) throw new ForkliftError(`table '${input.table}' feeds no aggregate`);
  const plan: LoadPlan = {
    action: 'aggregate',
    reason:
      start && end
        ? `recomputing ${aggregates.join(', ')} for [${isoSecond(start)}, ${isoSecond(end)}), then their pending work`
        : `the pending work of ${aggregates.join(', ')}`,
    loadId,
    pollSeconds: args.pollSeconds ?? DEFAULT_POLL_SECONDS,
    ...pollWaits(args.pollSeconds ?? DEFAULT_POLL_SECONDS, 0, args.polling),
    aggregates,
    steps: [],
  };
  if (input.table !== undefined) plan.table = input.table;
  return { plan, preStatements: [] };
}

/** Plan any execution input: aggregate-only runs, or loads. */
export function planExecution(args: PlanLoadArgs): PlanResult {
  return args.input.aggregateOnly === true ? planAggregate(args) : planLoad(args);
}

function requireTable(config: ForkliftConfig, table: string | undefined): { name: string; table: TableConfig } {
  if (table === undefined) throw new ForkliftError('the input names no table');
  const t = config.tables[table];
  if (!t) {
    throw new ForkliftError(`unknown table '${table}'; the config has ${Object.keys(config.tables).map((n) => `'${n}'`).join(', ')}`);
  }
  return { name: table, table: t };
}

function restrictToFiles(listing: ObjectInfo[], files: string[], table: string): ObjectInfo[] {
  const byKey = new Map(listing.map((o) => [o.key, o]));
  const missing = files.filter((f) => !byKey.has(f));
  if (missing.length) {
    throw new PartitionNotFoundError(table, undefined, `explicit files not found: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`);
  }
  return files.map((f) => byKey.get(f)!);
}
