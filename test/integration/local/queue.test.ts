/**
 * The local SQS queue in front of discover behaves as the event source mapping does: at most
 * DISCOVER_MAX_CONCURRENCY batches run at once (the maximum concurrency CDK deploys); the rest
 * wait in the queue unreceived, so a burst never spends their receive counts.
 */
import type { S3EventRecord } from 'aws-lambda';
import { DISCOVER_MAX_CONCURRENCY } from '../../../functions/core/functionSettings';
import { SqsBatcher } from '../../../local/pipeline';

const record = (key: string): S3EventRecord => ({ s3: { bucket: { name: 'b' }, object: { key, size: 1 } } }) as unknown as S3EventRecord;

it(`runs at most ${DISCOVER_MAX_CONCURRENCY} discover batches at once; the others wait without a receive`, async () => {
  let running = 0;
  let most = 0;
  const receiveCounts: string[] = [];
  const queue = new SqsBatcher(
    async (event) => {
      running++;
      most = Math.max(most, running);
      receiveCounts.push(...event.Records.map((r) => r.attributes.ApproximateReceiveCount));
      await new Promise((resolve) => setTimeout(resolve, 20));
      running--;
      return { batchItemFailures: [] };
    },
    5,
    1,
    5,
    0,
    DISCOVER_MAX_CONCURRENCY,
  );
  for (let i = 0; i < 4 * DISCOVER_MAX_CONCURRENCY; i++) queue.send(record(`k${i}`));
  await queue.idle();
  expect(most).toBe(DISCOVER_MAX_CONCURRENCY);
  expect(receiveCounts).toHaveLength(4 * DISCOVER_MAX_CONCURRENCY);
  expect(new Set(receiveCounts)).toEqual(new Set(['1']));
  expect(queue.deadLetters).toEqual([]);
});
