/**
 * Timeout and memory of each Lambda function: one source read by the CDK stack
 * (infra/functions.ts) and by the local stack, which enforces the same timeouts on the
 * handlers it invokes and hands them the same `getRemainingTimeInMillis()`.
 */
import type { FunctionName } from './metricNames';

/** One function's settings. */
export interface FunctionSettings {
  /** Lambda timeout (seconds). */
  readonly timeoutSeconds: number;
  readonly memoryMiB: number;
}

/** discover is also the SQS consumer: the queue's visibility timeout derives from its timeout. */
export const FUNCTION_SETTINGS: Readonly<Record<FunctionName, FunctionSettings>> = {
  discover: { timeoutSeconds: 60, memoryMiB: 512 },
  prepare: { timeoutSeconds: 120, memoryMiB: 512 },
  report: { timeoutSeconds: 60, memoryMiB: 256 },
  'record-failure': { timeoutSeconds: 60, memoryMiB: 256 },
  freshness: { timeoutSeconds: 60, memoryMiB: 256 },
};

/**
 * At most this many discover batches run at once: the SQS event source's maximum concurrency
 * (CDK) and the local queue's cap. Messages beyond it wait in the queue, unreceived.
 */
export const DISCOVER_MAX_CONCURRENCY = 5;

/** How long the SQS poller gathers a discover batch (seconds): a burst of 1,000 objects becomes a few invocations. */
export const DISCOVER_BATCHING_WINDOW_SECONDS = 20;

/**
 * The discover queue's visibility timeout (seconds): 6 × discover's timeout plus the batching
 * window, as AWS advises for a Lambda event source. A message discover reports back (a partition
 * whose load still runs) is received again after it; the CDK stack and the local queue read it.
 */
export const DISCOVER_VISIBILITY_TIMEOUT_SECONDS = 6 * FUNCTION_SETTINGS.discover.timeoutSeconds + DISCOVER_BATCHING_WINDOW_SECONDS;

/** The part of the Lambda context handlers use to budget their waits. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

/**
 * How long a handler may still wait on something (a statement to finish), leaving
 * `reserveMs` to map the result and return: the remaining invocation time minus the
 * reserve, never below zero. Without a context (a direct call), `fallbackMs`.
 */
export function waitBudgetMs(context: InvocationContext | undefined, fallbackMs: number, reserveMs = 5_000): number {
  if (context === undefined) return fallbackMs;
  return Math.max(0, Math.min(fallbackMs, context.getRemainingTimeInMillis() - reserveMs));
}
