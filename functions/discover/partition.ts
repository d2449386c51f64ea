/**
 * Starting the load of one (table, partition): the part discover and the freshness sweep share.
 * The core decides (core/discovery.ts: busy, complete, load rules, name); this lists the
 * partition, starts the execution under the decided name (then its retry name, when the name is
 * taken by an attempt that did not finish) and logs every skip at info with its reason.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { listObjects } from '../adapters/s3';
import { describeExecution, startExecution } from '../adapters/stepFunctions';
import { toObserved } from '../adapters/warehouse';
import type { ForkliftConfig } from '../core/config/schema';
import { isoSecond } from '../core/dates';
import { busyExecution, nameTaken, planPartitionStart, type PartitionStart } from '../core/discovery';
import { MetricName } from '../core/metricNames';
import type { LoadInput, WarehouseState } from '../core/types';
import type { Log, MetricsSink } from '../runtime/observability';

/** What starting a partition's load needs. */
export interface PartitionStartDeps {
  config: ForkliftConfig;
  s3: S3Client;
  sfn: SFNClient;
  stateMachineArn: string;
  log: Log;
  metrics: MetricsSink;
  now: () => Date;
}

/** One (table, partition) to consider, with the key its objects are listed under. */
export interface PartitionRef {
  table: string;
  date: Date;
  partitionKey: string;
}

/**
 * - `redeliver`: a load of the partition is running (or stopped after the state was read): come back later.
 * - `started`: an execution was started (its name is `execution`).
 * - `skipped`: nothing to start (loaded, incomplete, refused by the rules, or attempted twice with these files).
 */
export type PartitionStartOutcome = { outcome: 'redeliver' } | { outcome: 'started'; execution: string } | { outcome: 'skipped' };

/** True (logged at info) when a load of the partition runs: its events come back once it committed. */
export function partitionBusy(deps: Pick<PartitionStartDeps, 'log'>, p: PartitionRef, running: ReadonlySet<string>, trigger: 'event' | 'sweep' = 'event'): boolean {
  const busy = busyExecution(p.table, p.date, running);
  if (busy === undefined) return false;
  deps.log.info('a load of this partition is running; its events will be redelivered', {
    table: p.table,
    partition: isoSecond(p.date),
    ...(trigger === 'sweep' ? { trigger } : {}),
    execution: busy,
  });
  return true;
}

/** A partition the load rules would start, and how (what {@link decidePartitionLoad} found). */
export interface PartitionToStart {
  plan: Extract<PartitionStart, { action: 'start' }>;
  state: WarehouseState;
}

/**
 * Busy check, listing and decision of one partition, without starting anything: `redeliver`,
 * `skipped` (logged and counted as {@link startPartitionLoad} does) or what to start.
 */
export async function decidePartitionLoad(
  deps: PartitionStartDeps,
  p: PartitionRef,
  state: WarehouseState,
  running: ReadonlySet<string>,
  trigger: 'event' | 'sweep' = 'event',
): Promise<{ outcome: 'redeliver' } | { outcome: 'skipped' } | ({ outcome: 'start' } & PartitionToStart)> {
  const { config, log, metrics } = deps;
  if (partitionBusy(deps, p, running, trigger)) return { outcome: 'redeliver' };
  const listing = await listObjects(deps.s3, config.landing.bucketName, p.partitionKey);
  const plan = planPartitionStart({ config, table: p.table, partitionDate: p.date, listing, state, now: deps.now() });
  if (plan.action === 'skip') {
    log.info('load skipped', { ...where(p, trigger), reason: plan.reason });
    if (plan.why === 'rules' || plan.why === 'failed') metrics.add(MetricName.LoadsSkipped, 'Count', 1, p.table);
    return { outcome: 'skipped' };
  }
  return { outcome: 'start', plan, state };
}

/**
 * Start what {@link decidePartitionLoad} decided: its name, or its retry name when the name is
 * taken by a finished failure. `checkedAt` is when the running executions and the state were read.
 */
export async function startDecidedLoad(
  deps: PartitionStartDeps,
  p: PartitionRef,
  decided: PartitionToStart,
  checkedAt: Date,
  trigger: 'event' | 'sweep' = 'event',
): Promise<PartitionStartOutcome> {
  const { log, metrics } = deps;
  const { plan, state } = decided;
  const at = where(p, trigger);
  const input: LoadInput = { table: p.table, date: p.date.toISOString(), observed: toObserved(state) };
  for (const name of plan.name === plan.retryName ? [plan.name] : [plan.name, plan.retryName]) {
    const started = await startExecution(deps.sfn, deps.stateMachineArn, name, input);
    if (started.status === 'started') {
      log.info('load started', { ...at, execution: name, reason: plan.reason });
      metrics.add(MetricName.ExecutionsStarted, 'Count', 1, p.table);
      return { outcome: 'started', execution: name };
    }
    // Started by another discover since the check, or an earlier attempt under this name.
    const existing = await describeExecution(deps.sfn, deps.stateMachineArn, name);
    const taken = nameTaken(existing, checkedAt);
    if (taken === 'redeliver') {
      log.info('a load of this partition is running; its events will be redelivered', { ...at, execution: name, status: existing.status });
      return { outcome: 'redeliver' };
    }
    if (taken === 'handled') {
      log.info('load skipped: already handled by an earlier event', { ...at, execution: name, status: existing.status });
      return { outcome: 'skipped' };
    }
    log.info('an earlier attempt of this load did not finish; attempting again', { ...at, execution: name, status: existing.status });
  }
  log.info('load skipped: the earlier attempts with these exact files did not finish; put a fixed file (or a new one) to try again, or run forklift reload', {
    ...at,
    executions: [plan.name, plan.retryName],
  });
  metrics.add(MetricName.LoadsSkipped, 'Count', 1, p.table);
  return { outcome: 'skipped' };
}

/**
 * Busy check, listing, decision and start of one partition. `state` is the warehouse as read for
 * it, `running` the names of the running executions, both read after `checkedAt`.
 * `trigger` only tells the log lines apart (an S3 event, or the sweep).
 */
export async function startPartitionLoad(
  deps: PartitionStartDeps,
  p: PartitionRef,
  state: WarehouseState,
  running: ReadonlySet<string>,
  checkedAt: Date,
  trigger: 'event' | 'sweep' = 'event',
): Promise<PartitionStartOutcome> {
  const decided = await decidePartitionLoad(deps, p, state, running, trigger);
  return decided.outcome === 'start' ? startDecidedLoad(deps, p, decided, checkedAt, trigger) : decided;
}

function where(p: PartitionRef, trigger: 'event' | 'sweep'): Record<string, string> {
  return { table: p.table, partition: isoSecond(p.date), ...(trigger === 'sweep' ? { trigger } : {}) };
}
