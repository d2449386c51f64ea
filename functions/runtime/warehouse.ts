/**
 * The Data API warehouse of a deployed function: the client, the connection
 * fields from config, and the DataApiErrors metric on every failed call.
 */
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { MetricName } from '../core/metricNames';
import { DataApiWarehouse, warehouseTarget, type Warehouse } from '../adapters/warehouse';
import type { BaseDeps } from './env';

/** A Warehouse over a new RedshiftDataClient (region and credentials from the Lambda environment). */
export function warehouseFromEnvironment(base: BaseDeps): Warehouse {
  return new DataApiWarehouse(new RedshiftDataClient({}), warehouseTarget(base.config.warehouse), {
    onError: () => base.metrics.add(MetricName.DataApiErrors, 'Count', 1),
  });
}
