/**
 * The operations dashboard: rows loaded and loads per table, data lag against each
 * table's SLA, execution outcomes, and the functions' errors and durations.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { ForkliftConfig } from '../functions/core/config/schema';
import { MetricName, type FunctionName } from '../functions/core/metricNames';
import { forkliftMetric } from './metrics';

/** Props of {@link Dashboard}. */
export interface DashboardProps {
  readonly config: ForkliftConfig;
  readonly stateMachine: sfn.IStateMachine;
  readonly functions: Record<FunctionName, lambda.IFunction>;
}

/** One CloudWatch dashboard for the pipeline. */
export class Dashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  /** The console URL of the dashboard. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const hour = Duration.hours(1);
    const tables = Object.entries(props.config.tables);

    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', {
      dashboardName: `${stack.stackName}-forklift`,
      defaultInterval: Duration.days(7),
    });

    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Rows loaded per table (hourly)',
        width: 12,
        left: tables.map(([table]) => forkliftMetric(MetricName.RowsLoaded, { table, statistic: cloudwatch.Stats.SUM, period: hour, label: table })),
      }),
      new cloudwatch.GraphWidget({
        title: 'Loads per table (hourly)',
        width: 12,
        stacked: true,
        left: tables.flatMap(([table]) => [
          forkliftMetric(MetricName.LoadsSucceeded, { table, statistic: cloudwatch.Stats.SUM, period: hour, label: `${table} loaded` }),
          forkliftMetric(MetricName.LoadsSkipped, { table, statistic: cloudwatch.Stats.SUM, period: hour, label: `${table} skipped` }),
          forkliftMetric(MetricName.LoadsFailed, { table, statistic: cloudwatch.Stats.SUM, period: hour, label: `${table} failed` }),
        ]),
      }),
    );

    this.dashboard.addWidgets(
      ...tables.map(
        ([table, t]) =>
          new cloudwatch.GraphWidget({
            title: `Data lag: ${table} (minutes)`,
            width: 24 / Math.min(tables.length, 4),
            left: [forkliftMetric(MetricName.DataLagMinutes, { table, statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(15), label: 'lag' })],
            leftAnnotations:
              t.freshnessSlaMinutes !== undefined
                ? [{ value: t.freshnessSlaMinutes, label: `SLA ${t.freshnessSlaMinutes} min`, color: cloudwatch.Color.RED }]
                : [],
          }),
      ),
    );

    const sm = props.stateMachine;
    const fiveMinutes = { period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM };
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Load executions',
        width: 12,
        left: [
          sm.metricSucceeded({ ...fiveMinutes, label: 'succeeded' }),
          sm.metricFailed({ ...fiveMinutes, label: 'failed' }),
          sm.metricTimedOut({ ...fiveMinutes, label: 'timed out' }),
          sm.metricAborted({ ...fiveMinutes, label: 'aborted' }),
          sm.metricThrottled({ ...fiveMinutes, label: 'throttled' }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Data API errors',
        width: 12,
        left: [forkliftMetric(MetricName.DataApiErrors, { ...fiveMinutes, label: 'errors' })],
      }),
    );

    const fns = Object.entries(props.functions);
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Function errors',
        width: 12,
        left: fns.map(([name, fn]) => fn.metricErrors({ ...fiveMinutes, label: name })),
      }),
      new cloudwatch.GraphWidget({
        title: 'Function duration (p99)',
        width: 12,
        left: fns.map(([name, fn]) => fn.metricDuration({ period: Duration.minutes(5), statistic: cloudwatch.Stats.p(99), label: name })),
      }),
    );

    this.url = `https://${stack.region}.console.aws.amazon.com/cloudwatch/home?region=${stack.region}#dashboards:name=${this.dashboard.dashboardName}`;
  }
}
