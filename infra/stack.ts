/**
 * The Forklift stack: everything one pipeline config needs in the user's account,
 * from the landing bucket to the alarms. Built from the same validated config the
 * functions run with.
 */
import { watchedPrefixes } from '../functions/core/keys';
import { CfnOutput, Duration, Stack, Token, Validations, type CfnResource, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { ForkliftConfig } from '../functions/core/config/schema';
import { EnvVar, type FunctionName } from '../functions/core/metricNames';
import { Alarms } from './alarms';
import { Dashboard } from './dashboard';
import { ObjectEvents } from './events';
import { DISCOVER_MAX_CONCURRENCY, Functions } from './functions';
import { Landing } from './landing';
import { LoadStateMachine } from './loadStateMachine';
import { acknowledgeBucketNotificationsHandler, acknowledgePrefixWildcards, acknowledgeStarResource } from './nag';
import { granteeWithOwnPolicy, RedshiftAccess } from './redshiftAccess';

/** The functions that call the Data API (report does not). */
export const DATA_API_FUNCTIONS = ['discover', 'prepare', 'record-failure', 'freshness'] as const satisfies readonly FunctionName[];

/** How often the freshness function measures every table's data lag. */
export const FRESHNESS_SCHEDULE = Duration.minutes(15);

/** Props of {@link ForkliftStack}. */
export interface ForkliftStackProps extends StackProps {
  /** The validated pipeline config. */
  readonly config: ForkliftConfig;
  /** The config document as written, bundled beside each handler. */
  readonly configDocument: unknown;
  /** X-Ray tracing of the state machine and the functions (default true). */
  readonly tracing?: boolean;
  /** ARN of the Redshift Serverless workgroup; required with `warehouse.workgroupName`. */
  readonly workgroupArn?: string;
  /** Test-only: entry files other than functions/<name>/handler.ts. */
  readonly functionEntries?: Partial<Record<FunctionName, string>>;
  /** discover's reserved concurrency (context `discoverReservedConcurrency`); omitted = none (needs quota >= 100 + N). */
  readonly discoverReservedConcurrency?: number;
}

/** The deployed pipeline. */
export class ForkliftStack extends Stack {
  readonly landing: Landing;
  readonly functions: Functions;
  readonly objectEvents: ObjectEvents;
  readonly load: LoadStateMachine;
  readonly redshift: RedshiftAccess;
  readonly alarms: Alarms;
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: ForkliftStackProps) {
    super(scope, id, props);
    const { config } = props;
    const tracing = props.tracing ?? true;

    this.redshift = new RedshiftAccess(this, 'Redshift', { warehouse: config.warehouse, workgroupArn: props.workgroupArn });
    this.landing = new Landing(this, 'Landing', { config });
    // The functions that call the Data API and the state machine: one database identity (see RedshiftAccess).
    const identityRole = this.redshift.identityRole;
    this.functions = new Functions(this, 'Functions', {
      configDocument: props.configDocument,
      tracing,
      ...(identityRole ? { roles: Object.fromEntries(DATA_API_FUNCTIONS.map((name) => [name, identityRole])) } : {}),
      ...(props.functionEntries ? { entries: props.functionEntries } : {}),
      ...(props.discoverReservedConcurrency !== undefined ? { discoverReservedConcurrency: props.discoverReservedConcurrency } : {}),
    });
    const fns = this.functions.byName;

    const tablePrefixes = watchedPrefixes(config);
    this.objectEvents = new ObjectEvents(this, 'ObjectEvents', {
      bucket: this.landing.bucket,
      ownedBucket: this.landing.owned,
      prefixes: tablePrefixes,
      discover: fns.discover,
      maxConcurrency: DISCOVER_MAX_CONCURRENCY,
    });

    this.load = new LoadStateMachine(this, 'LoadStateMachine', {
      prepare: fns.prepare,
      report: fns.report,
      recordFailure: fns['record-failure'],
      tracing,
      ...(identityRole ? { role: identityRole } : {}),
    });
    const stateMachine = this.load.stateMachine;
    // On the shared identity role, grants on the state machine (which runs as that role) go in a policy of their own.
    const onStateMachine = identityRole ? granteeWithOwnPolicy(this, 'IdentityStateMachineGrants', identityRole) : undefined;
    const discover = onStateMachine ?? fns.discover;
    const freshness = onStateMachine ?? fns.freshness;
    fns.discover.addEnvironment(EnvVar.StateMachineArn, stateMachine.stateMachineArn);
    stateMachine.grantStartExecution(discover);
    // The freshness function's aggregate sweep starts aggregate-only executions for stale pending work.
    fns.freshness.addEnvironment(EnvVar.StateMachineArn, stateMachine.stateMachineArn);
    if (freshness !== discover) stateMachine.grantStartExecution(freshness);
    // discover redelivers the events of a partition whose load still runs: it lists the running
    // executions and describes one whose name already exists (execution ARNs of this machine only).
    stateMachine.grant(discover, 'states:ListExecutions');
    stateMachine.grantExecution(discover, 'states:DescribeExecution');
    // The load sweep lists the executions that did not succeed and reads their input (table, partition).
    if (freshness !== discover) {
      stateMachine.grant(freshness, 'states:ListExecutions');
      stateMachine.grantExecution(freshness, 'states:DescribeExecution');
    }
    const machineId = this.getLogicalId(stateMachine.node.defaultChild as CfnResource);
    // cdk-nag names an environment-agnostic stack's region and account <AWS::Region> / <AWS::AccountId>.
    const region = Token.isUnresolved(this.region) ? '<AWS::Region>' : this.region;
    const account = Token.isUnresolved(this.account) ? '<AWS::AccountId>' : this.account;
    for (const holder of onStateMachine ? [onStateMachine.policy] : [fns.discover.role!, fns.freshness.role!]) {
      Validations.of(holder).acknowledge({
        id:
          'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:' +
          `${region}:${account}:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${machineId}"}]}]}:*]`,
        reason: 'DescribeExecution on the executions of the load state machine only (their names are not known in advance).',
      });
    }

    // Warehouse: the state machine batches (load and aggregate transactions); the
    // functions submit reads and small statements of their own.
    if (identityRole) {
      this.redshift.grantDataApi(identityRole);
    } else {
      this.redshift.grantDataApi(stateMachine, ['redshift-data:BatchExecuteStatement']);
      for (const name of DATA_API_FUNCTIONS) this.redshift.grantDataApi(fns[name]);
    }

    // S3: discover and prepare list and read the tables' prefixes; prepare writes manifests.
    const bucket = this.landing.bucket;
    const readPrefixes = tablePrefixes.map((p) => `${p}*`);
    // The freshness function's load sweep lists the partitions it starts again (ListBucket only).
    fns.freshness.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'ListTablePrefixes', actions: ['s3:ListBucket'], resources: [bucket.bucketArn], conditions: { StringLike: { 's3:prefix': readPrefixes } } }),
    );
    for (const fn of [fns.discover, fns.prepare]) {
      fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadTablePrefixes', actions: ['s3:GetObject'], resources: readPrefixes.map((p) => bucket.arnForObjects(p)) }));
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'ListTablePrefixes',
          actions: ['s3:ListBucket'],
          resources: [bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': readPrefixes } },
        }),
      );
    }
    fns.prepare.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'WriteManifests', actions: ['s3:PutObject'], resources: [bucket.arnForObjects(`${config.landing.manifestPrefix}*`)] }),
    );

    new events.Rule(this, 'FreshnessSchedule', {
      description: 'Forklift: measure every table\'s data lag; sweep stale pending aggregate work',
      schedule: events.Schedule.rate(FRESHNESS_SCHEDULE),
      targets: [new targets.LambdaFunction(fns.freshness)],
    });

    this.alarms = new Alarms(this, 'Alarms', {
      config,
      stateMachine,
      functions: fns,
      deadLetterQueue: this.objectEvents.deadLetterQueue,
    });
    this.dashboard = new Dashboard(this, 'Dashboard', { config, stateMachine, functions: fns });

    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description, exportName: `${this.stackName}-${id}` });
    output('LandingBucketName', bucket.bucketName, 'The bucket objects land in');
    output('StateMachineArn', stateMachine.stateMachineArn, 'The load state machine (manual reloads and backfills start it)');
    output('AlarmTopicArn', this.alarms.topic.topicArn, 'SNS topic every alarm notifies');
    output('DashboardUrl', this.dashboard.url, 'The CloudWatch dashboard');
    if (identityRole) {
      output('WarehouseDatabaseUser', `IAMR:${identityRole.roleName}`, 'The database user every Forklift Data API call runs as on the Serverless workgroup (grant it CREATE on the database)');
    }

    // cdk-nag: the wildcards that cannot be narrowed, each with its reason.
    // Each distinct role once (the shared identity role is the state machine's and the Data API functions').
    acknowledgeStarResource(stateMachine.role, { dataApi: true, xray: tracing, logDelivery: true });
    for (const name of DATA_API_FUNCTIONS) {
      if (fns[name].role !== stateMachine.role) acknowledgeStarResource(fns[name].role!, { dataApi: true, xray: tracing });
    }
    acknowledgeStarResource(fns.report.role!, { dataApi: false, xray: tracing });
    if (fns.discover.role !== fns.prepare.role) acknowledgePrefixWildcards(fns.discover.role!, bucket, tablePrefixes);
    acknowledgePrefixWildcards(fns.prepare.role!, bucket, [...tablePrefixes, config.landing.manifestPrefix]);
    acknowledgeBucketNotificationsHandler(this);
    if (!tracing) {
      Validations.of(stateMachine).acknowledge({
        id: 'AwsSolutions::AwsSolutions-SF2',
        reason: 'X-Ray tracing was turned off by the deployer (-c tracing=false); every execution still logs all events to CloudWatch Logs and keeps its history.',
      });
    }
  }
}
