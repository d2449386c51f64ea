/**
 * The landing bucket: created with Forklift's hardening (private, TLS only,
 * encrypted, versioned, access-logged, manifests expired), or imported by name
 * when the config says `landing.existing: true`.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { ForkliftConfig } from '../functions/core/config/schema';

/** Props of {@link Landing}. */
export interface LandingProps {
  readonly config: ForkliftConfig;
}

/** Days after which Forklift's own COPY manifests, and noncurrent object versions, expire. */
export const MANIFEST_EXPIRY_DAYS = 30;
/** Days server access logs are kept. */
export const ACCESS_LOG_EXPIRY_DAYS = 90;

/** The S3 side: the landing bucket, and its access-log bucket when Forklift owns the bucket. */
export class Landing extends Construct {
  /** The landing bucket (created or imported). */
  readonly bucket: s3.IBucket;
  /** True when the bucket was created by this stack (notifications and bucket policy are ours to edit). */
  readonly owned: boolean;
  /** The server access log bucket, when the landing bucket is created here. */
  readonly accessLogs: s3.Bucket | undefined;

  constructor(scope: Construct, id: string, props: LandingProps) {
    super(scope, id);
    const { landing, tables, warehouse } = props.config;
    this.owned = !landing.existing;

    if (landing.existing) {
      this.bucket = s3.Bucket.fromBucketName(this, 'Bucket', landing.bucketName);
      this.accessLogs = undefined;
      return;
    }

    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(ACCESS_LOG_EXPIRY_DAYS) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the server access log destination of the landing bucket; logging it to itself would loop, and to another bucket would only move the problem.',
    });
    this.accessLogs = accessLogs;

    const bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: landing.bucketName,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'landing/',
      lifecycleRules: [
        { id: 'expire-forklift-manifests', prefix: landing.manifestPrefix, expiration: Duration.days(MANIFEST_EXPIRY_DAYS) },
        { id: 'expire-noncurrent-versions', noncurrentVersionExpiration: Duration.days(MANIFEST_EXPIRY_DAYS) },
      ],
      // The landed data is the user's: deleting the stack never deletes it.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bucket = bucket;

    // COPY runs as the warehouse's role (not ours to edit): grant it read on exactly
    // what COPY reads, the tables' prefixes and the manifests, through the bucket policy.
    const copyRole = new iam.ArnPrincipal(warehouse.copyRoleArn);
    const readPrefixes = [...Object.values(tables).map((t) => t.prefix), landing.manifestPrefix];
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'ForkliftCopyRoleRead',
        principals: [copyRole],
        actions: ['s3:GetObject'],
        resources: readPrefixes.map((p) => bucket.arnForObjects(`${p}*`)),
      }),
    );
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'ForkliftCopyRoleList',
        principals: [copyRole],
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': readPrefixes.map((p) => `${p}*`) } },
      }),
    );
  }
}
