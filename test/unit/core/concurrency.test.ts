import { forEachLimited } from '../../../functions/core/concurrency';

describe('forEachLimited', () => {
  it('runs every item once with at most `limit` at once', async () => {
    let active = 0;
    let peak = 0;
    const done: number[] = [];
    await forEachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (item, index) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((resolve) => setImmediate(resolve));
      expect(index).toBe(item - 1);
      done.push(item);
      active--;
    });
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(peak).toBe(3);
  });

  it('does nothing for no items', async () => {
    const work = jest.fn(async () => undefined);
    await forEachLimited([], 4, work);
    expect(work).not.toHaveBeenCalled();
  });
});
