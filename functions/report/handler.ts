/**
 * Report: the last state of a successful execution. Emits the load's metrics and
 * returns the summary that becomes the execution's output. It reads what the state
 * machine's AWS SDK integrations left in the state, which are PascalCase
 * (`SubStatements[n].ResultRows`, `Duration` in nanoseconds, `Records[0][1].StringValue`).
 */
import type { ForkliftConfig } from '../core/config/schema';
import { partitionEnd } from '../core/dates';
import { tablePattern } from '../core/keys';
import { MetricName } from '../core/metricNames';
import type { LoadPlan, StepRef } from '../core/types';
import { baseDepsFromEnvironment, lazyHandler } from '../runtime/env';
import type { Log, MetricsSink } from '../runtime/observability';

/** A DescribeStatement result as the state machine keeps it (`$.load`, `$.aggregate`). */
export interface DescribedBatch {
  Id?: string;
  Status?: string;
  Error?: string;
  SubStatements?: Array<{ Id?: string; Status?: string; ResultRows?: number; Duration?: number }>;
}

/** A Data API Field as Step Functions returns it. */
export interface SfnField {
  StringValue?: string;
  LongValue?: number;
  DoubleValue?: number;
  BooleanValue?: boolean;
  IsNull?: boolean;
}

/** The state Report receives: the execution input's fields, `plan`, and what the tasks added. */
export interface ReportEvent {
  /** Present when a caller wraps the input; the state machine passes its fields at the top level. */
  input?: Record<string, unknown>;
  table?: string;
  plan: LoadPlan & { startedAt?: string };
  load?: DescribedBatch;
  outcome?: { status?: string; reason?: SfnField | string; rows?: SfnField | number };
  aggregate?: DescribedBatch;
  /** The aggregate loop's last plan: `done` holds the steps of every committed aggregate batch. */
  aggregatePlan?: { done?: StepSummary[]; steps?: StepRef[] };
}

/** One step of the summary. */
export interface StepSummary {
  kind: StepRef['kind'];
  name: string;
  rows: number;
  seconds: number;
}

/** The execution's output. */
export interface ReportSummary {
  table: string | null;
  partitionDate: string | null;
  status: 'loaded' | 'skipped' | 'aggregated';
  reason: string;
  rows: number;
  files: number;
  steps: StepSummary[];
}

/** What Report needs. */
export interface ReportDeps {
  config: ForkliftConfig;
  log: Log;
  metrics: MetricsSink;
  now: () => Date;
}

/** A Field (or a plain value) as text / number. */
function fieldText(v: SfnField | string | undefined): string | undefined {
  if (v === undefined || typeof v === 'string') return v;
  if (v.IsNull) return undefined;
  return v.StringValue ?? (v.LongValue ?? v.DoubleValue ?? v.BooleanValue)?.toString();
}
function fieldNumber(v: SfnField | number | undefined): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  if (v.IsNull) return 0;
  const n = Number(v.LongValue ?? v.DoubleValue ?? v.StringValue ?? 0);
  return Number.isFinite(n) ? n : 0;
}

/**
 * The plan's steps joined with the batches' sub-statements: `raw` steps (and `fact` steps of
 * aggregates recomputed inside the load, `batch: 'load'`) index the load batch, other `fact`
 * steps the aggregate batch. Steps of a batch that did not run are left out.
 */
export function joinSteps(steps: readonly StepRef[], load?: DescribedBatch, aggregate?: DescribedBatch): StepSummary[] {
  const out: StepSummary[] = [];
  for (const step of steps) {
    const batch = step.kind === 'raw' || step.batch === 'load' ? load : aggregate;
    if (!batch?.SubStatements) continue;
    const sub = batch.SubStatements[step.statement - 1];
    out.push({
      kind: step.kind,
      name: step.name,
      rows: Math.max(0, sub?.ResultRows ?? 0),
      seconds: Math.round(((sub?.Duration ?? 0) / 1e9) * 1000) / 1000,
    });
  }
  return out;
}

/** Build the Report handler. */
export function createReportHandler(deps: ReportDeps): (event: ReportEvent) => Promise<ReportSummary> {
  const { config, log, metrics } = deps;

  return async (event) => {
    const { plan } = event;
    const table = plan.table ?? (typeof event.table === 'string' ? event.table : undefined) ?? null;
    const steps = [
      ...joinSteps(plan.steps ?? [], event.load, event.aggregate),
      ...(event.aggregatePlan?.done ?? []),
      ...joinSteps(event.aggregatePlan?.steps ?? [], undefined, event.aggregate),
    ];
    let status: ReportSummary['status'];
    let reason = plan.reason;
    let rows = 0;
    if (plan.action === 'aggregate') {
      status = 'aggregated';
      rows = steps.reduce((sum, s) => sum + s.rows, 0);
    } else if (plan.action === 'load' && event.outcome?.status === 'loaded') {
      status = 'loaded';
      rows = fieldNumber(event.outcome.rows);
      reason = fieldText(event.outcome.reason) ?? reason;
    } else {
      // Skipped by the rules in Prepare, or by the guard inside the load transaction.
      status = 'skipped';
      if (event.outcome) reason = fieldText(event.outcome.reason) ?? reason;
    }

    try {
      const dimension = table ?? undefined;
      if (status === 'loaded' && table) {
        const now = deps.now();
        metrics.add(MetricName.LoadsSucceeded, 'Count', 1, table);
        metrics.add(MetricName.RowsLoaded, 'Count', rows, table);
        if (plan.startedAt) {
          metrics.add(MetricName.LoadSeconds, 'Seconds', Math.max(0, (now.getTime() - Date.parse(plan.startedAt)) / 1000), table);
        }
        const lag = dataLagMinutes(config, table, plan.partitionDate, now);
        if (lag !== undefined) metrics.add(MetricName.DataLagMinutes, 'None', lag, table);
      } else if (status === 'skipped') {
        metrics.add(MetricName.LoadsSkipped, 'Count', 1, dimension);
      }
    } finally {
      metrics.flush();
    }
    log.info(`execution ${status}`, { table, partition: plan.partitionDate, loadId: plan.loadId, reason, rows });
    return {
      table,
      partitionDate: plan.partitionDate ?? null,
      status,
      reason,
      rows,
      files: plan.files ?? 0,
      steps,
    };
  };
}

/** Minutes from the end of the partition to `now` (0 when the partition has not ended yet). */
export function dataLagMinutes(config: ForkliftConfig, table: string, partitionDate: string | undefined, now: Date): number | undefined {
  const t = config.tables[table];
  if (!t || partitionDate === undefined) return undefined;
  const end = partitionEnd(new Date(partitionDate), tablePattern(t).granularity);
  return Math.max(0, Math.round((now.getTime() - end.getTime()) / 60_000));
}

/** The Lambda entry point. */
export const handler = lazyHandler(() => {
  const base = baseDepsFromEnvironment();
  return createReportHandler(base);
});
