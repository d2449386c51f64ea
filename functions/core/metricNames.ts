/**
 * CloudWatch metric names, namespace and dimension: emitted by the functions
 * (Powertools EMF) and watched by the alarms and dashboard in infra/. One list
 * so the two cannot drift.
 */
export const METRIC_NAMESPACE = 'Forklift';
export const SERVICE_NAME = 'forklift';
/** Per-table metrics carry this dimension. */
export const TABLE_DIMENSION = 'Table';

export const MetricName = {
  /** Rows a successful load inserted (Count). */
  RowsLoaded: 'RowsLoaded',
  /** Seconds from execution start to the load's commit (Seconds). */
  LoadSeconds: 'LoadSeconds',
  /** Minutes between now and the end of the newest loaded partition (emitted on loads and by the freshness check). */
  DataLagMinutes: 'DataLagMinutes',
  /** A load committed (Count, 1). Missing for N hours = missing data. */
  LoadsSucceeded: 'LoadsSucceeded',
  /** The rules skipped a partition (Count). */
  LoadsSkipped: 'LoadsSkipped',
  /** A load failed (Count). */
  LoadsFailed: 'LoadsFailed',
  /** discover: (table, partition) pairs seen in a batch (Count). */
  PartitionsDiscovered: 'PartitionsDiscovered',
  /** discover: executions started (Count). */
  ExecutionsStarted: 'ExecutionsStarted',
  /** discover: keys under a table's prefix that could not be parsed or looked hostile (Count). */
  KeysRejected: 'KeysRejected',
  /** Freshness/sweep: minutes since the oldest load whose aggregate work is still pending (0: none), per table. */
  AggregatePendingMinutes: 'AggregatePendingMinutes',
  /** Prepare: configured readOnlyGroups a load could not grant to because the group does not exist (Count, per table). */
  GrantsSkipped: 'GrantsSkipped',
  /** Data API calls that failed (Count); three in five minutes alarm. */
  DataApiErrors: 'DataApiErrors',
} as const;

export type MetricName = (typeof MetricName)[keyof typeof MetricName];

/** Environment variables the deployed functions read (set by infra/, read only in functions/runtime/). */
export const EnvVar = {
  /** Path of the validated config JSON bundled beside the handler. */
  ConfigPath: 'FORKLIFT_CONFIG_PATH',
  /** ARN of the load state machine (discover starts it). */
  StateMachineArn: 'FORKLIFT_STATE_MACHINE_ARN',
} as const;

/** Lambda function names (suffixes) and their handler folders under functions/. */
export const FUNCTIONS = ['discover', 'prepare', 'report', 'record-failure', 'freshness'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];
