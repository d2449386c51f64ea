/**
 * Event delivery: objects created under a table's prefix → one SQS queue (with a
 * dead-letter queue) → discover, in batches. S3 notifies the queue directly for a
 * bucket this stack owns; an imported bucket is reached through EventBridge instead,
 * because CDK cannot safely edit the notification configuration of a bucket it does
 * not own (it would replace the owner's existing notifications).
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { Validations } from 'aws-cdk-lib';
import { DISCOVER_BATCHING_WINDOW_SECONDS, DISCOVER_VISIBILITY_TIMEOUT_SECONDS } from '../functions/core/functionSettings';

/** SQS → discover batching. */
export const DISCOVER_BATCH_SIZE = 100;
/** How long the poller gathers a batch: a burst of 1,000 objects becomes a few invocations. */
export const DISCOVER_BATCHING_WINDOW = Duration.seconds(DISCOVER_BATCHING_WINDOW_SECONDS);
/** Receives before a message moves to the dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;

/** Props of {@link ObjectEvents}. */
export interface ObjectEventsProps {
  readonly bucket: s3.IBucket;
  /** True when the stack created the bucket (S3 notifications); false for an imported one (EventBridge). */
  readonly ownedBucket: boolean;
  /** Table prefixes to watch (one notification, or one EventBridge prefix filter, each). */
  readonly prefixes: readonly string[];
  /** The consumer. */
  readonly discover: lambda.IFunction;
  /** discover's reserved concurrency: the event source never runs more pollers than that. */
  readonly maxConcurrency: number;
}

/** The queue, its dead-letter queue and the wiring from the bucket to discover. */
export class ObjectEvents extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  /** The EventBridge rule, for an imported bucket. */
  readonly rule: events.Rule | undefined;

  constructor(scope: Construct, id: string, props: ObjectEventsProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the object-event queue; it has no dead-letter queue of its own.',
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(DISCOVER_VISIBILITY_TIMEOUT_SECONDS),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    if (props.ownedBucket) {
      const destination = new s3n.SqsDestination(this.queue);
      for (const prefix of props.prefixes) {
        props.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, destination, { prefix });
      }
      this.rule = undefined;
    } else {
      this.rule = new events.Rule(this, 'ObjectCreated', {
        description: 'Objects created under a Forklift table prefix of the imported landing bucket',
        eventPattern: {
          source: ['aws.s3'],
          detailType: ['Object Created'],
          detail: {
            bucket: { name: [props.bucket.bucketName] },
            object: { key: props.prefixes.map((prefix) => ({ prefix })) },
          },
        },
        targets: [new targets.SqsQueue(this.queue)],
      });
    }

    props.discover.addEventSource(
      new sources.SqsEventSource(this.queue, {
        batchSize: DISCOVER_BATCH_SIZE,
        maxBatchingWindow: DISCOVER_BATCHING_WINDOW,
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency,
      }),
    );
  }
}
