import {
  compilePartitionPattern,
  isoSecond,
  parseDateArgument,
  parseRfc3339,
  partitionEnd,
  partitionPatternProblem,
  truncateDate,
  utcDate,
} from '../../../functions/core/dates';
import { ForkliftError } from '../../../functions/core/errors';

const at = (iso: string) => new Date(iso);

describe('compilePartitionPattern', () => {
  it('compiles an hourly folder pattern with a quoted literal', () => {
    const p = compilePartitionPattern("{date:yyyy-MM-dd'T'HH}/");
    expect(p.kind).toBe('folder');
    expect(p.granularity).toBe('hour');
    expect(p.match('2026-11-20T13/part-0001.json.gz')).toEqual({ date: at('2026-11-20T13:00:00Z'), matched: '2026-11-20T13/' });
    expect(p.render(at('2026-11-20T13:45:10Z'))).toBe('2026-11-20T13/');
  });

  it('combines fields from several tokens', () => {
    const p = compilePartitionPattern('dt={date:yyyy-MM-dd}/hour={date:HH}/');
    expect(p.granularity).toBe('hour');
    expect(p.match('dt=2026-11-20/hour=07/a.json')).toEqual({ date: at('2026-11-20T07:00:00Z'), matched: 'dt=2026-11-20/hour=07/' });
    expect(p.render(at('2026-01-02T03:00:00Z'))).toBe('dt=2026-01-02/hour=03/');
  });

  it('compiles compact and minute/second patterns', () => {
    const day = compilePartitionPattern('{date:yyyyMMdd}/');
    expect(day.granularity).toBe('day');
    expect(day.match('20261120/x')).toEqual({ date: at('2026-11-20T00:00:00Z'), matched: '20261120/' });
    expect(compilePartitionPattern('{date:yyyy-MM-dd HH:mm:ss}/').granularity).toBe('second');
    expect(compilePartitionPattern('{date:yyyy-MM}/').granularity).toBe('month');
    expect(compilePartitionPattern('y={date:yyyy}/').granularity).toBe('year');
    expect(compilePartitionPattern("{date:yyyy-MM-dd'T'HH:mm}/").match('2026-11-20T13:05/f')).toEqual({
      date: at('2026-11-20T13:05:00Z'),
      matched: '2026-11-20T13:05/',
    });
  });

  it('matches single-object rfc3339 patterns, with offsets and fractions, in UTC', () => {
    const p = compilePartitionPattern('campaigns_{date:rfc3339}.csv');
    expect(p.kind).toBe('object');
    expect(p.granularity).toBe('second');
    expect(p.match('campaigns_2026-11-20T13:00:00Z.csv')).toEqual({ date: at('2026-11-20T13:00:00Z'), matched: 'campaigns_2026-11-20T13:00:00Z.csv' });
    expect(p.match('campaigns_2026-11-20T14:00:00+01:00.csv')).toMatchObject({ date: at('2026-11-20T13:00:00Z') });
    expect(p.match('campaigns_2026-11-20T10:30:00-02:30.csv')).toMatchObject({ date: at('2026-11-20T13:00:00Z') });
    expect(p.match('campaigns_2026-11-20T13:00:00.250Z.csv')).toMatchObject({ date: at('2026-11-20T13:00:00.250Z') });
    expect(p.match('campaigns_2026-11-20T13:00:00Z.csv.bak')).toBeUndefined();
    expect(p.match('other_2026-11-20T13:00:00Z.csv')).toBeUndefined();
    expect(p.render(at('2026-11-20T13:00:00Z'))).toBe('campaigns_2026-11-20T13:00:00Z.csv');
  });

  it('matches epoch seconds', () => {
    const p = compilePartitionPattern('snap_{date:epoch}.json');
    expect(p.match('snap_1795179600.json')).toMatchObject({ date: at('2026-11-20T13:00:00Z') });
    expect(p.render(at('2026-11-20T13:00:00Z'))).toBe('snap_1795179600.json');
  });

  it('requires literal text to match exactly', () => {
    const p = compilePartitionPattern('dt={date:yyyy-MM-dd}/');
    expect(p.match('DT=2026-11-20/a')).toBeUndefined();
    expect(p.match('dt=2026-11-20a')).toBeUndefined();
    expect(p.match('dt=2026-1-20/a')).toBeUndefined();
  });

  it('reports impossible dates as errors, not as non-matches', () => {
    const p = compilePartitionPattern('{date:yyyy-MM-dd}/');
    expect(p.match('2026-02-30/a')).toEqual({ error: "'2026-02-30/' does not hold a valid date for pattern '{date:yyyy-MM-dd}/'" });
    expect(p.match('2024-02-29/a')).toMatchObject({ date: at('2024-02-29T00:00:00Z') });
    expect(compilePartitionPattern("{date:yyyy-MM-dd'T'HH}/").match('2026-11-20T24/a')).toHaveProperty('error');
    expect(compilePartitionPattern('{date:yyyy-MM}/').match('2026-13/a')).toHaveProperty('error');
    expect(compilePartitionPattern('x_{date:rfc3339}').match('x_2026-11-20T13:00:00+25:00')).toHaveProperty('error');
  });

  it.each([
    ['{date:yyyy-MM-DD}/', "unknown date format 'DD'"],
    ['{date:YYYY}/', "unknown date format 'YYYY'"],
    ['{time:HH}/', "unknown token '{time:HH}'"],
    ['events/', 'has no date token'],
    ['{date:yyyy}/{date:yyyy-MM}/', 'the year appears more than once'],
    ['{date:yyyy-dd}/', 'has a day but no month'],
    ['{date:HH}/', 'has a hour but no year'],
    ['{date:rfc3339}_{date:HH}', 'cannot be combined'],
    ["{date:yyyy'T}/", 'unterminated quoted literal'],
    ['{date:yyyy/', "unbalanced '{' or '}'"],
    ["x'{date:yyyy}/", 'not safe in keys'],
    ['{date:}/', 'empty date token'],
    ['/{date:yyyy}/', "no leading '/'"],
    ['../{date:yyyy}/', "'..' path segment"],
  ])('refuses %s', (pattern, message) => {
    expect(() => compilePartitionPattern(pattern)).toThrow(message);
    expect(partitionPatternProblem(pattern)).toContain(message);
  });

  it('partitionPatternProblem is undefined for a good pattern', () => {
    expect(partitionPatternProblem("{date:yyyy-MM-dd'T'HH}/")).toBeUndefined();
  });
});

describe('dates helpers', () => {
  it('utcDate refuses impossible fields', () => {
    expect(utcDate(2026, 2, 29)).toBeUndefined();
    expect(utcDate(2026, 4, 31)).toBeUndefined();
    expect(utcDate(2026, 11, 20, 13)).toEqual(at('2026-11-20T13:00:00Z'));
    expect(utcDate(50, 1, 1)?.getUTCFullYear()).toBe(50);
  });

  it('parseRfc3339 converts offsets to UTC', () => {
    expect(parseRfc3339('2026-11-20T00:30:00+01:00')).toEqual(at('2026-11-19T23:30:00Z'));
    expect(parseRfc3339('2026-11-20T13:00:00')).toBeUndefined();
  });

  it('isoSecond keeps milliseconds when there are any (distinct dates never read the same)', () => {
    expect(isoSecond(at('2026-11-20T13:00:00.000Z'))).toBe('2026-11-20T13:00:00Z');
    expect(isoSecond(at('2026-11-20T13:00:00.999Z'))).toBe('2026-11-20T13:00:00.999Z');
    expect(isoSecond(at('2026-11-20T13:00:00.500Z'))).not.toBe(isoSecond(at('2026-11-20T13:00:00Z')));
  });

  it.each([
    ['year', '2026-11-20T13:14:15Z', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'],
    ['month', '2026-12-20T13:14:15Z', '2026-12-01T00:00:00Z', '2027-01-01T00:00:00Z'],
    ['day', '2024-02-28T13:14:15Z', '2024-02-28T00:00:00Z', '2024-02-29T00:00:00Z'],
    ['hour', '2026-12-31T23:14:15Z', '2026-12-31T23:00:00Z', '2027-01-01T00:00:00Z'],
    ['minute', '2026-11-20T13:14:15Z', '2026-11-20T13:14:00Z', '2026-11-20T13:15:00Z'],
    ['second', '2026-11-20T13:14:15.5Z', '2026-11-20T13:14:15Z', '2026-11-20T13:14:16Z'],
  ] as const)('%s: truncate and end', (granularity, date, start, end) => {
    expect(truncateDate(at(date), granularity)).toEqual(at(start));
    expect(partitionEnd(at(date), granularity)).toEqual(at(end));
  });
});

describe('parseDateArgument', () => {
  it.each([
    ['2026-11-20', '2026-11-20T00:00:00Z'],
    ['2026-11-20T13', '2026-11-20T13:00:00Z'],
    ['2026-11-20T13:30', '2026-11-20T13:30:00Z'],
    ['2026-11-20T13:30:15', '2026-11-20T13:30:15Z'],
    ['2026-11-20T13:00:00Z', '2026-11-20T13:00:00Z'],
    ['2026-11-20T14:00:00+01:00', '2026-11-20T13:00:00Z'],
    ['2026-11-20T13:00:00.500Z', '2026-11-20T13:00:00.500Z'],
  ])('accepts %s', (text, iso) => {
    expect(parseDateArgument(text)).toEqual(at(iso));
  });

  it.each(['', 'yesterday', '2026-11-20 13:00', '2026/11/20', '20261120', '2026-02-30', '2026-11-20T25', '2026-11-20T13:00:00+99:00', '1795179600'])(
    'refuses %p with a ForkliftError naming the input and the forms',
    (text) => {
      let error: unknown;
      try {
        parseDateArgument(text);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ForkliftError);
      expect((error as Error).message).toContain(`invalid date '${text}'`);
      expect((error as Error).message).toContain('2026-11-20T13');
    },
  );
});
