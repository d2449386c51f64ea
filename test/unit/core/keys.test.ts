import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseConfig } from '../../../functions/core/config/load';
import { configSchema, type ConfigInput, type ForkliftConfig } from '../../../functions/core/config/schema';
import { KeyParseError } from '../../../functions/core/errors';
import { decodeEventKey, ignoredReason, keyDateProblem, matchKey, renderPartitionKey, unsafeKeyReason, watchedPrefixes } from '../../../functions/core/keys';

const example = (): ConfigInput => parse(readFileSync('forklift.config.yaml', 'utf8'));

function config(edit?: (raw: ConfigInput) => void): ForkliftConfig {
  const raw = example();
  edit?.(raw);
  return parseConfig(raw);
}

const cfg = config();
const withMarker = config((raw) => {
  raw.tables.visits!.completeness = { marker: '_SUCCESS' };
  raw.tables.clicks = { ...raw.tables.visits!, prefix: 'events/clicks/', partition: 'dt={date:yyyy-MM-dd}/hour={date:HH}/' };
});

describe('matchKey', () => {
  it('matches a file of an hourly folder partition', () => {
    expect(matchKey(cfg, 'events/visits/2026-11-20T13/part-0001.json.gz')).toEqual({
      kind: 'partition',
      table: 'visits',
      partitionDate: new Date('2026-11-20T13:00:00Z'),
      partitionKey: 'events/visits/2026-11-20T13/',
      key: 'events/visits/2026-11-20T13/part-0001.json.gz',
      isMarker: false,
    });
  });

  it('matches a single-object snapshot with an offset, in UTC', () => {
    expect(matchKey(cfg, 'dims/campaigns/campaigns_2026-11-20T14:00:00+01:00.csv')).toEqual({
      kind: 'partition',
      table: 'campaigns',
      partitionDate: new Date('2026-11-20T13:00:00Z'),
      partitionKey: 'dims/campaigns/campaigns_2026-11-20T14:00:00+01:00.csv',
      key: 'dims/campaigns/campaigns_2026-11-20T14:00:00+01:00.csv',
      isMarker: false,
    });
  });

  it('flags the completeness marker, only directly in the partition folder', () => {
    expect(matchKey(withMarker, 'events/visits/2026-11-20T13/_SUCCESS')).toMatchObject({ kind: 'partition', isMarker: true });
    // Elsewhere, or without a marker rule, _SUCCESS is a side file: never loaded as data.
    expect(matchKey(withMarker, 'events/visits/2026-11-20T13/sub/_SUCCESS')).toMatchObject({ kind: 'ignored' });
    expect(matchKey(cfg, 'events/visits/2026-11-20T13/_SUCCESS')).toMatchObject({ kind: 'ignored', reason: expect.stringContaining("'_SUCCESS'") });
  });

  it('matches multi-token partitions', () => {
    expect(matchKey(withMarker, 'events/clicks/dt=2026-11-20/hour=09/a.json')).toMatchObject({
      kind: 'partition',
      table: 'clicks',
      partitionDate: new Date('2026-11-20T09:00:00Z'),
      partitionKey: 'events/clicks/dt=2026-11-20/hour=09/',
    });
  });

  it.each([
    ['events/other/2026-11-20T13/a.json', 'not under the prefix of any table'],
    ['events/visits', 'not under the prefix of any table'],
    ["events/visits';DROP TABLE x;--/2026-11-20T13/a.json", 'not under the prefix of any table'],
    ['_forklift/manifests/visits/2026.manifest', "under the manifest prefix '_forklift/manifests/'"],
    ['events/visits/2026-11-20T13/', 'folder placeholder (key ends with /)'],
    ['events/visits/', 'folder placeholder (key ends with /)'],
  ])('ignores %p', (key, reason) => {
    expect(matchKey(cfg, key)).toEqual({ kind: 'ignored', key, reason });
  });

  it.each([
    ["events/visits/2026-11-20T13/a'.json", 'key contains a quote'],
    ['events/visits/2026-11-20T13/a".json', 'key contains a quote'],
    ['events/visits/2026-11-20T13/a\\b.json', 'key contains a backslash'],
    ['events/visits/2026-11-20T13/a;drop.json', 'key contains a semicolon'],
    ['events/visits/2026-11-20T13/a\nb.json', 'key contains a control character'],
    ['events/visits/2026-11-20T13/a\u0000b.json', 'key contains a control character'],
    ['events/visits/2026-11-20T13/a%00.json', 'key contains an encoded NUL (%00)'],
    ['events/visits/../campaigns/x.csv', "key contains a '.' or '..' path segment"],
    ['events/visits/2026-11-20T13/../x.json', "key contains a '.' or '..' path segment"],
    [`events/visits/2026-11-20T13/${'a'.repeat(1024)}.json`, 'key is longer than 1024 bytes'],
    ['events/visits/2026-11-20T13/a#b.json', "key contains the character '#' (U+0023), outside the safe set A-Z a-z 0-9 ! - _ . * ( ) = + / space , : @ & $"],
    ['events/visits/2026-11-20T13/café.json', "key contains the character 'é' (U+00E9), outside the safe set A-Z a-z 0-9 ! - _ . * ( ) = + / space , : @ & $"],
    ['events/visits/2026-11-20/a.json', "does not match the partition pattern 'events/visits/{date:yyyy-MM-dd'T'HH}/'"],
    ['events/visits/2026-11-20T13-a.json', "does not match the partition pattern 'events/visits/{date:yyyy-MM-dd'T'HH}/'"],
    ['events/visits/a.json', "does not match the partition pattern 'events/visits/{date:yyyy-MM-dd'T'HH}/'"],
    ['events/visits/2026-02-30T13/a.json', "'2026-02-30T13/' does not hold a valid date for pattern '{date:yyyy-MM-dd'T'HH}/'"],
    ['events/visits/2026-11-20T24/a.json', "'2026-11-20T24/' does not hold a valid date for pattern '{date:yyyy-MM-dd'T'HH}/'"],
    ['dims/campaigns/campaign_2026-11-20T13:00:00Z.csv', "does not match the partition pattern 'dims/campaigns/campaigns_{date:rfc3339}.csv'"],
    ['dims/campaigns/campaigns_2026-11-20T13:00:00Z.json', "does not match the partition pattern 'dims/campaigns/campaigns_{date:rfc3339}.csv'"],
    ['dims/campaigns/campaigns_2026-11-20.csv', "does not match the partition pattern 'dims/campaigns/campaigns_{date:rfc3339}.csv'"],
  ])('rejects %p', (key, reason) => {
    const table = key.startsWith('dims/') ? 'campaigns' : 'visits';
    expect(matchKey(cfg, key)).toEqual({ kind: 'rejected', key, table, reason });
  });
});

describe('side files and key date bounds', () => {
  const now = new Date('2026-11-20T15:00:00Z');
  it('ignores Hadoop/Spark side files by default, per segment inside the partition; a marker directly in it still counts', () => {
    const table = cfg.tables['visits']!;
    for (const name of ['_SUCCESS', '.part-0.json.crc', 'part-0.json.crc', '_temporary/0/part-1.json', '.hidden.json', '_meta.json']) {
      expect(matchKey(cfg, `events/visits/2026-11-20T13/${name}`, now)).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('ignore pattern') });
    }
    expect(matchKey(cfg, 'events/visits/2026-11-20T13_$folder$', now)).toMatchObject({ kind: 'ignored' });
    expect(matchKey(cfg, 'events/visits/2026-11-20T13/part-0.json', now)).toMatchObject({ kind: 'partition' });
    expect(ignoredReason({ ...table, completeness: { marker: '_SUCCESS' } }, '_SUCCESS')).toBeUndefined();
    expect(ignoredReason({ ...table, completeness: { marker: '_SUCCESS' } }, 'sub/_SUCCESS')).toBeDefined();
    // A table's own globs replace the defaults; a glob ending in / matches folders only.
    expect(ignoredReason({ ...table, ignore: ['*.tmp', 'staging/'] }, 'a.tmp')).toContain("'*.tmp'");
    expect(ignoredReason({ ...table, ignore: ['*.tmp', 'staging/'] }, 'staging/a.json')).toContain("'staging/'");
    expect(ignoredReason({ ...table, ignore: ['*.tmp', 'staging/'] }, 'staging')).toBeUndefined();
    expect(ignoredReason({ ...table, ignore: ['*.tmp', 'staging/'] }, '_SUCCESS')).toBeUndefined();
  });

  it('rejects key dates before keyDates.earliest or more than aheadHours after now', () => {
    const table = cfg.tables['visits']!;
    expect(keyDateProblem(table, new Date('1999-12-31T23:00:00Z'), now)).toContain("before 2000-01-01 (the table's keyDates.earliest)");
    expect(keyDateProblem(table, new Date('2026-11-21T15:00:00Z'), now)).toBeUndefined();
    expect(keyDateProblem(table, new Date('2026-11-21T16:00:00Z'), now)).toContain('more than 24 hours ahead of now');
    expect(matchKey(cfg, 'events/visits/9999-12-31T23/a.json', now)).toMatchObject({ kind: 'rejected', reason: expect.stringContaining('ahead of now') });
    expect(matchKey(cfg, 'events/visits/0000-01-01T00/a.json', now)).toMatchObject({ kind: 'rejected' });
    const wide = { ...table, keyDates: { earliest: '1990-01-01', aheadHours: 0 } };
    expect(keyDateProblem(wide, new Date('1995-01-01T00:00:00Z'), now)).toBeUndefined();
    expect(keyDateProblem(wide, new Date('2026-11-20T16:00:00Z'), now)).toContain('more than 0 hours ahead');
  });
});

describe('unsafeKeyReason', () => {
  it('accepts the safe set', () => {
    expect(unsafeKeyReason("events/a-b_c.d*(e)=f+g h,i:j@k&l$m!/x.json")).toBeUndefined();
    expect(unsafeKeyReason('a..b/c.json')).toBeUndefined();
  });
  it('refuses an empty key', () => {
    expect(unsafeKeyReason('')).toBe('key is empty');
  });
  it('counts bytes, not characters', () => {
    expect(unsafeKeyReason('a'.repeat(1024))).toBeUndefined();
    expect(unsafeKeyReason('é'.repeat(513))).toBe('key is longer than 1024 bytes');
  });
});

describe('decodeEventKey', () => {
  it('decodes URL encoding with + for space', () => {
    expect(decodeEventKey('dims/campaigns/campaigns_2026-11-20T14%3A00%3A00%2B01%3A00.csv')).toBe(
      'dims/campaigns/campaigns_2026-11-20T14:00:00+01:00.csv',
    );
    expect(decodeEventKey('events/visits/2026-11-20T13/my+file%20x.json')).toBe('events/visits/2026-11-20T13/my file x.json');
  });
  it('decodes hostile content so that matchKey sees it', () => {
    const key = decodeEventKey('events/visits/2026-11-20T13/a%27%3B.json');
    expect(key).toBe("events/visits/2026-11-20T13/a';.json");
    expect(matchKey(cfg, key)).toMatchObject({ kind: 'rejected', reason: 'key contains a quote' });
    expect(matchKey(cfg, decodeEventKey('events/visits/2026-11-20T13/a%00.json'))).toMatchObject({
      kind: 'rejected',
      reason: 'key contains a control character',
    });
  });
  it.each(['events/visits/%', 'events/visits/%zz', 'events/visits/%C3%28'])('refuses malformed encoding %p', (raw) => {
    expect(() => decodeEventKey(raw)).toThrow(KeyParseError);
    expect(() => decodeEventKey(raw)).toThrow(`cannot parse key '${raw}': malformed URL encoding in the event key`);
  });
});

describe('renderPartitionKey', () => {
  it('renders folder and single-object partitions', () => {
    expect(renderPartitionKey(cfg, 'visits', new Date('2026-11-20T13:00:00Z'))).toBe('events/visits/2026-11-20T13/');
    expect(renderPartitionKey(cfg, 'campaigns', new Date('2026-11-20T13:00:00Z'))).toBe('dims/campaigns/campaigns_2026-11-20T13:00:00Z.csv');
    expect(renderPartitionKey(withMarker, 'clicks', new Date('2026-01-02T03:00:00Z'))).toBe('events/clicks/dt=2026-01-02/hour=03/');
  });
  it('round-trips through matchKey', () => {
    const date = new Date('2026-03-01T05:00:00Z');
    expect(matchKey(cfg, `${renderPartitionKey(cfg, 'visits', date)}f.json`)).toMatchObject({ partitionDate: date });
    expect(matchKey(cfg, renderPartitionKey(cfg, 'campaigns', date))).toMatchObject({ partitionDate: date });
  });
  it('refuses an unknown table', () => {
    expect(() => renderPartitionKey(cfg, 'nope', new Date())).toThrow("unknown table 'nope'");
  });
});

describe('flat layouts: tables whose prefixes overlap', () => {
  const flat = (raw: ConfigInput) => {
    const t = raw.tables.campaigns!;
    raw.tables = {
      page: { ...t, prefix: 'flat/', partition: 'page_{date:yyyy-MM-dd}.json' },
      page_views: { ...t, prefix: 'flat/', partition: 'page_views_{date:yyyy-MM-dd}.json' },
      api_page: { ...t, prefix: 'flat/api_page_', partition: '{date:yyyy-MM-dd}.json' },
      api_page_views: { ...t, prefix: 'flat/api_page_views_', partition: '{date:yyyy-MM-dd}.json' },
    };
    raw.aggregates = {};
  };
  const flatConfig = config(flat);

  it.each([
    ['flat/page_2026-01-05.json', 'page'],
    ['flat/page_views_2026-01-05.json', 'page_views'],
    ['flat/api_page_2026-01-05.json', 'api_page'],
    ['flat/api_page_views_2026-01-05.json', 'api_page_views'],
  ])('%s belongs to %s only', (key, table) => {
    expect(matchKey(flatConfig, key)).toMatchObject({ kind: 'partition', table, partitionDate: new Date('2026-01-05T00:00:00Z') });
  });

  it('rejects a key that matches no pattern under the shared prefix, naming every table there', () => {
    expect(matchKey(flatConfig, 'flat/page_latest.json')).toMatchObject({
      kind: 'rejected',
      reason: "matches none of the partition patterns of the tables under its prefix: 'page' (flat/page_{date:yyyy-MM-dd}.json), 'page_views' (flat/page_views_{date:yyyy-MM-dd}.json)",
    });
  });

  it('rejects a key that matches two tables, naming both (the config refuses such tables; this is the run-time guard)', () => {
    const raw = example();
    flat(raw);
    raw.tables.page_any = { ...raw.tables.page!, partition: 'page_{date:yyyy}-{date:MM}-{date:dd}.json' };
    const both = configSchema.parse(raw); // the schema only: crossCheck would refuse it
    expect(matchKey(both, 'flat/page_2026-01-05.json')).toMatchObject({
      kind: 'rejected',
      reason: "matches the partition patterns of 2 tables ('page', 'page_any'): give them prefixes or patterns that cannot match one key",
    });
  });

  it('watches each prefix once: S3 refuses overlapping notification prefixes', () => {
    expect(watchedPrefixes(flatConfig)).toEqual(['flat/']);
    expect(watchedPrefixes(cfg)).toEqual(['events/visits/', 'dims/campaigns/']);
  });
});

describe('enabled: false', () => {
  it("ignores a disabled table's keys, saying why", () => {
    const off = config((raw) => (raw.tables.visits!.enabled = false));
    expect(matchKey(off, 'events/visits/2026-11-20T13/part-0001.json.gz')).toEqual({
      kind: 'ignored',
      key: 'events/visits/2026-11-20T13/part-0001.json.gz',
      table: 'visits',
      reason: "table 'visits' is disabled (enabled: false)",
    });
  });
});
