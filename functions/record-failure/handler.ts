/**
 * RecordFailure: every Catch of the load state machine ends here. Writes ONE `failed`
 * row to the audit `loads` table (with the COPY error's file, line, column and reason
 * from sys_load_error_detail when the load's COPY rejected a row) and returns the typed error
 * name and a readable cause for the Fail state's ErrorPath/CausePath.
 */
import { type Warehouse } from '../adapters/warehouse';
import type { ForkliftConfig } from '../core/config/schema';
import { MetricName } from '../core/metricNames';
import { auditIdentity, type FailureRecord } from '../core/sql/audit';
import { RECORDED_FAILURE_STATEMENT, renderFailureRecord } from '../core/sql/failure';
import type { LoadPlan } from '../core/types';
import { baseDepsFromEnvironment, lazyHandler } from '../runtime/env';
import { warehouseFromEnvironment } from '../runtime/warehouse';
import type { Log, MetricsSink } from '../runtime/observability';

/** The state RecordFailure receives: the input's fields, what the states added, and `$.error`. */
export interface RecordFailureEvent {
  error: { Error?: string; Cause?: string };
  /** The execution name (`$$.Execution.Name`, passed by the state machine): the failed row's load id. */
  execution?: string;
  plan?: Partial<LoadPlan> & { startedAt?: string };
  table?: string;
  date?: string;
  aggregates?: string[];
  /** The execution's state (`$`) when the state machine wraps it; its `plan` is used when `plan` is absent. */
  input?: Record<string, unknown>;
  [key: string]: unknown;
}

/** The Fail state's error and cause. */
export interface FailureOutput {
  error: string;
  cause: string;
}

/** What RecordFailure needs. */
export interface RecordFailureDeps {
  config: ForkliftConfig;
  warehouse: Warehouse;
  log: Log;
  metrics: MetricsSink;
  now: () => Date;
}

/** The error as a name and a message: Lambda errors carry `{"errorType","errorMessage"}` JSON in Cause. */
export function classifyError(error: RecordFailureEvent['error']): { name: string; message: string; copy: boolean } {
  let name = error.Error ?? 'Unknown';
  let message = error.Cause ?? '';
  try {
    const parsed = JSON.parse(message) as { errorType?: unknown; errorMessage?: unknown };
    if (parsed && typeof parsed === 'object' && typeof parsed.errorMessage === 'string') {
      message = parsed.errorMessage;
      if (typeof parsed.errorType === 'string') name = parsed.errorType;
    }
  } catch {
    // not JSON: the Data API's error text or a Step Functions message
  }
  const copy = name === 'CopyError' || /stl_load_errors|sys_load_error_detail/i.test(message);
  if (copy) name = 'CopyError';
  if (!message) message = name;
  return { name, message, copy };
}

/** Build the RecordFailure handler. */
export function createRecordFailureHandler(deps: RecordFailureDeps): (event: RecordFailureEvent) => Promise<FailureOutput> {
  const { config, log, metrics } = deps;

  return async (event) => {
    const { name, message, copy } = classifyError(event.error ?? {});
    const plan = event.plan ?? ((event.input?.['plan'] ?? {}) as NonNullable<RecordFailureEvent['plan']>);
    const input = event.input ?? event;
    const tableName = [plan.table, input.table, ...(Array.isArray(input.aggregates) ? input.aggregates : [])].find(
      (t): t is string => typeof t === 'string' && (Object.hasOwn(config.tables, t) || Object.hasOwn(config.aggregates, t)),
    );
    const now = deps.now();
    const loadId = event.execution ?? plan.loadId ?? `${tableName ?? 'unknown'}-failed-${now.getTime()}`;
    const record: FailureRecord = {
      loadId,
      table: tableName ? auditIdentity(config, tableName) : 'unknown',
      finishedAt: now,
      error: `${name}: ${message}`,
    };
    if (plan.partitionDate) record.partitionDate = new Date(plan.partitionDate);
    if (plan.partitionKey) record.partitionKey = plan.partitionKey;
    if (plan.mode) record.mode = plan.mode;
    if (plan.files !== undefined) record.files = plan.files;
    if (plan.startedAt) record.startedAt = new Date(plan.startedAt);

    let cause = message;
    try {
      if (copy && plan.partitionKey) {
        const filePrefix = `s3://${config.landing.bucketName}/${plan.partitionKey}`;
        const sqls = renderFailureRecord(config.warehouse.auditSchema, record, {
          filePrefix,
          ...(record.startedAt ? { since: record.startedAt } : {}),
        });
        const id = await deps.warehouse.batch(sqls, `${loadId}-failure`);
        await deps.warehouse.waitFor(id);
        const [row] = await deps.warehouse.results(`${id}:${RECORDED_FAILURE_STATEMENT}`);
        const [file, line, column, reason] = row ?? [];
        if (file !== null && file !== undefined) {
          cause = `COPY failed: ${String(reason ?? '').replace(/^COPY failed: /, '')} (file ${String(file)}, line ${String(line)}, column ${column ? String(column) : '-'})`;
        }
      } else {
        const id = await deps.warehouse.batch(renderFailureRecord(config.warehouse.auditSchema, record), `${loadId}-failure`);
        await deps.warehouse.waitFor(id);
      }
    } catch (err) {
      log.error('the failure could not be recorded in the audit table', { loadId, error: String(err) });
      cause = `${cause} (not recorded in the audit table: ${(err as Error).message ?? String(err)})`;
    }
    metrics.add(MetricName.LoadsFailed, 'Count', 1, tableName ?? 'unknown');
    metrics.flush();
    log.error('load failed', { loadId, table: tableName, error: name, cause });
    return { error: name, cause };
  };
}

/** The Lambda entry point. */
export const handler = lazyHandler(() => {
  const base = baseDepsFromEnvironment();
  return createRecordFailureHandler({ ...base, warehouse: warehouseFromEnvironment(base) });
});
