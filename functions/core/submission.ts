/**
 * How the state machine submits a batch and waits for it: the ClientToken that makes a
 * retried submission idempotent, and the polling schedule that notices completion soon
 * after it happens without paying a state transition per second of runtime.
 */
import { createHash } from 'node:crypto';

/** Which batch of an execution a token is for. */
export type SubmissionStep = 'load' | 'aggregate';

/**
 * The Data API ClientToken of one submission: SHA-1 hex (40 characters; the API takes 1 to 64)
 * of `<execution name>:<step>:<attempt>`. A Retry of the same submission sends the same token,
 * so a batch the Data API accepted but answered with an error is not run twice; a resubmission
 * after the batch failed (a serialization conflict) is another attempt, with another token. The
 * state machine computes the same value with `States.Hash(States.Format('{}:{}:{}', ...), 'SHA-1')`.
 */
export function clientToken(executionName: string, step: SubmissionStep, attempt: number): string {
  return createHash('sha1').update(`${executionName}:${step}:${attempt}`, 'utf8').digest('hex');
}

/** How long statements are expected to take, and the bounds of the schedule. */
export interface PollingOptions {
  /** Fixed part of a batch's duration (seconds): queueing, DDL, commit. Default 2. */
  baseSeconds?: number;
  /** Throughput COPY is expected to reach (bytes per second). Default 50 MiB/s. */
  bytesPerSecond?: number;
  /** Shortest wait (seconds). Default 1. */
  minSeconds?: number;
  /** Longest wait (seconds). Default 60. */
  capSeconds?: number;
  /** The schedule covers at least this long (seconds): the execution timeout. Default 21600. */
  horizonSeconds?: number;
}

const DEFAULTS: Required<PollingOptions> = {
  baseSeconds: 2,
  bytesPerSecond: 50 * 1024 * 1024,
  minSeconds: 1,
  capSeconds: 60,
  horizonSeconds: 21_600,
};

/** The expected duration of a batch that loads `bytes` (seconds, at least the base). */
export function expectedSeconds(bytes: number, options: PollingOptions = {}): number {
  const o = { ...DEFAULTS, ...options };
  return o.baseSeconds + Math.max(0, bytes) / o.bytesPerSecond;
}

/**
 * The waits of one polling loop, in order: the first at the expected duration, then half of
 * it, then doubling (e, e/2, e, 2e, 4e ...), each within [min, cap], until the horizon is
 * covered. A statement that finishes when expected is noticed within e/2 of finishing, with two
 * polls; one 10× longer than expected takes about five. Whole seconds (Wait states take
 * integers).
 */
export function pollSchedule(expected: number, options: PollingOptions = {}): number[] {
  const o = { ...DEFAULTS, ...options };
  const clamp = (s: number): number => Math.min(o.capSeconds, Math.max(o.minSeconds, Math.round(s)));
  const waits = [clamp(expected), clamp(expected / 2)];
  let next = expected;
  let total = waits[0]! + waits[1]!;
  while (total < o.horizonSeconds) {
    const wait = clamp(next);
    waits.push(wait);
    total += wait;
    next *= 2;
  }
  return waits;
}

/** Attempts of a batch whose transaction was aborted by a serialization conflict (Redshift error 1023). */
export const CONFLICT_MAX_ATTEMPTS = 5;
