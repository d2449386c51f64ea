/**
 * cdk-nag AwsSolutions findings Forklift acknowledges, each with the reason it is by
 * design. Everything else must pass: synthesis fails on an unacknowledged error.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { DATA_API_WILDCARD_REASON } from './redshiftAccess';

/** The id cdk-nag gives one wildcard finding of AwsSolutions-IAM5. */
function iam5(finding: string): string {
  return `AwsSolutions::AwsSolutions-IAM5[${finding}]`;
}

/** Reason for the X-Ray actions' `Resource: *` (added by active tracing). */
export const XRAY_WILDCARD_REASON =
  'X-Ray PutTraceSegments/PutTelemetryRecords (added by active tracing) have no resource type and accept only "*".';
/** Reason for Step Functions' log-delivery actions' `Resource: *`. */
export const LOG_DELIVERY_WILDCARD_REASON =
  'Step Functions logging needs logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies and DescribeLogGroups, which accept only "*" (CloudWatch Logs vended log delivery).';
/** Reason for object wildcards under a configured prefix. */
export const PREFIX_WILDCARD_REASON =
  'Object ARNs end in "<prefix>*" for exactly one configured prefix (a table\'s objects, or Forklift\'s manifests): object keys under a prefix are not known in advance.';

/**
 * Acknowledges `Resource: *` on a role whose only unscopable actions are the Data API
 * statement actions, plus X-Ray when traced and log delivery for the state machine.
 */
export function acknowledgeStarResource(role: IConstruct, uses: { dataApi: boolean; xray: boolean; logDelivery?: boolean }): void {
  const reasons = [
    ...(uses.dataApi ? [DATA_API_WILDCARD_REASON] : []),
    ...(uses.xray ? [XRAY_WILDCARD_REASON] : []),
    ...(uses.logDelivery ? [LOG_DELIVERY_WILDCARD_REASON] : []),
  ];
  if (reasons.length) Validations.of(role).acknowledge({ id: iam5('Resource::*'), reason: reasons.join(' ') });
}

/** How cdk-nag prints an object ARN of `bucket` under `prefix` (with a trailing `*`). */
export function nagObjectArn(bucket: s3.IBucket, prefix: string): string {
  const stack = Stack.of(bucket);
  const cfn = bucket.node.defaultChild;
  if (cfn instanceof s3.CfnBucket) return `<${stack.getLogicalId(cfn)}.Arn>/${prefix}*`;
  return `arn:<AWS::Partition>:s3:::${bucket.bucketName}/${prefix}*`;
}

/** Acknowledges the `<prefix>*` object wildcards of `role` (one finding per prefix). */
export function acknowledgePrefixWildcards(role: iam.IRole, bucket: s3.IBucket, prefixes: readonly string[]): void {
  for (const prefix of prefixes) {
    Validations.of(role).acknowledge({ id: iam5(`Resource::${nagObjectArn(bucket, prefix)}`), reason: PREFIX_WILDCARD_REASON });
  }
}

/** Acknowledges the findings on CDK's own bucket-notification custom resource, when the stack has one. */
export function acknowledgeBucketNotificationsHandler(stack: Stack): void {
  for (const child of stack.node.children) {
    if (!child.node.id.startsWith('BucketNotificationsHandler')) continue;
    Validations.of(child).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'aws-cdk-lib\'s own custom resource that writes the landing bucket\'s notification configuration during deployment (s3:PutBucketNotification on that bucket); its role and managed logging policy are fixed by aws-cdk-lib and it never runs outside deployments.',
    });
  }
}
