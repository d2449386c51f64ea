/**
 * Forklift's own CloudWatch metrics as the functions emit them (Powertools EMF): the
 * namespace and names from functions/core/metricNames.ts, with Powertools' default
 * `service` dimension, plus `Table` on per-table metrics.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRIC_NAMESPACE, SERVICE_NAME, TABLE_DIMENSION, type MetricName } from '../functions/core/metricNames';

/** The dimension Powertools Metrics adds to every metric (its `serviceName`). */
export const SERVICE_DIMENSION = 'service';

/** Options of {@link forkliftMetric}. */
export interface ForkliftMetricOptions {
  /** Per-table metrics: the table. */
  readonly table?: string;
  readonly statistic: string;
  readonly period: Duration;
  readonly label?: string;
}

/** One of Forklift's metrics, with the dimensions the functions emit it with. */
export function forkliftMetric(name: MetricName, options: ForkliftMetricOptions): cloudwatch.Metric {
  const dimensionsMap: Record<string, string> = { [SERVICE_DIMENSION]: SERVICE_NAME };
  if (options.table !== undefined) dimensionsMap[TABLE_DIMENSION] = options.table;
  return new cloudwatch.Metric({
    namespace: METRIC_NAMESPACE,
    metricName: name,
    dimensionsMap,
    statistic: options.statistic,
    period: options.period,
    ...(options.label !== undefined ? { label: options.label } : {}),
  });
}
