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
  /** Longest wait (seconds). Default 300: past it, the lag is at most 5 minutes of a run that long. */
  capSeconds?: number;
  /** The schedule covers at least this long (seconds): the execution timeout. Default 21600. */
  horizonSeconds?: number;
  /**
   * After the expected duration, each poll comes at this multiple of the time since submission of
   * the one before (default 3): the number of polls grows with the logarithm of the runtime, and a
   * statement is noticed within (growth − 1) × its runtime of finishing.
   */
  growth?: number;
  /**
   * Wait seconds per second a past load took (default 1). A local stack whose Wait states run
   * faster than the wall clock (waitScale) sets 1 / waitScale, so that a learned wait lasts as long
   * as the loads it learned from.
   */
  learnedScale?: number;
}

const DEFAULTS: Required<PollingOptions> = {
  baseSeconds: 2,
  bytesPerSecond: 50 * 1024 * 1024,
  minSeconds: 1,
  capSeconds: 300,
  horizonSeconds: 21_600,
  growth: 3,
  learnedScale: 1,
};

/** The expected duration of a batch that loads `bytes` (seconds, at least the base). */
export function expectedSeconds(bytes: number, options: PollingOptions = {}): number {
  const o = { ...DEFAULTS, ...options };
  return o.baseSeconds + Math.max(0, bytes) / o.bytesPerSecond;
}

/** A batch's expected duration, and whether past loads taught it (a learned estimate is trusted closer). */
export interface Expectation {
  seconds: number;
  learned: boolean;
}

/**
 * The expected duration of a load batch: the median of the table's recent loads (`pastSeconds`,
 * Prepare's planning of the batch to its audit row, as the warehouse-state read returns them) when there
 * are any, else the estimate from the bytes to load ({@link expectedSeconds}). Nothing to calibrate:
 * the first loads of a table use the bytes, the next ones what the earlier ones took.
 */
export function expectLoad(bytes: number, pastSeconds: readonly number[] = [], options: PollingOptions = {}): Expectation {
  const past = pastSeconds.filter((s) => Number.isFinite(s) && s >= 0).sort((a, b) => a - b);
  if (past.length === 0) return { seconds: expectedSeconds(bytes, options), learned: false };
  const mid = Math.floor(past.length / 2);
  const median = past.length % 2 ? past[mid]! : (past[mid - 1]! + past[mid]!) / 2;
  return { seconds: Math.max(median, 0.5) * (options.learnedScale ?? DEFAULTS.learnedScale), learned: true };
}

/** The first poll at a learned estimate, and the looks after it, as multiples of it. */
const LEARNED_FIRST_LOOK = 1.1;
const LEARNED_LOOKS = [1.25, 1.5, 2, 3];

/**
 * The waits of one polling loop, in order. The first poll comes at the expected duration, a
 * learned one at 1.1 × it: a load as long as the median ends around the median (its audit row's
 * time is whole seconds, GETDATE, read with half a second added, and the batch commits after that
 * row), so a look exactly there misses half of them and one 10% later sees most at the first poll
 * (`npm run bench -- --only polling`). A learned estimate then gets four more looks, at 1.25, 1.5,
 * 2 and 3 × it (most statements finish near what the table's loads took, and one that runs somewhat longer, on a busy warehouse, is still
 * noticed within half to one estimate of finishing, not at 4.5 × it); after that, each poll comes at
 * `growth` × the time of the one before (default 3: e, 3e, 9e, 27e … from the submission), each
 * wait within [min, cap], until the horizon is covered. So a statement is noticed within
 * (growth − 1) × its runtime of finishing (past the cap, within the cap), and one that takes T
 * seconds costs about 1 + log_growth(T / e) polls: with the default 2 s estimate, a 1 s statement
 * 1 poll, 10 s 3, 100 s 5; with a learned one, up to 3 × it in 5, 9 × it in 6. Whole seconds (Wait
 * states take integers).
 */
export function pollSchedule(expected: number | Expectation, options: PollingOptions = {}): number[] {
  const o = { ...DEFAULTS, ...options };
  const e = typeof expected === 'number' ? { seconds: expected, learned: false } : expected;
  const clamp = (s: number): number => Math.min(o.capSeconds, Math.max(o.minSeconds, Math.round(s)));
  const growth = Math.max(1.1, o.growth);
  const close = e.learned ? LEARNED_LOOKS.map((f) => e.seconds * f) : [];
  const waits: number[] = [];
  let total = 0;
  let at = e.learned ? e.seconds * LEARNED_FIRST_LOOK : e.seconds;
  while (total < o.horizonSeconds) {
    const wait = clamp(at - total);
    waits.push(wait);
    total += wait;
    at = close.shift() ?? total * growth;
  }
  return waits;
}

/** Attempts of a batch whose transaction was aborted by a serialization conflict (Redshift error 1023). */
export const CONFLICT_MAX_ATTEMPTS = 5;
