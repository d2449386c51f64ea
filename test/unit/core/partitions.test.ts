import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseConfig } from '../../../functions/core/config/load';
import type { ConfigInput, ForkliftConfig } from '../../../functions/core/config/schema';
import { PartitionNotFoundError } from '../../../functions/core/errors';
import { checkCompleteness, groupPartitions, latestPartition, selectPartition } from '../../../functions/core/partitions';
import type { ObjectInfo, Partition } from '../../../functions/core/types';

function config(edit?: (raw: ConfigInput) => void): ForkliftConfig {
  const raw = parse(readFileSync('forklift.config.yaml', 'utf8'));
  edit?.(raw);
  return parseConfig(raw);
}
const cfg = config((raw) => {
  raw.tables.visits!.completeness = { marker: '_SUCCESS' };
});
const d = (iso: string) => new Date(iso);
const obj = (key: string, lastModified = '2026-11-20T00:00:00Z', size = 10): ObjectInfo => ({ key, size, lastModified: d(lastModified) });

describe('groupPartitions', () => {
  it('groups by the date in the key, sorted by date, files by key, marker apart', () => {
    const { partitions, rejected } = groupPartitions(cfg, 'visits', [
      obj('events/visits/2026-11-20T14/b.json'),
      obj('events/visits/2026-11-20T13/_SUCCESS'),
      obj('events/visits/2026-11-20T13/b.json'),
      obj('events/visits/2026-11-20T13/a.json'),
      obj('events/visits/2026-11-19T23/z.json'),
    ]);
    expect(rejected).toEqual([]);
    expect(partitions.map((p) => [p.key, p.date.toISOString(), p.end.toISOString(), p.files.map((f) => f.key), p.marker?.key])).toEqual([
      ['events/visits/2026-11-19T23/', '2026-11-19T23:00:00.000Z', '2026-11-20T00:00:00.000Z', ['events/visits/2026-11-19T23/z.json'], undefined],
      [
        'events/visits/2026-11-20T13/',
        '2026-11-20T13:00:00.000Z',
        '2026-11-20T14:00:00.000Z',
        ['events/visits/2026-11-20T13/a.json', 'events/visits/2026-11-20T13/b.json'],
        'events/visits/2026-11-20T13/_SUCCESS',
      ],
      ['events/visits/2026-11-20T14/', '2026-11-20T14:00:00.000Z', '2026-11-20T15:00:00.000Z', ['events/visits/2026-11-20T14/b.json'], undefined],
    ]);
    expect(partitions[0]!.table).toBe('visits');
  });

  it('returns objects that do not parse apart, never mixed into a partition; drops folder placeholders', () => {
    const { partitions, rejected } = groupPartitions(cfg, 'visits', [
      obj('events/visits/2026-11-20T13/a.json'),
      obj("events/visits/2026-11-20T13/x';drop.json"),
      obj('events/visits/2026-02-30T13/a.json'),
      obj('events/visits/junk.txt'),
      obj('events/visits/2026-11-20T13/'),
      obj('dims/campaigns/campaigns_2026-11-20T13:00:00Z.csv'),
      obj('elsewhere/x.json'),
    ]);
    expect(partitions).toHaveLength(1);
    expect(partitions[0]!.files.map((f) => f.key)).toEqual(['events/visits/2026-11-20T13/a.json']);
    expect(rejected).toEqual([
      { key: 'dims/campaigns/campaigns_2026-11-20T13:00:00Z.csv', reason: "belongs to table 'campaigns', not 'visits'" },
      { key: 'elsewhere/x.json', reason: 'not under the prefix of any table' },
      { key: 'events/visits/2026-02-30T13/a.json', reason: "'2026-02-30T13/' does not hold a valid date for pattern '{date:yyyy-MM-dd'T'HH}/'" },
      { key: "events/visits/2026-11-20T13/x';drop.json", reason: 'key contains a quote' },
      { key: 'events/visits/junk.txt', reason: "does not match the partition pattern 'events/visits/{date:yyyy-MM-dd'T'HH}/'" },
    ]);
  });

  it('makes one partition per snapshot object; a second spelling of the same date is rejected', () => {
    const { partitions, rejected } = groupPartitions(cfg, 'campaigns', [
      obj('dims/campaigns/campaigns_2026-11-20T14:00:00+01:00.csv'),
      obj('dims/campaigns/campaigns_2026-11-20T13:00:00Z.csv'),
      obj('dims/campaigns/campaigns_2026-11-19T13:00:00Z.csv'),
    ]);
    expect(partitions.map((p) => [p.key, p.end.toISOString()])).toEqual([
      ['dims/campaigns/campaigns_2026-11-19T13:00:00Z.csv', '2026-11-19T13:00:01.000Z'],
      ['dims/campaigns/campaigns_2026-11-20T13:00:00Z.csv', '2026-11-20T13:00:01.000Z'],
    ]);
    expect(partitions[1]!.files.map((f) => f.key)).toEqual(['dims/campaigns/campaigns_2026-11-20T13:00:00Z.csv']);
    expect(rejected).toEqual([
      {
        key: 'dims/campaigns/campaigns_2026-11-20T14:00:00+01:00.csv',
        reason: "partition date 2026-11-20T13:00:00Z is already given by 'dims/campaigns/campaigns_2026-11-20T13:00:00Z.csv'",
      },
    ]);
  });

  it('keeps a partition holding only its marker (with no files)', () => {
    const { partitions } = groupPartitions(cfg, 'visits', [obj('events/visits/2026-11-20T13/_SUCCESS')]);
    expect(partitions).toHaveLength(1);
    expect(partitions[0]!.files).toEqual([]);
    expect(partitions[0]!.marker?.key).toBe('events/visits/2026-11-20T13/_SUCCESS');
  });

  it('throws for an unknown table', () => {
    expect(() => groupPartitions(cfg, 'nope', [])).toThrow(PartitionNotFoundError);
  });
});

describe('latestPartition and selectPartition', () => {
  // lastModified is deliberately newest on the oldest partition, and the listing is shuffled.
  const listing = [
    obj('events/visits/2026-11-20T12/a.json', '2026-11-21T09:00:00Z'),
    obj('events/visits/2026-11-20T15/a.json', '2026-11-20T15:10:00Z'),
    obj('events/visits/2026-11-20T09/a.json', '2026-11-22T00:00:00Z'),
    obj('events/visits/2026-11-20T14/a.json', '2026-11-20T14:10:00Z'),
  ];
  const { partitions } = groupPartitions(cfg, 'visits', listing);
  const shuffled: Partition[] = [partitions[2]!, partitions[0]!, partitions[3]!, partitions[1]!];

  it('picks the latest by the date in the key, not by lastModified or order', () => {
    expect(latestPartition(shuffled)?.key).toBe('events/visits/2026-11-20T15/');
    expect(latestPartition([])).toBeUndefined();
    expect(selectPartition(shuffled, 'visits').key).toBe('events/visits/2026-11-20T15/');
  });

  it('picks an explicit date exactly', () => {
    expect(selectPartition(shuffled, 'visits', d('2026-11-20T12:00:00Z')).key).toBe('events/visits/2026-11-20T12/');
  });

  it('names the table, the date and the nearest partitions when the date is missing', () => {
    let error: unknown;
    try {
      selectPartition(shuffled, 'visits', d('2026-11-20T13:00:00Z'));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PartitionNotFoundError);
    expect((error as PartitionNotFoundError).table).toBe('visits');
    expect((error as PartitionNotFoundError).date).toBe('2026-11-20T13:00:00Z');
    expect((error as Error).message).toBe(
      "no partition 2026-11-20T13:00:00Z for table 'visits': nearest existing partitions: 2026-11-20T12:00:00Z (before), 2026-11-20T14:00:00Z (after)",
    );
    expect(() => selectPartition(shuffled, 'visits', d('2026-11-21T00:00:00Z'))).toThrow(
      'nearest existing partitions: 2026-11-20T15:00:00Z (before)',
    );
  });

  it('throws when there is no partition at all', () => {
    expect(() => selectPartition([], 'visits')).toThrow("no partition for table 'visits': the table has no partitions yet");
    expect(() => selectPartition([], 'visits', d('2026-11-20T13:00:00Z'))).toThrow(
      "no partition 2026-11-20T13:00:00Z for table 'visits': the table has no partitions yet",
    );
  });
});

describe('checkCompleteness', () => {
  const partition = (files: ObjectInfo[], marker?: ObjectInfo): Partition => ({
    table: 'visits',
    date: d('2026-11-20T13:00:00Z'),
    end: d('2026-11-20T14:00:00Z'),
    key: 'events/visits/2026-11-20T13/',
    files,
    ...(marker ? { marker } : {}),
  });
  const now = d('2026-11-20T14:05:00Z');
  const files = [obj('events/visits/2026-11-20T13/a.json', '2026-11-20T14:00:00Z'), obj('events/visits/2026-11-20T13/b.json', '2026-11-20T14:04:00Z')];

  it('marker rule: complete iff the marker is present', () => {
    const rule = { completeness: { marker: '_SUCCESS' } };
    expect(checkCompleteness(rule, partition(files, obj('events/visits/2026-11-20T13/_SUCCESS')), now)).toEqual({ complete: true });
    expect(checkCompleteness(rule, partition(files), now)).toEqual({
      complete: false,
      reason: "waiting for the completeness marker 'events/visits/2026-11-20T13/_SUCCESS'",
    });
  });

  it('quiet rule: complete once the newest object is quietSeconds old', () => {
    expect(checkCompleteness({ completeness: { quietSeconds: 60 } }, partition(files), now)).toEqual({ complete: true });
    expect(checkCompleteness({ completeness: { quietSeconds: 61 } }, partition(files), now)).toEqual({
      complete: false,
      reason:
        "partition 'events/visits/2026-11-20T13/' received an object at 2026-11-20T14:04:00Z, less than 61s ago; it counts as complete from 2026-11-20T14:05:01Z",
      retryAfterSeconds: 1,
    });
    expect(checkCompleteness({ completeness: { quietSeconds: 300 } }, partition(files), now)).toMatchObject({
      complete: false,
      retryAfterSeconds: 240,
    });
  });

  it('quiet rule: rounds the wait up to whole seconds', () => {
    const late = [obj('events/visits/2026-11-20T13/a.json', '2026-11-20T14:04:59.500Z')];
    expect(checkCompleteness({ completeness: { quietSeconds: 10 } }, partition(late), now)).toMatchObject({ retryAfterSeconds: 10 });
  });

  it('quietSeconds 0 is always complete, even for objects from the future', () => {
    const future = [obj('events/visits/2026-11-20T13/a.json', '2026-11-21T00:00:00Z')];
    expect(checkCompleteness({ completeness: { quietSeconds: 0 } }, partition(future), now)).toEqual({ complete: true });
  });

  it('an empty partition is never complete', () => {
    expect(checkCompleteness({ completeness: { quietSeconds: 0 } }, partition([]), now)).toEqual({
      complete: false,
      reason: "partition 'events/visits/2026-11-20T13/' has no data files yet",
    });
    expect(checkCompleteness({ completeness: { marker: '_SUCCESS' } }, partition([], obj('events/visits/2026-11-20T13/_SUCCESS')), now)).toMatchObject({
      complete: false,
    });
  });
});
