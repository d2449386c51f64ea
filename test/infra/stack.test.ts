import { deployedConfigDocument } from '../../functions/core/config/deployed';
import { loadConfigFile } from '../../functions/core/config/load';
import { readConfig } from '../../functions/runtime/env';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { contextPositiveInteger } from '../../infra/forkliftApp';
import { FUNCTIONS } from '../../functions/core/metricNames';
import { DEFINITION_FILE } from '../../infra/loadStateMachine';
import { pascal } from '../../infra/functions';
import { allIdentityStatements, configVariant, EXAMPLE_CONFIG, flatten, list, roleStatements, synth, type Synthesized } from './helpers';

const CLUSTER = 'arn:aws:redshift:eu-west-1:123456789012:cluster:forklift-example';
const DATA_API_READ = ['redshift-data:DescribeStatement', 'redshift-data:GetStatementResult'];
const CLUSTER_CREDENTIALS = {
  Sid: 'ClusterCredentials',
  Effect: 'Allow',
  Action: 'redshift:GetClusterCredentials',
  Resource: ['arn:aws:redshift:eu-west-1:123456789012:dbuser:forklift-example/forklift', 'arn:aws:redshift:eu-west-1:123456789012:dbname:forklift-example/dev'],
};

let s: Synthesized;
beforeAll(() => {
  s = synth({ bundle: true });
});

const logicalId = (type: string, prefix: string): string => {
  const ids = Object.keys(s.template.findResources(type)).filter((id) => id.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0]!;
};
const bucketArn = () => ({ 'Fn::GetAtt': [logicalId('AWS::S3::Bucket', 'LandingBucket'), 'Arn'] });
const objects = (prefix: string) => ({ 'Fn::Join': ['', [bucketArn(), `/${prefix}*`]] });

describe('landing bucket', () => {
  test('private, TLS only, encrypted, versioned, access-logged, manifests and old versions expire', () => {
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'forklift-landing-example',
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: { Ref: logicalId('AWS::S3::Bucket', 'LandingAccessLogs') } },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: '_forklift/manifests/', ExpirationInDays: 30, Status: 'Enabled' }),
          Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: 'Enabled' }),
        ]),
      },
    });
    s.template.hasResource('AWS::S3::Bucket', { Properties: Match.objectLike({ BucketName: 'forklift-landing-example' }), DeletionPolicy: 'Retain' });
  });

  test('bucket policy denies plain HTTP and lets the COPY role read exactly the table prefixes and manifests', () => {
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId('AWS::S3::Bucket', 'LandingBucket') },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          {
            Sid: 'ForkliftCopyRoleRead',
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::123456789012:role/forklift-copy' },
            Action: 's3:GetObject',
            Resource: [objects('events/visits/'), objects('dims/campaigns/'), objects('_forklift/manifests/')],
          },
          {
            Sid: 'ForkliftCopyRoleList',
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::123456789012:role/forklift-copy' },
            Action: 's3:ListBucket',
            Resource: bucketArn(),
            Condition: { StringLike: { 's3:prefix': ['events/visits/*', 'dims/campaigns/*', '_forklift/manifests/*'] } },
          },
        ]),
      },
    });
  });
});

describe('event delivery', () => {
  test('one ObjectCreated notification per table prefix, to the queue', () => {
    const queue = { 'Fn::GetAtt': [logicalId('AWS::SQS::Queue', 'ObjectEventsQueue'), 'Arn'] };
    const notification = (prefix: string) => ({
      Events: ['s3:ObjectCreated:*'],
      QueueArn: queue,
      Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: prefix }] } },
    });
    s.template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: { QueueConfigurations: [notification('events/visits/'), notification('dims/campaigns/')] },
    });
  });

  test('a flat layout (tables sharing a folder) gets one notification for the folder: S3 refuses overlapping prefixes', () => {
    const flat = configVariant((doc) => {
      doc.tables.page = { ...doc.tables.campaigns, prefix: 'flat/', partition: 'page_{date:yyyy-MM-dd}.csv' };
      doc.tables.page_views = { ...doc.tables.campaigns, prefix: 'flat/', partition: 'page_views_{date:yyyy-MM-dd}.csv' };
      doc.tables.api_page = { ...doc.tables.campaigns, prefix: 'flat/api_page_', partition: '{date:yyyy-MM-dd}.csv' };
    });
    const { template } = synth({ configPath: flat });
    const [notifications] = Object.values(template.findResources('Custom::S3BucketNotifications'));
    const prefixes = (notifications!['Properties'].NotificationConfiguration.QueueConfigurations as Array<{ Filter: { Key: { FilterRules: Array<{ Value: string }> } } }>).map(
      (q) => q.Filter.Key.FilterRules[0]!.Value,
    );
    expect(prefixes).toEqual(['events/visits/', 'dims/campaigns/', 'flat/']);
  });

  test('queue: SSE, TLS only, visibility ≥ 6 × discover timeout, DLQ after 5 receives kept 14 days', () => {
    const dlq = logicalId('AWS::SQS::Queue', 'ObjectEventsDeadLetterQueue');
    s.template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 6 * 60 + 20,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: 5 },
    });
    s.template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    const queuePolicies = Object.values(s.template.findResources('AWS::SQS::QueuePolicy'));
    expect(queuePolicies).toHaveLength(2);
    for (const p of queuePolicies) {
      expect(p['Properties']['PolicyDocument']['Statement']).toEqual(
        expect.arrayContaining([expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      );
    }
    // S3 may send to the queue, from this bucket only.
    s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 's3.amazonaws.com' }, Condition: { ArnLike: { 'aws:SourceArn': bucketArn() } } }),
        ]),
      },
    });
  });

  test('discover consumes in batches of 100 with a 20 s window and partial batch failures', () => {
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId('AWS::SQS::Queue', 'ObjectEventsQueue'), 'Arn'] },
      FunctionName: { Ref: logicalId('AWS::Lambda::Function', 'FunctionsDiscover') },
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 20,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
    });
  });
});

describe('functions', () => {
  const timeouts = { discover: 60, prepare: 120, report: 60, 'record-failure': 60, freshness: 60 };
  test.each(FUNCTIONS)('%s: Node.js on arm64, Powertools env, config path, own log group', (name) => {
    const id = logicalId('AWS::Lambda::Function', `Functions${pascal(name)}`);
    const props = s.template.toJSON()['Resources'][id]['Properties'];
    expect(props).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: timeouts[name],
      Environment: {
        Variables: {
          POWERTOOLS_SERVICE_NAME: 'forklift',
          POWERTOOLS_METRICS_NAMESPACE: 'Forklift',
          POWERTOOLS_LOG_LEVEL: 'INFO',
          FORKLIFT_CONFIG_PATH: '/var/task/forklift.config.json',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
      LoggingConfig: { LogGroup: { Ref: logicalId('AWS::Logs::LogGroup', `Functions${pascal(name)}Logs`) } },
    });
    s.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  test('discover: the state machine ARN, and no reserved concurrency by default (it needs a quota >= 105)', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Forklift discover',
      ReservedConcurrentExecutions: Match.absent(),
      Environment: { Variables: Match.objectLike({ FORKLIFT_STATE_MACHINE_ARN: { Ref: logicalId('AWS::StepFunctions::StateMachine', 'LoadStateMachine') } }) },
    });
  });

  test('discover: reserved concurrency when the deployer asks for it (context discoverReservedConcurrency)', () => {
    const reserved = synth({ discoverReservedConcurrency: 5 });
    reserved.template.hasResourceProperties('AWS::Lambda::Function', { Description: 'Forklift discover', ReservedConcurrentExecutions: 5 });
    for (const name of FUNCTIONS.filter((n) => n !== 'discover')) {
      reserved.template.hasResourceProperties('AWS::Lambda::Function', { Description: `Forklift ${name}`, ReservedConcurrentExecutions: Match.absent() });
    }
  });

  test('a context discoverReservedConcurrency that is not a positive integer is refused by name', () => {
    const app = new App({ context: { discoverReservedConcurrency: 'five' } });
    expect(() => contextPositiveInteger(app, 'discoverReservedConcurrency')).toThrow(/context discoverReservedConcurrency: expected a positive integer, got "five"/);
    expect(contextPositiveInteger(new App({ context: { discoverReservedConcurrency: '7' } }), 'discoverReservedConcurrency')).toBe(7);
  });

  test('each bundle holds the validated config document as forklift.config.json, readable by the runtime', () => {
    const document = JSON.parse(JSON.stringify(deployedConfigDocument(loadConfigFile(EXAMPLE_CONFIG))));
    for (const name of FUNCTIONS) {
      const id = logicalId('AWS::Lambda::Function', `Functions${pascal(name)}`);
      const key = s.template.toJSON()['Resources'][id]['Properties']['Code']['S3Key'] as string;
      const dir = join(s.outdir, `asset.${key.replace(/\.zip$/, '')}`);
      expect(existsSync(join(dir, 'index.js'))).toBe(true);
      expect(JSON.parse(readFileSync(join(dir, 'forklift.config.json'), 'utf8'))).toEqual(document);
      expect(readConfig(join(dir, 'forklift.config.json')).tables['visits']?.mode).toBe('append');
    }
  });

  test('freshness runs every 15 minutes', () => {
    s.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId('AWS::Lambda::Function', 'FunctionsFreshness'), 'Arn'] } })],
    });
  });
});

describe('state machine', () => {
  test('deploys statemachines/load.asl.json byte for byte, with the three function ARNs substituted', () => {
    const [sm] = Object.values(s.template.findResources('AWS::StepFunctions::StateMachine'));
    const props = sm!['Properties'];
    const file = readFileSync(DEFINITION_FILE, 'utf8');
    const deployed = readFileSync(join(s.outdir, `asset.${props['DefinitionS3Location']['Key']}`), 'utf8');
    expect(deployed).toBe(file);
    const placeholders = [...new Set([...file.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]))].sort();
    expect(Object.keys(props['DefinitionSubstitutions']).sort()).toEqual(placeholders);
    expect(props['DefinitionSubstitutions']).toEqual({
      PrepareFunctionArn: { 'Fn::GetAtt': [logicalId('AWS::Lambda::Function', 'FunctionsPrepare'), 'Arn'] },
      ReportFunctionArn: { 'Fn::GetAtt': [logicalId('AWS::Lambda::Function', 'FunctionsReport'), 'Arn'] },
      RecordFailureFunctionArn: { 'Fn::GetAtt': [logicalId('AWS::Lambda::Function', 'FunctionsRecordFailure'), 'Arn'] },
    });
    // With the substitutions applied the definition is the file with ARNs in the Task resources.
    const arn = (n: string) => `arn:aws:lambda:eu-west-1:123456789012:function:${n}`;
    const applied = JSON.parse(file.replace(/\$\{(\w+)\}/g, (_m, n: string) => arn(n)));
    expect(applied.States.Prepare.Resource).toBe(arn('PrepareFunctionArn'));
    expect(applied.TimeoutSeconds).toBe(JSON.parse(file).TimeoutSeconds);
  });

  test('Standard, logs ALL without execution data, traced', () => {
    s.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: false,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [logicalId('AWS::Logs::LogGroup', 'LoadStateMachineLogs'), 'Arn'] } } }],
      },
      TracingConfiguration: { Enabled: true },
    });
    s.template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/vendedlogs/states/Forklift-load', RetentionInDays: 90 });
  });
});

describe('IAM', () => {
  const dataApi = (submit: string | string[]) => [
    { Sid: 'DataApiSubmit', Effect: 'Allow', Action: submit, Resource: CLUSTER },
    { Sid: 'DataApiStatements', Effect: 'Allow', Action: DATA_API_READ, Resource: '*' },
    CLUSTER_CREDENTIALS,
  ];
  const xray = { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' };
  const logs = (fn: string) => ({
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: flatten({ 'Fn::GetAtt': [logicalId('AWS::Logs::LogGroup', `Functions${fn}Logs`), 'Arn'] }),
  });
  const s3Read = () => [
    { Sid: 'ReadTablePrefixes', Effect: 'Allow', Action: 's3:GetObject', Resource: [objects('events/visits/'), objects('dims/campaigns/')] },
    {
      Sid: 'ListTablePrefixes',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: bucketArn(),
      Condition: { StringLike: { 's3:prefix': ['events/visits/*', 'dims/campaigns/*'] } },
    },
  ];

  test('discover: its queue, StartExecution on the state machine, Data API, table prefixes', () => {
    expect(roleStatements(s.template, 'FunctionsDiscoverRole')).toEqual([
      logs('Discover'),
      xray,
      {
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
        Resource: { 'Fn::GetAtt': [logicalId('AWS::SQS::Queue', 'ObjectEventsQueue'), 'Arn'] },
      },
      { Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: logicalId('AWS::StepFunctions::StateMachine', 'LoadStateMachine') } },
      { Effect: 'Allow', Action: 'states:ListExecutions', Resource: { Ref: logicalId('AWS::StepFunctions::StateMachine', 'LoadStateMachine') } },
      { Effect: 'Allow', Action: 'states:DescribeExecution', Resource: expect.anything() },
      ...dataApi(['redshift-data:BatchExecuteStatement', 'redshift-data:ExecuteStatement']),
      ...s3Read(),
    ]);
  });

  test('prepare: Data API, table prefixes, writes manifests only', () => {
    expect(roleStatements(s.template, 'FunctionsPrepareRole')).toEqual([
      logs('Prepare'),
      xray,
      ...dataApi(['redshift-data:BatchExecuteStatement', 'redshift-data:ExecuteStatement']),
      ...s3Read(),
      { Sid: 'WriteManifests', Effect: 'Allow', Action: 's3:PutObject', Resource: objects('_forklift/manifests/') },
    ]);
  });

  test('record-failure: Data API only; freshness: Data API, starting, listing and describing the load state machine\'s executions and listing the table prefixes (the sweeps); report: nothing but its logs', () => {
    expect(roleStatements(s.template, 'FunctionsRecordFailureRole')).toEqual([
      logs('RecordFailure'),
      xray,
      ...dataApi(['redshift-data:BatchExecuteStatement', 'redshift-data:ExecuteStatement']),
    ]);
    expect(roleStatements(s.template, 'FunctionsFreshnessRole')).toEqual([
      logs('Freshness'),
      xray,
      { Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: logicalId('AWS::StepFunctions::StateMachine', 'LoadStateMachine') } },
      { Effect: 'Allow', Action: 'states:ListExecutions', Resource: { Ref: logicalId('AWS::StepFunctions::StateMachine', 'LoadStateMachine') } },
      { Effect: 'Allow', Action: 'states:DescribeExecution', Resource: expect.anything() },
      ...dataApi(['redshift-data:BatchExecuteStatement', 'redshift-data:ExecuteStatement']),
      s3Read()[1],
    ]);
    expect(roleStatements(s.template, 'FunctionsReportRole')).toEqual([logs('Report'), xray]);
  });

  test('state machine: invokes exactly its three functions, batches on the cluster', () => {
    const statements = roleStatements(s.template, 'LoadStateMachineRole');
    expect(statements).toEqual(
      expect.arrayContaining([
        {
          Sid: 'InvokeLoadFunctions',
          Effect: 'Allow',
          Action: 'lambda:InvokeFunction',
          Resource: ['Prepare', 'Report', 'RecordFailure'].map((f) => ({ 'Fn::GetAtt': [logicalId('AWS::Lambda::Function', `Functions${f}`), 'Arn'] })),
        },
        ...dataApi('redshift-data:BatchExecuteStatement'),
      ]),
    );
    expect(statements).toHaveLength(6); // plus log delivery and X-Ray
  });
});

describe('alarms', () => {
  const alarm = (name: string) => {
    const found = Object.values(s.template.findResources('AWS::CloudWatch::Alarm')).filter((a) => a['Properties']['AlarmName'] === `Forklift-${name}`);
    expect(found).toHaveLength(1);
    const props = found[0]!['Properties'];
    expect(props['AlarmActions']).toEqual([{ Ref: logicalId('AWS::SNS::Topic', 'AlarmsTopic') }]);
    return props;
  };
  const sm = () => [{ Name: 'StateMachineArn', Value: { Ref: logicalId('AWS::StepFunctions::StateMachine', 'LoadStateMachine') } }];

  test.each([
    ['ExecutionsFailed', 'ExecutionsFailed'],
    ['ExecutionsTimedOut', 'ExecutionsTimedOut'],
    ['ExecutionsAborted', 'ExecutionsAborted'],
    ['ExecutionThrottled', 'ExecutionThrottled'],
  ])('state machine %s', (name, metric) => {
    expect(alarm(name)).toMatchObject({
      Namespace: 'AWS/States',
      MetricName: metric,
      Dimensions: sm(),
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  test.each(FUNCTIONS)('%s errors and throttles', (name) => {
    const fn = [{ Name: 'FunctionName', Value: { Ref: logicalId('AWS::Lambda::Function', `Functions${pascal(name)}`) } }];
    for (const [suffix, metric] of [['Errors', 'Errors'], ['Throttles', 'Throttles']] as const) {
      expect(alarm(`${pascal(name)}${suffix}`)).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: metric, Dimensions: fn, Statistic: 'Sum', Threshold: 1 });
    }
  });

  test('dead-letter queue has messages', () => {
    expect(alarm('DeadLetters')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId('AWS::SQS::Queue', 'ObjectEventsDeadLetterQueue'), 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  test.each([
    ['Visits', 'visits', 120],
    ['Campaigns', 'campaigns', 1440],
  ])('%s: data lag over its SLA, missing datapoints breach', (id, table, sla) => {
    expect(alarm(`${id}DataLag`)).toMatchObject({
      Namespace: 'Forklift',
      MetricName: 'DataLagMinutes',
      Dimensions: [{ Name: 'Table', Value: table }, { Name: 'service', Value: 'forklift' }],
      Statistic: 'Maximum',
      Period: 1800,
      Threshold: sla,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  test('visits: aggregate work pending for more than an hour (the sweep emits its age every 15 minutes)', () => {
    expect(alarm('VisitsAggregatesPending')).toMatchObject({
      Namespace: 'Forklift',
      MetricName: 'AggregatePendingMinutes',
      Dimensions: [{ Name: 'Table', Value: 'visits' }, { Name: 'service', Value: 'forklift' }],
      Statistic: 'Maximum',
      Threshold: 60,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    // The sweep starts aggregate-only executions of the load state machine.
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ FORKLIFT_STATE_MACHINE_ARN: { Ref: logicalId('AWS::StepFunctions::StateMachine', 'LoadStateMachine') } }) },
      Description: 'Forklift freshness',
    });
  });

  test.each([
    ['Visits', 'visits'],
    ['Campaigns', 'campaigns'],
  ])('%s: no successful load for alarms.missingDataHours (24) hours', (id, table) => {
    expect(alarm(`${id}NoLoads`)).toMatchObject({
      Namespace: 'Forklift',
      MetricName: 'LoadsSucceeded',
      Dimensions: [{ Name: 'Table', Value: table }, { Name: 'service', Value: 'forklift' }],
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 24,
      DatapointsToAlarm: 24,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  test('3 or more Data API errors in 5 minutes', () => {
    expect(alarm('DataApiErrors')).toMatchObject({
      Namespace: 'Forklift',
      MetricName: 'DataApiErrors',
      Dimensions: [{ Name: 'service', Value: 'forklift' }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 3,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  test('one KMS-encrypted, TLS-only topic; CloudWatch may use the key', () => {
    s.template.resourceCountIs('AWS::SNS::Topic', 1);
    s.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [logicalId('AWS::KMS::Key', 'AlarmsTopicKey'), 'Arn'] } });
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    s.template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }),
        ]),
      },
    });
    // The example config has no emails.
    s.template.resourceCountIs('AWS::SNS::Subscription', 0);
    const count = Object.keys(s.template.findResources('AWS::CloudWatch::Alarm')).length;
    // + 1: pending aggregate work of visits (the only table feeding aggregates).
    expect(count).toBe(4 + 2 * FUNCTIONS.length + 1 + 2 * 2 + 1 + 1);
  });
});

describe('dashboard and outputs', () => {
  test('the dashboard shows rows, loads, lag against the SLA, executions, function errors and durations', () => {
    const [dash] = Object.values(s.template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(flatten(dash!['Properties']['DashboardBody']));
    for (const text of ['Rows loaded per table', 'Loads per table', 'Data lag: visits', 'SLA 120 min', 'SLA 1440 min', 'Load executions', 'Function errors', 'Function duration']) {
      expect(body).toContain(text);
    }
  });

  test('outputs the CLI reads, exported under the stack name', () => {
    const outputs = s.template.toJSON()['Outputs'];
    for (const name of ['LandingBucketName', 'StateMachineArn', 'AlarmTopicArn', 'DashboardUrl']) {
      expect(outputs[name]['Export']).toEqual({ Name: `Forklift-${name}` });
    }
    expect(outputs['LandingBucketName']['Value']).toEqual({ Ref: logicalId('AWS::S3::Bucket', 'LandingBucket') });
  });
});

test('no identity policy grants a wildcard resource except to actions that accept only "*"', () => {
  const allowedOnStar = new Set([
    ...DATA_API_READ,
    'xray:PutTraceSegments',
    'xray:PutTelemetryRecords',
    'xray:GetSamplingRules',
    'xray:GetSamplingTargets',
    'logs:CreateLogDelivery',
    'logs:GetLogDelivery',
    'logs:UpdateLogDelivery',
    'logs:DeleteLogDelivery',
    'logs:ListLogDeliveries',
    'logs:PutResourcePolicy',
    'logs:DescribeResourcePolicies',
    'logs:DescribeLogGroups',
  ]);
  for (const { owner, statement } of allIdentityStatements(s.template)) {
    const resources = list(statement.Resource as unknown);
    if (resources.some((r) => r === '*')) {
      for (const action of list(statement.Action)) expect({ owner, action, allowed: allowedOnStar.has(action) }).toEqual({ owner, action, allowed: true });
    }
    for (const action of list(statement.Action)) expect(action).not.toMatch(/\*$/);
  }
});
