import { lazyHandler } from '../../../functions/runtime/env';

describe('lazyHandler', () => {
  it('passes the Lambda context on to the handler it builds (their waits are bounded by its remaining time)', async () => {
    const seen: unknown[] = [];
    const handler = lazyHandler(() => async (event: string, context?: { getRemainingTimeInMillis(): number }) => {
      seen.push(context?.getRemainingTimeInMillis());
      return event;
    });
    await expect(handler('a', { getRemainingTimeInMillis: () => 1234 })).resolves.toBe('a');
    expect(seen).toEqual([1234]);
  });

  it('builds the handler once, at the first invocation', async () => {
    let builds = 0;
    const handler = lazyHandler(() => {
      builds++;
      return async (event: number) => event * 2;
    });
    expect(builds).toBe(0);
    await handler(1);
    await handler(2);
    expect(builds).toBe(1);
  });
});
