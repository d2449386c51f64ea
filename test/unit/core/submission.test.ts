import { createHash } from 'node:crypto';
import { clientToken, expectedSeconds, pollSchedule } from '../../../functions/core/submission';

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

describe('pollSchedule', () => {
  it('starts at the expected duration, then half of it, then doubles up to the cap', () => {
    expect(pollSchedule(10).slice(0, 7)).toEqual([10, 5, 10, 20, 40, 60, 60]);
  });

  it('keeps every wait within [min, cap] and covers the horizon', () => {
    const waits = pollSchedule(0.2, { minSeconds: 2, capSeconds: 30, horizonSeconds: 600 });
    expect(Math.min(...waits)).toBe(2);
    expect(Math.max(...waits)).toBe(30);
    expect(waits.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(600);
  });

  it('notices a statement that takes as long as expected within two polls', () => {
    const waits = pollSchedule(expectedSeconds(500 * 1024 * 1024)); // 2 s + 10 s at 50 MiB/s
    expect(waits[0]).toBe(12);
    expect(waits[0]! + waits[1]!).toBeGreaterThanOrEqual(12 * 1.5);
  });
});
