import { aggregateRunName, compactStamp, executionName, parseAutomaticLoadName, retryExecutionName, topUpExecutionName } from '../../../functions/core/names';

const d = (iso: string) => new Date(iso);
const VALID = /^[A-Za-z0-9_-]{1,80}$/;

describe('executionName', () => {
  it('is <table>-<yyyyMMddTHHmmss> for automatic loads', () => {
    expect(executionName('visits', d('2026-11-20T13:00:00Z'))).toBe('visits-20261120T130000');
  });

  it('is the same for two events of the same partition', () => {
    expect(executionName('visits', d('2026-11-20T13:00:00Z'))).toBe(executionName('visits', new Date(Date.UTC(2026, 10, 20, 13))));
  });

  it('differs across partitions and tables', () => {
    const names = new Set([
      executionName('visits', d('2026-11-20T13:00:00Z')),
      executionName('visits', d('2026-11-20T14:00:00Z')),
      executionName('visits', d('2026-11-20T13:00:00.250Z')),
      executionName('campaigns', d('2026-11-20T13:00:00Z')),
    ]);
    expect(names.size).toBe(4);
    expect(executionName('visits', d('2026-11-20T13:00:00.250Z'))).toBe('visits-20261120T130000250');
  });

  it('adds a sanitized run id for manual runs', () => {
    expect(executionName('visits', d('2026-11-20T13:00:00Z'), 'manual-1')).toBe('visits-20261120T130000-manual-1');
    const odd = executionName('visits', d('2026-11-20T13:00:00Z'), 'bob@laptop 12:00');
    expect(odd).toMatch(VALID);
    expect(odd).toMatch(/^visits-20261120T130000-bob_laptop_12_0_[0-9a-f]{8}$/);
    expect(executionName('visits', d('2026-11-20T13:00:00Z'), 'a b')).not.toBe(executionName('visits', d('2026-11-20T13:00:00Z'), 'a_b'));
    expect(executionName('visits', d('2026-11-20T13:00:00Z'), '')).toBe('visits-20261120T130000');
  });

  it('keeps $ tables distinct from their _ spelling', () => {
    const dollar = executionName('a$b', d('2026-11-20T13:00:00Z'));
    expect(dollar).toMatch(VALID);
    expect(dollar).not.toBe(executionName('a_b', d('2026-11-20T13:00:00Z')));
  });

  it('truncates long table names with a stable hash so names stay unique and valid', () => {
    const long1 = 'x'.repeat(100) + 'one';
    const long2 = 'x'.repeat(100) + 'two';
    const n1 = executionName(long1, d('2026-11-20T13:00:00Z'), 'r'.repeat(60));
    const n2 = executionName(long2, d('2026-11-20T13:00:00Z'), 'r'.repeat(60));
    expect(n1).toMatch(VALID);
    expect(n1.length).toBe(80);
    expect(n1).not.toBe(n2);
    expect(n1).toBe(executionName(long1, d('2026-11-20T13:00:00Z'), 'r'.repeat(60)));
    expect(n1).toContain('-20261120T130000-');
    expect(executionName('y'.repeat(64), d('2026-11-20T13:00:00Z'))).toMatch(/^y{64}-20261120T130000$/);
  });
});

describe('topUpExecutionName', () => {
  it('is the partition name plus a hash of the sorted new file keys: same files, same name; other files, another name', () => {
    const date = d('2026-11-20T13:00:00Z');
    const name = topUpExecutionName('visits', date, ['p/b.json', 'p/a.json']);
    expect(name).toMatch(/^visits-20261120T130000-[0-9a-f]{8}$/);
    expect(topUpExecutionName('visits', date, ['p/a.json', 'p/b.json'])).toBe(name);
    expect(topUpExecutionName('visits', date, ['p/a.json', 'p/b.json', 'p/c.json'])).not.toBe(name);
    expect(name.startsWith(`${executionName('visits', date)}-`)).toBe(true);
    const long = topUpExecutionName('t'.repeat(127), date, ['k']);
    expect(long).toMatch(VALID);
    expect(long.length).toBeLessThanOrEqual(80);
  });
});

describe('aggregateRunName', () => {
  it('names the aggregate, the range and the run', () => {
    expect(aggregateRunName('visits_hourly', d('2026-11-20T00:00:00Z'), d('2026-11-21T00:00:00Z'), 'r1')).toBe(
      'visits_hourly-agg-20261120T000000-20261121T000000-r1',
    );
  });
  it('stays valid and unique for long names and run ids', () => {
    const a = aggregateRunName('v'.repeat(127), d('2026-11-20T00:00:00.5Z'), d('2026-11-21T00:00:00.5Z'), 'run id with spaces and more and more');
    const b = aggregateRunName('v'.repeat(126) + 'w', d('2026-11-20T00:00:00.5Z'), d('2026-11-21T00:00:00.5Z'), 'run id with spaces and more and more');
    expect(a).toMatch(VALID);
    expect(b).toMatch(VALID);
    expect(a).not.toBe(b);
  });
  it('compactStamp is UTC to the second, with milliseconds only when set', () => {
    expect(compactStamp(d('2026-01-02T03:04:05Z'))).toBe('20260102T030405');
    expect(compactStamp(d('2026-01-02T03:04:05.007Z'))).toBe('20260102T030405007');
  });
});

describe('parseAutomaticLoadName', () => {
  const long = `events_${'x'.repeat(90)}`;
  const odd = 'spend$eur';
  const tables = ['visits', 'visits_raw', long, odd];
  const at = d('2026-11-20T13:00:00Z');

  it.each([
    ['a first load', executionName('visits', at), 'visits', 'load'],
    ['a top-up', topUpExecutionName('visits', at, ['visits/a.json#e1']), 'visits', 'top-up'],
    ['a retry', retryExecutionName('visits', at, ['visits/a.json#e1']), 'visits', 'retry'],
    ['a table whose name another table name starts with', retryExecutionName('visits_raw', at, ['k#e']), 'visits_raw', 'retry'],
    ['a long table name (truncated with a hash)', executionName(long, at), long, 'load'],
    ['a long table name with a retry suffix (truncated shorter)', retryExecutionName(long, at, ['k#e']), long, 'retry'],
    ['an unusual table name (sanitized with a hash)', topUpExecutionName(odd, at, ['k#e']), odd, 'top-up'],
  ])('maps %s back to its table and partition', (_, name, table, kind) => {
    expect(parseAutomaticLoadName(name, tables)).toEqual({ table, partitionDate: at, kind });
  });

  it('keeps the milliseconds of a partition stamp', () => {
    const ms = d('2026-11-20T13:00:00.250Z');
    expect(parseAutomaticLoadName(executionName('visits', ms), tables)).toEqual({ table: 'visits', partitionDate: ms, kind: 'load' });
  });

  it.each([
    ['a manual run (run id suffix)', executionName('visits', at, 'cli-mi2x3k0a1b2c')],
    ['an aggregate-only run', aggregateRunName('visits', at, d('2026-11-20T13:01:00Z'), 'sweep')],
    ['a table not configured', executionName('gone', at)],
    ['a truncated name recomputed for another suffix length', `${executionName(long, at).split('-')[0]}-20261120T130000-r0123abcd`],
    ['a stamp compactStamp never writes (month 13)', 'visits-20261320T130000'],
    ['a stamp with explicit zero milliseconds', 'visits-20261120T130000000'],
    ['no stamp', 'visits'],
  ])('is undefined for %s', (_, name) => {
    expect(parseAutomaticLoadName(name, tables)).toBeUndefined();
  });
});
