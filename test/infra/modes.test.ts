import { Match } from 'aws-cdk-lib/assertions';
import { ConfigError } from '../../functions/core/errors';
import { allIdentityStatements, configVariant, list, roleStatements, synth, WORKGROUP_ARN } from './helpers';

const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:forklift/redshift-AbCdEf';
const DATA_API_ROLES = ['FunctionsDiscoverRole', 'FunctionsPrepareRole', 'FunctionsRecordFailureRole', 'FunctionsFreshnessRole', 'LoadStateMachineRole'];

describe('imported landing bucket', () => {
  const configPath = configVariant((doc) => {
    doc['landing'] = { bucketName: 'their-existing-bucket', existing: true };
  });
  const { template } = synth({ configPath });

  test('creates no bucket and edits no notification configuration', () => {
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.resourceCountIs('AWS::S3::BucketPolicy', 0);
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
  });

  test('EventBridge Object Created events under the table prefixes go to the queue', () => {
    const queueId = Object.keys(template.findResources('AWS::SQS::Queue')).find((id) => id.startsWith('ObjectEventsQueue'))!;
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: { bucket: { name: ['their-existing-bucket'] }, object: { key: [{ prefix: 'events/visits/' }, { prefix: 'dims/campaigns/' }] } },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } })],
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'events.amazonaws.com' }, Action: Match.arrayWith(['sqs:SendMessage']) })]) },
    });
  });

  test('functions read the imported bucket by name, scoped to the prefixes', () => {
    expect(roleStatements(template, 'FunctionsPrepareRole')).toEqual(
      expect.arrayContaining([
        {
          Sid: 'ReadTablePrefixes',
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: ['arn:aws:s3:::their-existing-bucket/events/visits/*', 'arn:aws:s3:::their-existing-bucket/dims/campaigns/*'],
        },
        { Sid: 'WriteManifests', Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::their-existing-bucket/_forklift/manifests/*' },
      ]),
    );
  });
});

describe('warehouse modes', () => {
  test('cluster + secret: GetSecretValue on exactly that secret, no cluster credentials', () => {
    const configPath = configVariant((doc) => {
      delete doc['warehouse']['dbUser'];
      doc['warehouse']['secretArn'] = SECRET;
    });
    const { template } = synth({ configPath });
    for (const role of DATA_API_ROLES) {
      const statements = roleStatements(template, role);
      expect(statements).toEqual(
        expect.arrayContaining([
          { Sid: 'WarehouseSecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: SECRET },
          expect.objectContaining({ Sid: 'DataApiSubmit', Resource: 'arn:aws:redshift:eu-west-1:123456789012:cluster:forklift-example' }),
        ]),
      );
      expect(statements.flatMap((s) => list(s.Action))).not.toContain('redshift:GetClusterCredentials');
    }
  });

  const serverless = () =>
    configVariant((doc) => {
      delete doc['warehouse']['dbUser'];
      delete doc['warehouse']['clusterIdentifier'];
      doc['warehouse']['workgroupName'] = 'forklift';
    });

  test('serverless: Data API and GetCredentials on the workgroup ARN', () => {
    const { template } = synth({ configPath: serverless(), workgroupArn: WORKGROUP_ARN });
    const statements = roleStatements(template, 'RedshiftIdentityRole');
    expect(statements).toEqual(
      expect.arrayContaining([
        { Sid: 'DataApiSubmit', Effect: 'Allow', Action: ['redshift-data:BatchExecuteStatement', 'redshift-data:ExecuteStatement'], Resource: WORKGROUP_ARN },
        { Sid: 'WorkgroupCredentials', Effect: 'Allow', Action: 'redshift-serverless:GetCredentials', Resource: WORKGROUP_ARN },
      ]),
    );
    const actions = allIdentityStatements(template).flatMap(({ statement }) => list(statement.Action));
    expect(actions.filter((a) => a.startsWith('redshift:'))).toEqual([]);
  });

  test('serverless with IAM credentials: the Data API functions and the state machine share one role, so one database user IAMR:<role>', () => {
    const { template } = synth({ configPath: serverless(), workgroupArn: WORKGROUP_ARN });
    const roles = template.findResources('AWS::IAM::Role');
    const [identity, ...others] = Object.keys(roles).filter((id) => id.startsWith('RedshiftIdentityRole'));
    expect(others).toEqual([]);
    expect(roles[identity!]!['Properties']['AssumeRolePolicyDocument']['Statement']).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' } },
    ]);
    // No role of their own for the Data API callers; report keeps its own.
    for (const role of DATA_API_ROLES) expect(Object.keys(roles).filter((id) => id.startsWith(role))).toEqual([]);
    const roleOf = (prefix: string) => {
      const fn = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith(prefix))!;
      return fn[1]['Properties']['Role'];
    };
    for (const fn of ['FunctionsDiscover', 'FunctionsPrepare', 'FunctionsRecordFailure', 'FunctionsFreshness']) {
      expect(roleOf(fn)).toEqual({ 'Fn::GetAtt': [identity, 'Arn'] });
    }
    expect(roleOf('FunctionsReport')).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^FunctionsReportRole/), 'Arn'] });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { RoleArn: { 'Fn::GetAtt': [identity, 'Arn'] } });
    template.hasOutput('WarehouseDatabaseUser', { Value: { 'Fn::Join': ['', ['IAMR:', { Ref: identity }]] } });
    // IAM refuses a policy whose statement ids repeat: the shared role's policy keeps them unique.
    for (const p of Object.values(template.findResources('AWS::IAM::Policy'))) {
      const sids = (p['Properties']['PolicyDocument']['Statement'] as Array<{ Sid?: string }>).flatMap((st) => (st.Sid ? [st.Sid] : []));
      expect(sids).toEqual([...new Set(sids)]);
    }
  });

  test('serverless with a secret, or a cluster: one database user whatever the role, so each caller keeps a role of its own', () => {
    const configPath = configVariant((doc) => {
      delete doc['warehouse']['dbUser'];
      delete doc['warehouse']['clusterIdentifier'];
      doc['warehouse']['workgroupName'] = 'forklift';
      doc['warehouse']['secretArn'] = SECRET;
    });
    for (const { template } of [synth({ configPath, workgroupArn: WORKGROUP_ARN }), synth()]) {
      const roles = Object.keys(template.findResources('AWS::IAM::Role'));
      expect(roles.filter((id) => id.startsWith('RedshiftIdentityRole'))).toEqual([]);
      for (const role of DATA_API_ROLES) expect(roles.filter((id) => id.startsWith(role))).toHaveLength(1);
      expect(Object.keys(template.findOutputs('WarehouseDatabaseUser'))).toEqual([]);
    }
  });

  test('serverless without the workgroup ARN fails synthesis and says how to get it', () => {
    expect(() => synth({ configPath: serverless() })).toThrow(/needs the workgroup's ARN.*-c workgroupArn=.*get-workgroup --workgroup-name forklift/s);
  });
});

test('an invalid config fails synthesis with every problem listed by path', () => {
  const configPath = configVariant((doc) => {
    doc['tables']['visits']['columns']['ip'] = 'strng';
    doc['landing']['bucketName'] = 'Not_A_Bucket';
  });
  let error: unknown;
  try {
    synth({ configPath });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const message = (error as Error).message;
  expect(message).toContain('tables.visits.columns.ip.type');
  expect(message).toContain('landing.bucketName');
});

test('alarm emails subscribe to the topic; tracing can be turned off', () => {
  const configPath = configVariant((doc) => {
    doc['alarms'] = { emails: ['oncall@example.com', 'data@example.com'], missingDataHours: 6 };
  });
  const { template } = synth({ configPath, tracing: false });
  template.resourceCountIs('AWS::SNS::Subscription', 2);
  template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
  template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'LoadsSucceeded', EvaluationPeriods: 6, DatapointsToAlarm: 6 });
  template.hasResourceProperties('AWS::StepFunctions::StateMachine', { TracingConfiguration: { Enabled: false } });
  const actions = allIdentityStatements(template).flatMap(({ statement }) => list(statement.Action));
  expect(actions.filter((a) => a.startsWith('xray:'))).toEqual([]);
});
