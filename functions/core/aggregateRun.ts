/**
 * Planning the aggregate batches of an execution, after its load committed (or for an
 * aggregate-only run): PlanAggregates (Prepare's `aggregates` phase) reads the pending work
 * and the aggregate tables' columns, then this renders the next batch. The state machine
 * loops: submit, wait, plan again, until nothing is pending (or MAX_AGGREGATE_BATCHES).
 * Each batch marks the loads it covered, so a batch that fails or never runs leaves its
 * work pending for the next run or the sweep.
 */
import { rootTable } from './config/crossChecks';
import type { ForkliftConfig } from './config/schema';
import { isoSecond, parseDateArgument } from './dates';
import { ForkliftError } from './errors';
import {
  aggregatesFedBy,
  renderAggregateBatch,
  type AggregateWork,
  type ExistingTables,
  type PendingHour,
} from './sql/aggregate';
import { clientToken } from './submission';
import type { BatchRequest, LoadInput, StepRef, WarehouseTarget } from './types';

/** Batches one execution runs before leaving the rest to the next run or the sweep. */
export const MAX_AGGREGATE_BATCHES = 20;
/** Loads marked done per batch (keeps the marks INSERT far under 100 KB). */
export const MAX_LOADS_PER_BATCH = 80;
/**
 * A load execution takes its own load's work and the work of loads that committed at least
 * this long ago (their execution died, or its aggregate batch failed). Fresher work of
 * other loads is left to their own executions, so a burst of loads does not recompute
 * each other's hours. Aggregate-only runs (the sweep, backfills) take all pending work.
 */
export const STALE_PENDING_MINUTES = 5;
/**
 * Stale loads of others a load execution takes at most (the oldest first): when many loads
 * finish at once on a slow warehouse, work turns stale while its own executions still queue,
 * and every execution taking all of it would recompute the same hours again and again.
 */
export const MAX_STALE_LOADS_PER_LOAD_RUN = 4;

/** `$.aggregatePlan`: the next aggregate batch, if any, and the loop's cursor. */
export interface AggregatePlan {
  /** Batches planned so far by this execution (this one included). */
  iteration: number;
  /** Range runs: aggregates of the range not yet recomputed. */
  rangeRemaining?: string[];
  /** The next batch; absent when there is nothing (more) to do. */
  request?: BatchRequest;
  /** True when work seen while planning did not fit this batch: plan again after it commits. */
  more?: boolean;
  steps: StepRef[];
  /** What this batch covers, for logs and Report. */
  covered: string[];
  reason: string;
  /** Pending loads (distinct) seen for the execution's aggregates when planning. */
  pendingLoads: number;
  /** Columns added to existing fact tables: history needs a backfill (one command per aggregate). */
  backfills?: string[];
  /** readOnlyGroups of the covered aggregates missing from the warehouse: this batch does not grant to them. */
  skippedGroups?: string[];
  /** Steps of the batches this execution already committed (kind, name, rows, seconds), for Report. */
  done?: Array<{ kind: StepRef['kind']; name: string; rows: number; seconds: number }>;
}

/** The aggregates an execution is about: those named, or every one fed by its table, in dependency order. */
export function aggregateScope(config: ForkliftConfig, input: Pick<LoadInput, 'table' | 'aggregates'>): string[] {
  if (input.aggregates !== undefined && input.aggregates.length > 0) {
    const unknown = input.aggregates.filter((a) => config.aggregates[a] === undefined);
    if (unknown.length) {
      throw new ForkliftError(
        `unknown aggregate${unknown.length > 1 ? 's' : ''} ${unknown.map((a) => `'${a}'`).join(', ')}; the config has ${Object.keys(config.aggregates).map((a) => `'${a}'`).join(', ') || 'none'}`,
      );
    }
    const wanted = new Set(input.aggregates);
    const roots = new Set(input.aggregates.map((a) => rootTable(config, a)!));
    return [...roots].flatMap((t) => aggregatesFedBy(config, t)).filter((a) => wanted.has(a));
  }
  if (input.table === undefined) throw new ForkliftError('an aggregate run needs a table or aggregates');
  if (!config.tables[input.table]) throw new ForkliftError(`unknown table '${input.table}'`);
  return aggregatesFedBy(config, input.table);
}

/**
 * Pending work is always planned for whole trees (every aggregate of the root tables in
 * scope): an aggregate built on another must not be marked done before its source was.
 */
export function pendingScope(config: ForkliftConfig, scope: readonly string[]): string[] {
  const roots = [...new Set(scope.map((a) => rootTable(config, a)!))];
  return roots.flatMap((t) => aggregatesFedBy(config, t));
}

/** What planning the next batch needs. */
export interface PlanAggregateBatchArgs {
  config: ForkliftConfig;
  input: LoadInput;
  /** The execution name (StatementName). */
  loadId: string;
  target: WarehouseTarget;
  /** The previous `$.aggregatePlan` of this execution, if any. */
  previous?: Pick<AggregatePlan, 'iteration' | 'rangeRemaining' | 'done'>;
  /** The previous batch's steps as Report summarizes them (it committed: the loop only comes back on FINISHED). */
  finished?: AggregatePlan['done'];
  pending: readonly PendingHour[];
  existing: ExistingTables;
  /** The aggregates' groups found in pg_group, when read: the batch grants to these only. */
  existingGroups?: ReadonlySet<string>;
  now: Date;
}

/** The next batch of an execution (range work first, then pending work), or none. */
export function planAggregateBatch(args: PlanAggregateBatchArgs): AggregatePlan {
  const { config, input } = args;
  const iteration = (args.previous?.iteration ?? 0) + 1;
  const scope = aggregateScope(config, input);
  const done = [...(args.previous?.done ?? []), ...(args.finished ?? [])];
  const base = {
    iteration,
    steps: [] as StepRef[],
    covered: [] as string[],
    ...(done.length ? { done } : {}),
  };
  const pendingLoads = new Set(args.pending.map((p) => p.loadId)).size;

  if (iteration > MAX_AGGREGATE_BATCHES) {
    return { ...base, pendingLoads, reason: `stopped after ${MAX_AGGREGATE_BATCHES} batches; the rest stays pending for the next run or the sweep` };
  }

  const range = input.start !== undefined && input.end !== undefined ? { start: parseDateArgument(input.start), end: parseDateArgument(input.end) } : undefined;
  if (range && !(range.start.getTime() < range.end.getTime())) {
    throw new ForkliftError(`aggregate-only run: end ${isoSecond(range.end)} must be after start ${isoSecond(range.start)}`);
  }
  const rangeTodo = range ? (args.previous?.rangeRemaining ?? (args.previous ? [] : scope)) : [];
  let work: AggregateWork[];
  let loads: Map<string, string[]> | undefined;
  let reason: string;
  let more = false;
  if (range && rangeTodo.length > 0) {
    work = rangeTodo.map((aggregate) => ({ aggregate, range }));
    reason = `recomputing [${isoSecond(range.start)}, ${isoSecond(range.end)})`;
  } else {
    // The oldest pending loads first, at most MAX_LOADS_PER_BATCH of them.
    const inScope = new Set(pendingScope(config, scope));
    const staleBefore = args.now.getTime() - STALE_PENDING_MINUTES * 60_000;
    const rows = args.pending.filter(
      (p) =>
        inScope.has(p.aggregate) &&
        (input.aggregateOnly === true || p.loadId === args.loadId || (p.loadedAt !== undefined && p.loadedAt.getTime() <= staleBefore)),
    );
    let order = [...new Map(rows.map((p) => [p.loadId, p.loadedAt?.getTime() ?? 0])).entries()].sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : 1));
    if (input.aggregateOnly !== true) {
      // A load run: its own load, and at most MAX_STALE_LOADS_PER_LOAD_RUN stale ones (the sweep takes the rest).
      order = [...order.filter(([id]) => id === args.loadId), ...order.filter(([id]) => id !== args.loadId).slice(0, MAX_STALE_LOADS_PER_LOAD_RUN)];
    }
    const take = new Set(order.slice(0, MAX_LOADS_PER_BATCH).map(([id]) => id));
    const hours = new Map<string, Date[]>();
    loads = new Map();
    for (const p of rows) {
      if (!take.has(p.loadId)) continue;
      hours.set(p.aggregate, [...(hours.get(p.aggregate) ?? []), p.hour]);
      const ids = loads.get(p.aggregate) ?? [];
      if (!ids.includes(p.loadId)) ids.push(p.loadId);
      loads.set(p.aggregate, ids);
    }
    work = [...inScope].filter((a) => hours.has(a)).map((aggregate) => ({ aggregate, hours: hours.get(aggregate)! }));
    reason = `pending work of ${take.size} load${take.size === 1 ? '' : 's'}`;
    more = order.length > take.size;
  }
  if (work.length === 0) return { ...base, pendingLoads, reason: 'no pending aggregate work' };

  const batch = renderAggregateBatch({
    config, work, ...(loads ? { loads } : {}), existing: args.existing, now: args.now, ...(args.existingGroups ? { existingGroups: args.existingGroups } : {}),
  });
  const plan: AggregatePlan = {
    ...base,
    pendingLoads,
    request: {
      ...args.target,
      Sqls: batch.sqls,
      StatementName: `${args.loadId}-agg${iteration}`.slice(0, 500),
      // The first batch's token is the first aggregate attempt's (core/submission.ts); later batches get their own
      // (a conflict resubmission hashes attempts 2..5 of the execution's counter, so none collides).
      ClientToken: clientToken(args.loadId, 'aggregate', iteration === 1 ? 1 : 1000 + iteration),
    },
    steps: batch.steps,
    covered: batch.covered,
    reason: `${reason}: ${batch.covered.join(', ')}`,
  };
  if (range && rangeTodo.length > 0) plan.rangeRemaining = batch.remaining;
  if (batch.skippedGroups.length) plan.skippedGroups = batch.skippedGroups;
  // Another batch when aggregates did not fit, loads were left out, or a range run goes on to its pending work.
  if (batch.remaining.length > 0 || more || (range && rangeTodo.length > 0)) plan.more = true;
  if (batch.addedColumns.length) {
    plan.backfills = batch.addedColumns.map(
      (c) => `forklift backfill --aggregate ${c.aggregate} --start-date <first day of history> --end-date <today>  # new column(s) ${c.columns.join(', ')}`,
    );
  }
  return plan;
}

/** The batches a load's pending `hours` would take for `aggregates` (tables assumed missing): for `forklift plan`. */
export function previewAggregateBatches(config: ForkliftConfig, aggregates: readonly string[], hours: readonly Date[]): string[][] {
  const out: string[][] = [];
  let work: AggregateWork[] = aggregates.map((aggregate) => ({ aggregate, hours }));
  while (work.length > 0) {
    const batch = renderAggregateBatch({ config, work, loads: new Map(aggregates.map((a) => [a, ['<load id>']])), now: new Date(0) });
    out.push(batch.sqls);
    work = work.slice(batch.covered.length);
  }
  return out;
}
