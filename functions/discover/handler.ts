/**
 * discover: S3 "object created" events (S3 notifications or EventBridge, through one
 * SQS queue) → at most one load execution per (table, partition) of the batch. The
 * whole batch is coalesced first: the running executions, then one warehouse-state read for
 * its partitions whose load is not running (a running one's event only comes back later), one
 * listing and one decision per partition, and a deterministic execution name so
 * duplicate events (in this batch or later ones) start nothing new.
 *
 * Nothing is lost: one event of a partition whose load is still running is reported as a
 * batch item failure (core/discovery.ts representativeMessage: one stands for all), so SQS redelivers it after the visibility timeout; by then that
 * load committed, and the file ledger (key and ETag) tells which listed files it did not load
 * (a top-up, named after those file versions). A partition whose load failed is attempted
 * again under a retry name (core/discovery.ts). The decisions are the core's; this handler
 * parses, reads and maps; listing and starting one partition is ./partition.ts (shared with the sweep).
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
// zod/mini: the tree-shakable API, so the body schemas do not pull all of zod into the bundle.
import * as z from 'zod/mini';
import { runningExecutionNames } from '../adapters/stepFunctions';
import { KnownRelationsCache, readWarehouseState, stateFor, type Warehouse } from '../adapters/warehouse';
import type { ForkliftConfig } from '../core/config/schema';
import { isoSecond } from '../core/dates';
import { waitBudgetMs, type InvocationContext } from '../core/functionSettings';
import { decodeEventKey, matchKey, tableForKey } from '../core/keys';
import { MetricName } from '../core/metricNames';
import { baseDepsFromEnvironment, lazyHandler, stateMachineArnFromEnvironment } from '../runtime/env';
import { warehouseFromEnvironment } from '../runtime/warehouse';
import type { Log, MetricsSink } from '../runtime/observability';
import { partitionBusy, startPartitionLoad } from './partition';
import { forEachLimited } from '../core/concurrency';
import { representativeMessage } from '../core/discovery';

/** What discover needs. */
export interface DiscoverDeps {
  config: ForkliftConfig;
  s3: S3Client;
  sfn: SFNClient;
  warehouse: Warehouse;
  stateMachineArn: string;
  log: Log;
  metrics: MetricsSink;
  now: () => Date;
  /** Partitions handled at once (listing + StartExecution); default 8. */
  concurrency?: number;
  /** What this instance's state reads saw exist (their DDL is left out); default: one per handler instance. */
  relations?: KnownRelationsCache;
}

const s3NotificationBody = z.object({
  Records: z.array(
    z.object({
      eventName: z.string(),
      s3: z.object({
        bucket: z.object({ name: z.string() }),
        object: z.object({ key: z.string(), size: z.optional(z.number()) }),
      }),
    }),
  ),
});
const eventBridgeBody = z.object({
  source: z.literal('aws.s3'),
  'detail-type': z.string(),
  detail: z.object({
    bucket: z.object({ name: z.string() }),
    object: z.object({ key: z.string(), size: z.optional(z.number()) }),
  }),
});
const testEventBody = z.object({ Event: z.literal('s3:TestEvent') });

/** One object-created event, with its key as S3 stores it. */
interface ObjectEvent {
  bucket: string;
  /** Decoded key, or the raw key with the decoding error. */
  key: string;
  decodeError?: string;
}

/**
 * The object-created events of one SQS body: `[]` for S3 test events and other event types,
 * undefined when the body is not a message discover understands.
 */
export function parseBody(body: string): ObjectEvent[] | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (testEventBody.safeParse(json).success) return [];
  const s3 = s3NotificationBody.safeParse(json);
  if (s3.success) {
    return s3.data.Records.filter((r) => r.eventName.startsWith('ObjectCreated')).map((r) => {
      try {
        return { bucket: r.s3.bucket.name, key: decodeEventKey(r.s3.object.key) };
      } catch (err) {
        return { bucket: r.s3.bucket.name, key: r.s3.object.key, decodeError: (err as Error).message };
      }
    });
  }
  const eb = eventBridgeBody.safeParse(json);
  if (eb.success) {
    if (eb.data['detail-type'] !== 'Object Created') return [];
    return [{ bucket: eb.data.detail.bucket.name, key: eb.data.detail.object.key }];
  }
  return undefined;
}

/** Time kept back to handle one partition (list, decide, start) and to answer with the batch failures. */
const PARTITION_RESERVE_MS = 10_000;

/** One (table, partition) of a batch and the SQS messages that mentioned it. */
interface SeenPartition {
  table: string;
  date: Date;
  partitionKey: string;
  /** Message id → its ApproximateReceiveCount (1 when SQS does not say). */
  messageIds: Map<string, number>;
}

/** Build the discover handler. */
export function createDiscoverHandler(deps: DiscoverDeps): (event: SQSEvent, context?: InvocationContext) => Promise<SQSBatchResponse> {
  const { config, log, metrics } = deps;
  const relations = deps.relations ?? new KnownRelationsCache();

  return async (event, context) => {
    const failed = new Set<string>();
    const seen = new Map<string, SeenPartition>();
    try {
      for (const record of event.Records) collect(record, failed, seen);
      metrics.add(MetricName.PartitionsDiscovered, 'Count', seen.size);
      if (seen.size > 0) await handlePartitions([...seen.values()], failed, context);
    } finally {
      metrics.flush();
    }
    return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
  };

  function collect(record: SQSRecord, failed: Set<string>, seen: Map<string, SeenPartition>): void {
    const events = parseBody(record.body);
    if (events === undefined) {
      log.warn('malformed message: not an S3 event notification or EventBridge Object Created event', {
        messageId: record.messageId,
        body: record.body.slice(0, 500),
      });
      failed.add(record.messageId);
      return;
    }
    for (const e of events) {
      if (e.bucket !== config.landing.bucketName) {
        log.info('event ignored: another bucket', { bucket: e.bucket, key: e.key });
        continue;
      }
      if (e.decodeError !== undefined) {
        reject(e.key, tableForKey(config, e.key), e.decodeError);
        continue;
      }
      const match = matchKey(config, e.key, deps.now());
      if (match.kind === 'ignored') {
        // A key under a table (disabled, or a side file its `ignore` globs match) is worth an info line; others debug.
        if (match.table !== undefined) log.info('key ignored', { key: e.key, table: match.table, reason: match.reason });
        else log.debug('key ignored', { key: e.key, reason: match.reason });
        continue;
      }
      if (match.kind === 'rejected') {
        reject(e.key, match.table, match.reason);
        continue;
      }
      const id = `${match.table}\u0000${match.partitionDate.getTime()}`;
      let p = seen.get(id);
      if (!p) {
        p = { table: match.table, date: match.partitionDate, partitionKey: match.partitionKey, messageIds: new Map() };
        seen.set(id, p);
      }
      p.messageIds.set(record.messageId, receiveCount(record));
    }
  }

  function reject(key: string, table: string | undefined, reason: string): void {
    // The key is logged as JSON (escaped), never put into SQL; redelivery would not make it valid.
    log.warn('key rejected', { key: key.slice(0, 1100), table, reason });
    metrics.add(MetricName.KeysRejected, 'Count', 1, table ?? 'unknown');
  }

  async function handlePartitions(seenPartitions: SeenPartition[], failed: Set<string>, context: InvocationContext | undefined): Promise<void> {
    let states;
    let running: Set<string>;
    // Before the state read: an execution not running now has committed (or failed) before the read.
    const checkedAt = new Date();
    try {
      running = await runningExecutionNames(deps.sfn, deps.stateMachineArn);
    } catch (err) {
      log.error('running executions read failed; the batch will be redelivered', { error: describe(err) });
      for (const p of seenPartitions) p.messageIds.forEach((_, id) => failed.add(id));
      return;
    }
    // A partition whose load runs comes back later (one of its messages): it needs no state read nor listing now.
    const partitions = seenPartitions.filter((p) => {
      if (!partitionBusy(deps, p, running)) return true;
      const kept = representativeMessage(p.messageIds);
      if (kept !== undefined) failed.add(kept);
      return false;
    });
    if (partitions.length === 0) return;
    const byTable = new Map<string, Date[]>();
    for (const p of partitions) byTable.set(p.table, [...(byTable.get(p.table) ?? []), p.date]);
    try {
      states = await readWarehouseState(
        deps.warehouse,
        config,
        [...byTable].map(([table, candidates]) => ({ table, candidates })),
        // The state read waits inside the function's timeout (leaving time to answer).
        { timeoutMs: waitBudgetMs(context, 300_000, PARTITION_RESERVE_MS) },
        relations,
      );
    } catch (err) {
      log.error('warehouse state read failed; the batch will be redelivered', { error: describe(err) });
      for (const p of partitions) p.messageIds.forEach((_, id) => failed.add(id));
      return;
    }
    await forEachLimited(partitions, deps.concurrency ?? 8, async (p) => {
      // Out of time: leave the rest to a redelivery rather than let the timeout fail the whole batch.
      if (context !== undefined && context.getRemainingTimeInMillis() < PARTITION_RESERVE_MS) {
        log.info('out of time for this batch; the partition\'s events will be redelivered', { table: p.table, partition: isoSecond(p.date) });
        p.messageIds.forEach((_, id) => failed.add(id));
        return;
      }
      try {
        // 'redeliver' when a load of the partition is running (or stopped after the state was read):
        // its events come back after the visibility timeout, once that load committed.
        const started = await startPartitionLoad(deps, p, stateFor(states.get(p.table), p.date), running, checkedAt);
        const kept = started.outcome === 'redeliver' ? representativeMessage(p.messageIds) : undefined;
        if (kept !== undefined) failed.add(kept);
      } catch (err) {
        log.error('partition not handled; its messages will be redelivered', {
          table: p.table,
          partition: isoSecond(p.date),
          error: describe(err),
        });
        p.messageIds.forEach((_, id) => failed.add(id));
      }
    });
  }

}

/** The message's ApproximateReceiveCount (1 when absent or unreadable). */
function receiveCount(record: SQSRecord): number {
  const n = Number(record.attributes?.ApproximateReceiveCount);
  return Number.isFinite(n) && n > 0 ? n : 1;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}


/** The Lambda entry point (deps from the environment, built at cold start). */
export const handler = lazyHandler(() => {
  const base = baseDepsFromEnvironment();
  return createDiscoverHandler({ ...base, s3: new S3Client({}), sfn: new SFNClient({}), warehouse: warehouseFromEnvironment(base), stateMachineArn: stateMachineArnFromEnvironment() });
});
