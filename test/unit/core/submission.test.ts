import { createHash } from 'node:crypto';
import { clientToken, expectLoad, expectedSeconds, pollSchedule } from '../../../functions/core/submission';

describe('clientToken', () => {
  it('is the SHA-1 hex of <execution>:<step>:<attempt> (what States.Hash computes in the state machine), within the 64 characters the Data API takes', () => {
    const token = clientToken('visits-20261120T120000', 'load', 1);
    expect(token).toBe(createHash('sha1').update('visits-20261120T120000:load:1').digest('hex'));
    expect(token).toHaveLength(40);
  });

  it('differs per step and per attempt, and is stable for the same ones', () => {
    const tokens = new Set([clientToken('e', 'load', 1), clientToken('e', 'load', 2), clientToken('e', 'aggregate', 1), clientToken('f', 'load', 1)]);
    expect(tokens.size).toBe(4);
    expect(clientToken('e', 'load', 1)).toBe(clientToken('e', 'load', 1));
  });
});

/** When a statement that finishes `t` seconds after submission is seen FINISHED, and by which poll (1-based). */
function noticed(waits: number[], t: number): { at: number; polls: number } {
  let at = 0;
  for (let i = 0; i < waits.length; i++) {
    at += waits[i]!;
    if (at >= t) return { at, polls: i + 1 };
  }
  throw new Error(`the schedule ends before ${t} s`);
}

describe('pollSchedule', () => {
  it('polls at the expected duration, then at 3 × the time of the previous poll, each wait capped', () => {
    // Polls at 2, 6, 18, 54, 162 s, then every 300 s.
    expect(pollSchedule(2).slice(0, 7)).toEqual([2, 4, 12, 36, 108, 300, 300]);
  });

  it('keeps every wait within [min, cap] and covers the horizon', () => {
    const waits = pollSchedule(0.2, { minSeconds: 2, capSeconds: 30, horizonSeconds: 600 });
    expect(Math.min(...waits)).toBe(2);
    expect(Math.max(...waits)).toBe(30);
    expect(waits.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(600);
  });

  it('with the default 2 s estimate, notices statements of 1 s at the first poll, 10 s by the third, 100 s by the fifth', () => {
    const waits = pollSchedule(expectedSeconds(0), { minSeconds: 2 });
    expect(noticed(waits, 1).polls).toBe(1);
    expect(noticed(waits, 10).polls).toBe(3);
    expect(noticed(waits, 100).polls).toBe(5);
    expect(noticed(waits, 150).polls).toBe(5);
  });

  it('polls a number of times logarithmic in the runtime, and notices within 2 × the runtime of finishing', () => {
    const waits = pollSchedule(2, { minSeconds: 2 });
    for (const t of [1, 3, 7, 20, 55, 170, 500]) {
      const n = noticed(waits, t);
      expect(n.polls).toBeLessThanOrEqual(1 + Math.ceil(Math.log(Math.max(1, t / 2)) / Math.log(3)));
      expect(n.at - t).toBeLessThanOrEqual(Math.max(2, 2 * t));
    }
    // Past the cap the lag is at most the cap, not a multiple of the runtime.
    const long = noticed(waits, 3 * 3600);
    expect(long.at - 3 * 3600).toBeLessThanOrEqual(300);
  });

  it('a learned estimate is polled first at 1.1 × it, then looked at 1.25, 1.5, 2 and 3 × it before backing off', () => {
    const waits = pollSchedule({ seconds: 40, learned: true });
    expect(waits.slice(0, 6)).toEqual([44, 6, 10, 20, 40, 240]);
    // A load that takes its table's median, or a little more, is seen at the first poll.
    expect(noticed(waits, 40)).toEqual({ at: 44, polls: 1 });
    expect(noticed(waits, 43)).toEqual({ at: 44, polls: 1 });
    expect(noticed(waits, 45)).toEqual({ at: 50, polls: 2 });
    expect(noticed(waits, 55)).toEqual({ at: 60, polls: 3 });
    // Somewhat slower than its table's loads: noticed within half an estimate, then one.
    expect(noticed(waits, 65)).toEqual({ at: 80, polls: 4 });
    expect(noticed(waits, 85)).toEqual({ at: 120, polls: 5 });
    // Up to 3 × the estimate in 5 polls (25 states per load), 9 × in 6, below the cap.
    expect(noticed(pollSchedule({ seconds: 4, learned: true }), 3 * 4).polls).toBe(5);
    expect(noticed(pollSchedule({ seconds: 4, learned: true }), 9 * 4).polls).toBe(6);
  });
});

describe('expectLoad', () => {
  it('without past loads, expects the base plus the bytes at the COPY throughput', () => {
    expect(expectLoad(500 * 1024 * 1024)).toEqual({ seconds: 12, learned: false }); // 2 s + 10 s at 50 MiB/s
  });

  it('with past loads of the table, expects their median, whatever the bytes', () => {
    expect(expectLoad(0, [100, 7, 9])).toEqual({ seconds: 9, learned: true });
    expect(expectLoad(0, [10, 20])).toEqual({ seconds: 15, learned: true });
  });

  it('scales learned durations into Wait seconds on a stack whose Waits run faster than the clock', () => {
    expect(expectLoad(0, [3], { learnedScale: 20 })).toEqual({ seconds: 60, learned: true });
  });

  it('ignores durations that are not a count of seconds', () => {
    expect(expectLoad(0, [Number.NaN, -3])).toEqual({ seconds: 2, learned: false });
  });
});
