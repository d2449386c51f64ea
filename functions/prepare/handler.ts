/**
 * Prepare: the first state of the load state machine. Lists the partition (or heads
 * the explicit files), reads the warehouse state unless discover passed what it saw
 * (a top-up of an already loaded partition always reads it, for the file ledger),
 * plans with core/plan.ts (a load whose aggregates go inside its batch first reads, and
 * creates, their tables), then performs the plan's side effects: VARCHAR widening
 * (outside any transaction, before the batch) and the COPY manifest. Returns `$.plan`.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { headObject, listObjects, putManifest } from '../adapters/s3';
import { KnownRelationsCache, observedState, readWarehouseState, stateFor, warehouseTarget, type Warehouse } from '../adapters/warehouse';
import type { ForkliftConfig } from '../core/config/schema';
import { readAggregateTables, readAggregateWork } from '../adapters/aggregates';
import { aggregatesFedBy, aggregateTables, renderAggregateTableChanges, type ExistingTables } from '../core/sql/aggregate';
import { aggregateScope, planAggregateBatch, type AggregatePlan } from '../core/aggregateRun';
import { aggregatesInLoadCandidate, choosePartition, listingPrefix, planExecution, type PlanResult } from '../core/plan';
import { joinSteps, type DescribedBatch } from '../report/handler';
import { waitBudgetMs, type InvocationContext } from '../core/functionSettings';
import type { PollingOptions } from '../core/submission';
import type { LoadInput, LoadPlan, ObjectInfo, WarehouseState } from '../core/types';
import { baseDepsFromEnvironment, lazyHandler } from '../runtime/env';
import { warehouseFromEnvironment } from '../runtime/warehouse';
import type { Log, MetricsSink } from '../runtime/observability';
import { MetricName } from '../core/metricNames';

/**
 * How long a read of a table's aggregate tables serves later loads of the same Prepare instance.
 * Columns change only with the config (a deploy: new instances); a table dropped by hand is
 * created again by the first read after this.
 */
export const AGGREGATE_TABLES_TTL_MS = 60_000;

/** Prepare's payload, as the state machine's Parameters build it. */
export interface PrepareEvent {
  /** The execution's state: its input (and, after a Wait, the previous `plan`). */
  input: LoadInput & Record<string, unknown>;
  /** `$$.Execution.Name`: the load id. */
  execution: string;
  /** `$$.Execution.StartTime`. */
  startedAt: string;
  /** `aggregates`: PlanAggregates, after the load committed (or for an aggregate-only run): the next aggregate batch. */
  phase?: 'aggregates';
}

/** What Prepare needs. */
export interface PrepareDeps {
  config: ForkliftConfig;
  s3: S3Client;
  warehouse: Warehouse;
  log: Log;
  /** GrantsSkipped (a configured group that does not exist); optional for callers that record nothing. */
  metrics?: MetricsSink;
  now: () => Date;
  /** Shortest wait between status polls in the state machine (default 2). */
  pollSeconds?: number;
  /** Expected durations and bounds of the state machine's polling schedule (core/submission.ts). */
  polling?: PollingOptions;
  /** What this instance's state reads saw exist (their DDL is left out); default: one per handler instance. */
  relations?: KnownRelationsCache;
}

/** `$.plan`, with the execution's start time for Report's LoadSeconds. */
export type PreparedPlan = LoadPlan & { startedAt: string };

const INPUT_FIELDS = ['table', 'date', 'files', 'force', 'truncate', 'aggregateOnly', 'aggregates', 'start', 'end', 'observed'] as const;

/** The LoadInput fields of the execution state (dropping `plan` and anything else the state carries). */
export function loadInputOf(state: Record<string, unknown>): LoadInput {
  const input: Record<string, unknown> = {};
  for (const f of INPUT_FIELDS) if (state[f] !== undefined) input[f] = state[f];
  return input as LoadInput;
}

/** Build the Prepare handler (and its PlanAggregates phase). */
export function createPrepareHandler(deps: PrepareDeps): {
  (event: PrepareEvent & { phase?: undefined }, context?: InvocationContext): Promise<PreparedPlan>;
  (event: PrepareEvent & { phase: 'aggregates' }, context?: InvocationContext): Promise<AggregatePlan>;
  (event: PrepareEvent, context?: InvocationContext): Promise<PreparedPlan | AggregatePlan>;
} {
  const { config, log } = deps;
  const target = warehouseTarget(config.warehouse);
  const bucket = config.landing.bucketName;
  /** The last read of each table's aggregate tables (see aggregateTablesOf). */
  const aggregateTablesRead = new Map<string, { at: number; read: Promise<ExistingTables> }>();
  /** What this instance's warehouse-state reads saw exist (adapters/warehouse.ts KnownRelationsCache). */
  const relations = deps.relations ?? new KnownRelationsCache();

  const planAggregates = async (event: PrepareEvent, context?: InvocationContext): Promise<AggregatePlan> => {
    const input = loadInputOf(event.input);
    const previous = event.input['aggregatePlan'] as AggregatePlan | undefined;
    const plannedTable = (event.input['plan'] as { table?: string } | undefined)?.table;
    const scopeInput = { ...input, ...(input.table === undefined && plannedTable ? { table: plannedTable } : {}) };
    const read = await readAggregateWork(deps.warehouse, config, aggregateScope(config, scopeInput), event.execution, { timeoutMs: waitBudgetMs(context, 300_000) });
    const plan = planAggregateBatch({
      config,
      input: scopeInput,
      loadId: event.execution,
      target,
      ...(previous ? { previous } : {}),
      ...(previous?.request ? { finished: joinSteps(previous.steps, undefined, event.input['aggregate'] as DescribedBatch | undefined) } : {}),
      pending: read.pending,
      existing: read.existing,
      ...(read.existingGroups ? { existingGroups: read.existingGroups } : {}),
      now: deps.now(),
    });
    log.info(plan.request ? 'aggregate batch planned' : 'no aggregate batch', { loadId: event.execution, iteration: plan.iteration, reason: plan.reason, statements: plan.request?.Sqls.length });
    for (const b of plan.backfills ?? []) log.warn('a fact table gained columns: their history is empty until a backfill', { command: b });
    if (plan.skippedGroups?.length) {
      // As a load does: a GRANT to a missing group would fail the batch; the next batch after CREATE GROUP grants.
      for (const group of plan.skippedGroups) {
        log.warn(`not granting SELECT on aggregates ${plan.covered.map((a) => `'${a}'`).join(', ')} to group '${group}': the group does not exist in the warehouse (create it; the next aggregate batch grants)`, {
          aggregates: plan.covered,
          group,
          loadId: event.execution,
        });
      }
      deps.metrics?.add(MetricName.GrantsSkipped, 'Count', plan.skippedGroups.length, plannedTable ?? input.table);
      deps.metrics?.flush();
    }
    return plan;
  };

  const prepare = async (event: PrepareEvent, context?: InvocationContext): Promise<PreparedPlan> => {
    const input = loadInputOf(event.input);
    const startedAt = new Date(event.startedAt);
    const now = deps.now();
    const base = {
      config, input, loadId: event.execution, startedAt, now, target, pollSeconds: deps.pollSeconds ?? 2,
      ...(deps.polling ? { polling: deps.polling } : {}),
    };
    // Statement waits stay inside the function's timeout: a wait that runs out is a TransientError (the Retry takes it).
    const wait = (): { timeoutMs: number } => ({ timeoutMs: waitBudgetMs(context, 300_000) });

    let result: PlanResult;
    if (input.aggregateOnly === true) {
      result = planExecution({ ...base, listing: [], state: { partitionLoaded: false } });
    } else {
      const listing = await list(input);
      const state = await warehouseState(input, listing, now, wait);
      result = planExecution({ ...base, listing, state });
      const table = result.plan.table;
      if (result.plan.action === 'load' && result.plan.aggregates !== undefined && table !== undefined && aggregatesInLoadCandidate(config, table)) {
        // The aggregates go inside the load batch: read (and create) their tables first, then plan again with them,
        // at the time after that read (the batch's planned_at, from which polling learns what its batches take).
        const aggregateTables = await aggregateTablesOf(table, event.execution, wait);
        result = planExecution({ ...base, now: deps.now(), listing, state, aggregateTables });
      }
    }
    const { plan } = result;
    log.info(`plan: ${plan.action}`, { table: plan.table, partition: plan.partitionDate, loadId: plan.loadId, reason: plan.reason });

    if (plan.action === 'load' && result.missingGrantees?.length) {
      // Redshift fails a GRANT to a missing group: the load goes on without it; the next load after CREATE GROUP grants.
      for (const group of result.missingGrantees) {
        log.warn(`not granting SELECT on table '${plan.table ?? ''}' (or the aggregates it feeds) to group '${group}': the group does not exist in the warehouse (create it; the next load grants)`, {
          table: plan.table,
          group,
          loadId: plan.loadId,
        });
      }
      deps.metrics?.add(MetricName.GrantsSkipped, 'Count', result.missingGrantees.length, plan.table);
      deps.metrics?.flush();
    }
    if (plan.action === 'load') {
      for (const sql of result.preStatements) {
        log.info('widening a VARCHAR column before the load', { sql });
        await deps.warehouse.waitFor(await deps.warehouse.execute(sql, `${plan.loadId}-widen`), wait());
      }
      if (result.manifest) await putManifest(deps.s3, bucket, result.manifest.key, result.manifest.body);
      if (result.fileList) await putManifest(deps.s3, bucket, result.fileList.key, result.fileList.body);
    }
    return { ...plan, startedAt: startedAt.toISOString() };
  };

  const handle = (event: PrepareEvent, context?: InvocationContext): Promise<PreparedPlan | AggregatePlan> =>
    event.phase === 'aggregates' ? planAggregates(event, context) : prepare(event, context);
  return handle as ReturnType<typeof createPrepareHandler>;

  /**
   * The aggregate tables of `table` (read, and created when missing), shared by the invocations of
   * this instance for {@link AGGREGATE_TABLES_TTL_MS}: a burst of loads reads them once per container
   * (locally, once) instead of queueing one read per load. Kept only when the tables needed no change.
   */
  function aggregateTablesOf(table: string, execution: string, wait: () => { timeoutMs: number }): Promise<ExistingTables> {
    const at = deps.now().getTime();
    const hit = aggregateTablesRead.get(table);
    if (hit && at - hit.at < AGGREGATE_TABLES_TTL_MS) return hit.read;
    const names = aggregatesFedBy(config, table);
    const read = readAggregateTables(deps.warehouse, config, names, execution, wait()).then((existing) => {
      const current = names.flatMap((a) => aggregateTables(config, a)).every((t) => {
        try {
          return renderAggregateTableChanges(t, existing.get(`${t.schema}.${t.name}`)).length === 0;
        } catch {
          return false;
        }
      });
      if (!current) aggregateTablesRead.delete(table);
      return existing;
    });
    aggregateTablesRead.set(table, { at, read });
    read.catch(() => aggregateTablesRead.delete(table));
    return read;
  }

  async function list(input: LoadInput): Promise<ObjectInfo[]> {
    if (input.files !== undefined) {
      const heads = await Promise.all(input.files.map((key) => headObject(deps.s3, bucket, key)));
      return heads.filter((o): o is ObjectInfo => o !== undefined);
    }
    return listObjects(deps.s3, bucket, listingPrefix(config, input));
  }

  async function warehouseState(input: LoadInput, listing: ObjectInfo[], now: Date, wait: () => { timeoutMs: number }): Promise<WarehouseState> {
    // discover's view, unless it saw the partition loaded: an (unforced) top-up needs the file ledger, read now.
    if (input.observed !== undefined && (!input.observed.partitionLoaded || input.force === true)) return observedState(input.observed);
    const choice = choosePartition(config, input, listing, now);
    if (choice.kind === 'wait') return { partitionLoaded: false }; // the plan waits: no read needed yet
    const states = await readWarehouseState(deps.warehouse, config, [{ table: choice.table, candidates: [choice.partition.date] }], wait(), relations);
    return stateFor(states.get(choice.table), choice.partition.date);
  }
}

/** The Lambda entry point. */
export const handler = lazyHandler(() => {
  const base = baseDepsFromEnvironment();
  return createPrepareHandler({ ...base, s3: new S3Client({}), warehouse: warehouseFromEnvironment(base) });
});
