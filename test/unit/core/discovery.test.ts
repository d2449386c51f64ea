import { busyExecution, nameTaken, planPartitionStart, representativeMessage, sweepCandidates, type PartitionStartArgs } from '../../../functions/core/discovery';
import { aggregateRunName, executionName, retryExecutionName, topUpExecutionName } from '../../../functions/core/names';
import type { ObjectInfo } from '../../../functions/core/types';
import { exampleConfig } from '../handlers/helpers';

const config = exampleConfig();
const HOUR = new Date('2026-11-20T05:00:00Z');
const now = new Date('2026-11-20T15:00:00Z');
const PREFIX = 'events/visits/2026-11-20T05/';
const obj = (name: string, etag = 'e1'): ObjectInfo => ({ key: `${PREFIX}${name}`, size: 10, lastModified: new Date('2026-11-20T06:00:00Z'), etag });
const args = (over: Partial<PartitionStartArgs> = {}): PartitionStartArgs => ({
  config,
  table: 'visits',
  partitionDate: HOUR,
  listing: [obj('a.json.gz'), obj('b.json.gz')],
  state: { partitionLoaded: false, loadedFiles: new Set(), failedLoads: new Set() },
  now,
  ...over,
});
const identities = (...names: string[]) => names.map((n) => `${PREFIX}${n}`);

describe('busyExecution', () => {
  it('finds the partition\'s running load, top-up or retry, and nothing of another partition', () => {
    expect(busyExecution('visits', HOUR, ['visits-20261120T050000'])).toBe('visits-20261120T050000');
    expect(busyExecution('visits', HOUR, ['visits-20261120T050000-r0a1b2c3d'])).toBe('visits-20261120T050000-r0a1b2c3d');
    expect(busyExecution('visits', HOUR, ['visits-20261120T060000', 'visits-20261120T0500001'])).toBeUndefined();
  });
});

describe('planPartitionStart', () => {
  it('a first load starts under the partition\'s name, with a retry name over every listed file version', () => {
    expect(planPartitionStart(args())).toMatchObject({
      action: 'start',
      name: executionName('visits', HOUR),
      retryName: retryExecutionName('visits', HOUR, identities('a.json.gz#e1', 'b.json.gz#e1')),
    });
  });

  it('a loaded partition with a re-put file (new ETag) tops up under a name of that version', () => {
    const state = { partitionLoaded: true, newestLoaded: HOUR, loadedFiles: new Set(identities('a.json.gz#e1', 'b.json.gz#e1')), failedLoads: new Set<string>() };
    const plan = planPartitionStart(args({ state, listing: [obj('a.json.gz', 'e2'), obj('b.json.gz')] }));
    expect(plan).toMatchObject({ action: 'start', name: topUpExecutionName('visits', HOUR, identities('a.json.gz#e2')), reason: expect.stringContaining('put again with new content') });
    // unchanged: skipped by the rules
    expect(planPartitionStart(args({ state }))).toMatchObject({ action: 'skip', why: 'rules', reason: expect.stringContaining('already loaded') });
  });

  it('after a failed load, attempts again under the retry name; a changed listing is a new attempt; the same files twice failed: skip with the reason', () => {
    const failedOnce = { partitionLoaded: false, loadedFiles: new Set<string>(), failedLoads: new Set([executionName('visits', HOUR)]) };
    const retry = retryExecutionName('visits', HOUR, identities('a.json.gz#e1', 'b.json.gz#e1'));
    expect(planPartitionStart(args({ state: failedOnce }))).toMatchObject({ action: 'start', name: retry, reason: expect.stringContaining('attempt after the failed load') });

    const failedTwice = { ...failedOnce, failedLoads: new Set([executionName('visits', HOUR), retry]) };
    expect(planPartitionStart(args({ state: failedTwice }))).toEqual({
      action: 'skip',
      why: 'failed',
      reason: expect.stringMatching(/failed with these exact files; put a fixed file \(or a new one\) to try again, or run forklift reload$/),
    });
    const fixed = planPartitionStart(args({ state: failedTwice, listing: [obj('a.json.gz', 'e2'), obj('b.json.gz')] }));
    expect(fixed).toMatchObject({ action: 'start', name: retryExecutionName('visits', HOUR, identities('a.json.gz#e2', 'b.json.gz#e1')) });
    const more = planPartitionStart(args({ state: failedTwice, listing: [obj('a.json.gz'), obj('b.json.gz'), obj('c.json.gz')] }));
    expect(more).toMatchObject({ action: 'start', name: expect.not.stringMatching(new RegExp(`^${retry}$`)) });
  });

  it('side files never make a partition: a listing of only _SUCCESS and .crc files is gone', () => {
    expect(planPartitionStart(args({ listing: [obj('_SUCCESS'), obj('.a.json.gz.crc')] }))).toMatchObject({ action: 'skip', why: 'gone' });
  });
});

describe('nameTaken', () => {
  const checkedAt = new Date('2026-11-20T15:00:00Z');
  it('running or stopped after the state read: redeliver; succeeded: handled; failed, aborted, timed out: retry', () => {
    expect(nameTaken({ status: 'RUNNING' }, checkedAt)).toBe('redeliver');
    expect(nameTaken({ status: 'SUCCEEDED', stopDate: new Date('2026-11-20T15:00:01Z') }, checkedAt)).toBe('redeliver');
    expect(nameTaken({ status: 'SUCCEEDED', stopDate: new Date('2026-11-20T14:00:00Z') }, checkedAt)).toBe('handled');
    for (const status of ['FAILED', 'ABORTED', 'TIMED_OUT']) expect(nameTaken({ status, stopDate: new Date('2026-11-20T14:00:00Z') }, checkedAt)).toBe('retry');
  });
});

describe('representativeMessage', () => {
  it('keeps the message received the fewest times (the first of equals); none for no messages', () => {
    expect(representativeMessage(new Map([['a', 3], ['b', 1], ['c', 2], ['d', 1]]))).toBe('b');
    expect(representativeMessage(new Map([['a', 2]]))).toBe('a');
    expect(representativeMessage(new Map())).toBeUndefined();
  });
});

describe('sweepCandidates', () => {
  const at = (iso: string) => new Date(iso);
  const p13 = at('2026-11-20T13:00:00Z');
  const p14 = at('2026-11-20T14:00:00Z');
  const listed = (name: string, started: string) => ({ name, startDate: at(started) });

  it('groups the unfinished executions of every status by partition, the partition with the newest execution first, its executions newest first', () => {
    const retry13 = retryExecutionName('visits', p13, ['k#e']);
    const topUp14 = topUpExecutionName('visits', p14, ['k#e']);
    const candidates = sweepCandidates(config, [
      listed(executionName('visits', p14), '2026-11-20T14:05:00Z'),
      listed(executionName('visits', p13), '2026-11-20T13:05:00Z'),
      listed(retry13, '2026-11-20T15:00:00Z'),
      listed(topUp14, '2026-11-20T14:30:00Z'),
    ]);
    expect(candidates).toEqual([
      { table: 'visits', partitionDate: p13, newest: at('2026-11-20T15:00:00Z'), executions: [retry13, executionName('visits', p13)] },
      { table: 'visits', partitionDate: p14, newest: at('2026-11-20T14:30:00Z'), executions: [topUp14, executionName('visits', p14)] },
    ]);
  });

  it('leaves out aggregate-only and manual runs, tables not configured and disabled tables', () => {
    const disabled = { ...config, tables: { ...config.tables, campaigns: { ...config.tables['campaigns']!, enabled: false } } };
    expect(
      sweepCandidates(disabled, [
        listed(aggregateRunName('visits', p13, p14, 'sweep'), '2026-11-20T15:00:00Z'),
        listed(executionName('visits', p13, 'cli-mi2x3k0a1b2c'), '2026-11-20T15:00:00Z'),
        listed(executionName('gone', p13), '2026-11-20T15:00:00Z'),
        listed(executionName('campaigns', p13), '2026-11-20T15:00:00Z'),
      ]),
    ).toEqual([]);
  });

  it('orders partitions whose newest executions started at once by table, then partition', () => {
    const same = '2026-11-20T15:00:00Z';
    const names = sweepCandidates(config, [listed(executionName('visits', p14), same), listed(executionName('campaigns', p14), same), listed(executionName('visits', p13), same)]).map(
      (c) => `${c.table} ${c.partitionDate.toISOString()}`,
    );
    expect(names).toEqual(['campaigns 2026-11-20T14:00:00.000Z', 'visits 2026-11-20T13:00:00.000Z', 'visits 2026-11-20T14:00:00.000Z']);
  });
});
