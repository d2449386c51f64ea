/**
 * Alarms, all to one SNS topic (KMS-encrypted, email subscriptions from the config):
 * executions that fail, time out, abort or are throttled; function errors and
 * throttles; messages in the dead-letter queue; per table, data older than its SLA
 * and no successful load for `alarms.missingDataHours`; repeated Data API errors.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { rootTable } from '../functions/core/config/crossChecks';
import type { ForkliftConfig } from '../functions/core/config/schema';
import { MetricName, type FunctionName } from '../functions/core/metricNames';
import { forkliftMetric } from './metrics';
import { pascal } from './functions';

/** Pending aggregate work older than this alarms (the sweep retries it every 15 minutes first). */
export const AGGREGATE_PENDING_ALARM_MINUTES = 60;

/** Period of the data-lag alarm: the freshness function emits every 15 minutes, so each period holds at least one datapoint. */
export const DATA_LAG_PERIOD = Duration.minutes(30);
/** Data API errors in {@link DATA_API_ERROR_PERIOD} that page. */
export const DATA_API_ERROR_THRESHOLD = 3;
export const DATA_API_ERROR_PERIOD = Duration.minutes(5);
/** CloudWatch caps an alarm's evaluation range (period × periods) at seven days. */
const MAX_EVALUATION_HOURS = 7 * 24;

/** Props of {@link Alarms}. */
export interface AlarmsProps {
  readonly config: ForkliftConfig;
  readonly stateMachine: sfn.IStateMachine;
  readonly functions: Record<FunctionName, lambda.IFunction>;
  readonly deadLetterQueue: sqs.IQueue;
}

/** The alarm topic and every alarm. */
export class Alarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly action: actions.SnsAction;
  private readonly prefix: string;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.prefix = Stack.of(this).stackName;
    const key = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the Forklift alarm topic',
      enableKeyRotation: true,
    });
    // CloudWatch publishes alarm notifications to the encrypted topic: it needs the key.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'Forklift alarms', masterKey: key, enforceSSL: true });
    for (const email of props.config.alarms.emails) this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    this.action = new actions.SnsAction(this.topic);

    const sm = props.stateMachine;
    const fiveMinutes = { period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM };
    this.add('ExecutionsFailed', 'A load execution failed', sm.metricFailed(fiveMinutes), 1);
    this.add('ExecutionsTimedOut', 'A load execution timed out', sm.metricTimedOut(fiveMinutes), 1);
    this.add('ExecutionsAborted', 'A load execution was aborted', sm.metricAborted(fiveMinutes), 1);
    this.add('ExecutionThrottled', 'Step Functions throttled the load state machine', sm.metricThrottled(fiveMinutes), 1);

    for (const [name, fn] of Object.entries(props.functions)) {
      this.add(`${pascal(name)}Errors`, `The ${name} function failed`, fn.metricErrors(fiveMinutes), 1);
      this.add(`${pascal(name)}Throttles`, `The ${name} function was throttled`, fn.metricThrottles(fiveMinutes), 1);
    }

    this.add(
      'DeadLetters',
      'Object events reached the dead-letter queue: discover failed on them five times',
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
      0,
      { comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD },
    );

    const missingHours = props.config.alarms.missingDataHours;
    if (missingHours > MAX_EVALUATION_HOURS) {
      throw new Error(`alarms.missingDataHours: ${missingHours} is more than CloudWatch can evaluate in one alarm (${MAX_EVALUATION_HOURS} hours)`);
    }
    for (const [table, t] of Object.entries(props.config.tables)) {
      const id = pascal(table.replace(/_/g, '-'));
      if (t.freshnessSlaMinutes !== undefined) {
        // The freshness function emits every table's lag every 15 minutes: no datapoint means it is not running.
        this.add(
          `${id}DataLag`,
          `Table ${table}: the newest loaded partition is more than ${t.freshnessSlaMinutes} minutes old`,
          forkliftMetric(MetricName.DataLagMinutes, { table, statistic: cloudwatch.Stats.MAXIMUM, period: DATA_LAG_PERIOD }),
          t.freshnessSlaMinutes,
          { comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, treatMissingData: cloudwatch.TreatMissingData.BREACHING },
        );
      }
      this.add(
        `${id}NoLoads`,
        `Table ${table}: no successful load for ${missingHours} hours`,
        forkliftMetric(MetricName.LoadsSucceeded, { table, statistic: cloudwatch.Stats.SUM, period: Duration.hours(1) }),
        1,
        {
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
          evaluationPeriods: missingHours,
          datapointsToAlarm: missingHours,
        },
      );
    }

    for (const table of Object.keys(props.config.tables)) {
      if (!Object.keys(props.config.aggregates).some((a) => rootTable(props.config, a) === table)) continue;
      // The freshness function emits the age of the table's oldest pending aggregate work every 15 minutes (0: none).
      this.add(
        `${pascal(table.replace(/_/g, '-'))}AggregatesPending`,
        `Table ${table}: aggregate work of a committed load has been pending for more than ${AGGREGATE_PENDING_ALARM_MINUTES} minutes (the sweep could not heal it)`,
        forkliftMetric(MetricName.AggregatePendingMinutes, { table, statistic: cloudwatch.Stats.MAXIMUM, period: DATA_LAG_PERIOD }),
        AGGREGATE_PENDING_ALARM_MINUTES,
        { comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD },
      );
    }

    this.add(
      'DataApiErrors',
      `${DATA_API_ERROR_THRESHOLD} or more Data API calls failed in ${DATA_API_ERROR_PERIOD.toMinutes()} minutes`,
      forkliftMetric(MetricName.DataApiErrors, { statistic: cloudwatch.Stats.SUM, period: DATA_API_ERROR_PERIOD }),
      DATA_API_ERROR_THRESHOLD,
    );
  }

  private add(
    id: string,
    description: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    options: Partial<Pick<cloudwatch.AlarmProps, 'comparisonOperator' | 'treatMissingData' | 'evaluationPeriods' | 'datapointsToAlarm'>> = {},
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmName: `${this.prefix}-${id}`,
      alarmDescription: description,
      metric,
      threshold,
      comparisonOperator: options.comparisonOperator ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      datapointsToAlarm: options.datapointsToAlarm ?? options.evaluationPeriods ?? 1,
      treatMissingData: options.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    this.alarms.push(alarm);
    return alarm;
  }
}
