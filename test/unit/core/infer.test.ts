import { gzipSync } from 'node:zlib';
import { parseConfigText } from '../../../functions/core/config/load';
import { compilePartitionPattern } from '../../../functions/core/dates';
import { inferColumns } from '../../../functions/core/infer/columns';
import { renderInitConfig } from '../../../functions/core/infer/document';
import { findDate, inferLayout } from '../../../functions/core/infer/layout';
import { csvRows, detectTextFormat, parseCsv, sampleText, sniffContainer } from '../../../functions/core/infer/sniff';

const keys = (...list: string[]) => list.map((key) => ({ key, size: 100 }));
const at = (text: string) => new Date(text);

describe('findDate', () => {
  it.each([
    ['events/visits/2026-11-20T13/part-0.json.gz', "{date:yyyy-MM-dd'T'HH}"],
    ['dims/campaigns_2026-11-20T00:00:00Z.csv', '{date:rfc3339}'],
    ['x/visits_20261120T130000Z.json', "{date:yyyyMMdd'T'HHmmss'Z'}"],
    ['x/dt=2026-11-20/hour=13/part-0.parquet', '{date:yyyy-MM-dd}/hour={date:HH}'],
    ['x/year=2026/month=11/day=20/hour=13/f.json', '{date:yyyy}/month={date:MM}/day={date:dd}/hour={date:HH}'],
    ['firehose/2026/11/20/13/stream-1-2026-11-20-13-00-00-abc.gz', '{date:yyyy/MM/dd/HH}'],
    ['daily/2026-11-20/f.csv', '{date:yyyy-MM-dd}'],
    ['x/dump_1763643600.json', '{date:epoch}'],
  ])('%s → %s', (key, pattern) => {
    expect(findDate(key)?.pattern).toBe(pattern);
  });

  it('refuses digit runs that are no real date (month 13, ids)', () => {
    expect(findDate('x/2026-13-01/f.json')).toBeUndefined();
    expect(findDate('x/part-00001.json')).toBeUndefined();
  });
});

describe('inferLayout', () => {
  it('groups hourly folders into one table whose prefix and pattern match every key', () => {
    const { tables, unassigned } = inferLayout(keys('events/visits/2026-11-20T13/part-0.json.gz', 'events/visits/2026-11-20T13/part-1.json.gz', 'events/visits/2026-11-20T14/part-0.json.gz'));
    expect(unassigned).toEqual([]);
    expect(tables).toHaveLength(1);
    expect(tables[0]).toMatchObject({ name: 'visits', prefix: 'events/visits/', partition: "{date:yyyy-MM-dd'T'HH}/", granularity: 'hour', partitions: 2 });
    expect(tables[0]!.first).toEqual(at('2026-11-20T13:00:00Z'));
    expect(tables[0]!.last).toEqual(at('2026-11-20T14:00:00Z'));
  });

  it('writes Hive-style literal text into the pattern, which the pipeline compiles', () => {
    const { tables } = inferLayout(keys('lake/clicks/dt=2026-11-20/hour=13/a.parquet', 'lake/clicks/dt=2026-11-20/hour=14/a.parquet'));
    expect(tables[0]).toMatchObject({ name: 'clicks', prefix: 'lake/clicks/', partition: 'dt={date:yyyy-MM-dd}/hour={date:HH}/', granularity: 'hour' });
    expect(compilePartitionPattern(tables[0]!.partition).render(at('2026-11-20T13:00:00Z'))).toBe('dt=2026-11-20/hour=13/');
  });

  it('splits a flat folder of <table>_<rfc3339>.csv into one table per name, with non-overlapping prefixes', () => {
    const { tables } = inferLayout(keys('exports/orders_2026-11-20T10:00:00Z.csv', 'exports/orders_2026-11-20T11:00:00Z.csv', 'exports/customers_2026-11-20T10:00:00Z.csv'));
    expect(tables.map((t) => [t.name, t.prefix, t.partition])).toEqual([
      ['customers', 'exports/customers_', '{date:rfc3339}.csv'],
      ['orders', 'exports/orders_', '{date:rfc3339}.csv'],
    ]);
    expect(tables[1]!.matched).toHaveLength(2);
  });

  it('counts keys that do not match, keys without a date, and finds a marker present in every partition', () => {
    const { tables, unassigned } = inferLayout(
      keys('t/a/2026-11-20/f.json', 't/a/2026-11-20/_SUCCESS', 't/a/2026-11-21/f.json', 't/a/2026-11-21/_SUCCESS', 't/a/README.md'),
    );
    expect(tables[0]).toMatchObject({ prefix: 't/a/', partition: '{date:yyyy-MM-dd}/', marker: '_SUCCESS' });
    expect(unassigned).toEqual([{ key: 't/a/README.md', reason: 'no date found in the key' }]);
  });
});

describe('sniffing', () => {
  it('tells gzip, bzip2, zstd and Parquet by magic number', () => {
    expect(sniffContainer(gzipSync('{"a":1}\n'))).toEqual({ kind: 'text', compression: 'gzip' });
    expect(sniffContainer(Buffer.from('BZh91AY&SY'))).toEqual({ kind: 'opaque', compression: 'bzip2' });
    expect(sniffContainer(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0]))).toEqual({ kind: 'opaque', compression: 'zstd' });
    expect(sniffContainer(Buffer.from('PAR1xxxx'))).toEqual({ kind: 'parquet' });
    expect(sniffContainer(Buffer.from('a,b\n1,2\n'))).toEqual({ kind: 'text', compression: 'none' });
  });

  it('drops the cut last line of a truncated (ranged) sample, gzip included', () => {
    const body = gzipSync('{"a":1}\n{"a":2}\n{"a":3}\n');
    const cut = body.subarray(0, body.length - 6);
    expect(sampleText(Buffer.from('{"a":1}\n{"a":'), 'none', true)).toBe('{"a":1}\n');
    expect(sampleText(cut, 'gzip', true).split('\n').filter(Boolean).every((l) => JSON.parse(l))).toBe(true);
  });

  it('detects JSON lines and CSV delimiters with and without header', () => {
    expect(detectTextFormat('{"a":1}\n{"a":2}\n')).toEqual({ type: 'json', lines: 2 });
    expect(detectTextFormat('id;name;amount\n1;"x;y";2.5\n2;z;3\n')).toMatchObject({ type: 'csv', delimiter: ';', header: true, fields: 3 });
    expect(detectTextFormat('1|Ada|true\n2|Grace|false\n')).toMatchObject({ type: 'csv', delimiter: '|', header: false });
    expect(detectTextFormat('a\tb\n1\t2\n')).toMatchObject({ type: 'csv', delimiter: '\t', header: true });
    expect(detectTextFormat('[{"a":1}]\n').type).toBe('unknown');
  });

  it('parses RFC 4180 quoting', () => {
    expect(parseCsv('a,"b ""q"", c",d\r\n1,2,3\n', ',')).toEqual([['a', 'b "q", c', 'd'], ['1', '2', '3']]);
    expect(csvRows('1,2\n', ',', false)).toEqual({ names: ['col_1', 'col_2'], rows: [{ col_1: '1', col_2: '2' }] });
  });
});

describe('inferColumns', () => {
  const hour = at('2026-11-20T13:00:00Z');

  it('sizes integers, decimals and varchars to the sample and says so', () => {
    const rows = Array.from({ length: 50 }, (_, i) => ({ id: i + 1, big: 3_000_000_000 + i, price: i % 2 ? 12.5 : 3.25, name: 'x'.repeat(1 + (i % 10)), ok: i % 2 === 0, at: `2026-11-20T13:${String(i).padStart(2, '0')}:00Z` }));
    const g = inferColumns([{ partitionDate: hour, rows }], { mapping: 'name', granularity: 'hour' });
    const by = Object.fromEntries(g.columns.map((c) => [c.name, c]));
    expect(by['id']).toMatchObject({ type: 'smallint', nullable: false });
    expect(by['id']!.evidence).toContain('50 of 50 sampled values are integers in [1, 50]');
    expect(by['big']!.type).toBe('bigint');
    expect(by['price']!.type).toBe('decimal(8,2)');
    expect(by['name']!.type).toBe('varchar(32)');
    expect(by['ok']!.type).toBe('boolean');
    expect(by['at']!.type).toBe('timestamp');
    expect(g.dataDateColumn).toBe('at');
    expect(g.dataDateEvidence).toBe("50 of 50 sampled values fall in their partition's hour");
  });

  it('marks columns nullable when values are null or missing', () => {
    const g = inferColumns([{ partitionDate: hour, rows: [{ a: 1, b: 'x' }, { a: null }, { a: 2, b: 'y' }] }], { mapping: 'name', granularity: 'hour' });
    expect(g.columns.map((c) => [c.name, c.nullable])).toEqual([['a', true], ['b', true]]);
  });

  it('reads epoch milliseconds as timestamps when every time column is epoch, as bigint beside ISO text', () => {
    const ms = hour.getTime();
    const onlyEpoch = inferColumns([{ partitionDate: hour, rows: [{ sent_at: ms + 1000 }, { sent_at: ms + 2000 }] }], { mapping: 'name', granularity: 'hour' });
    expect(onlyEpoch).toMatchObject({ timeFormat: 'epochmillisecs', dataDateColumn: 'sent_at' });
    expect(onlyEpoch.columns[0]!.type).toBe('timestamp');
    const mixed = inferColumns([{ partitionDate: hour, rows: [{ sentAt: ms + 1000, receivedAt: '2026-11-20T13:00:01Z' }] }], { mapping: 'name', granularity: 'hour' });
    expect(mixed).toMatchObject({ timeFormat: 'auto', jsonpaths: 'auto ignorecase', dataDateColumn: 'receivedat' });
    expect(mixed.columns.map((c) => [c.name, c.type])).toEqual([['sentat', 'bigint'], ['receivedat', 'timestamp']]);
  });

  it('keeps nested objects as JSON text and skips keys JSON auto cannot map', () => {
    const g = inferColumns([{ partitionDate: hour, rows: [{ ctx: { ip: '1.2.3.4' }, timestamp: 'x', 'user-agent': 'y', at: '2026-11-20T13:00:00Z' }] }], { mapping: 'name', granularity: 'hour' });
    expect(g.columns.map((c) => c.name)).toEqual(['ctx', 'at']);
    expect(g.columns[0]!.evidence).toContain('nested objects/arrays: kept as JSON text (SUPER is not a Forklift column type');
    expect(g.skipped.map((s) => s.source)).toEqual(['timestamp', 'user-agent']);
  });

  it('finds the primary key of a snapshot-like table, and none for events', () => {
    const snapshot = [0, 1].map((d) => ({ partitionDate: at(`2026-11-2${d}T00:00:00Z`), rows: [1, 2, 3].map((id) => ({ id, name: `n${id}`, updated_at: `2026-11-2${d}T00:00:00Z` })) }));
    expect(inferColumns(snapshot, { mapping: 'name', granularity: 'second' }).primaryKey).toBe('id');
    const events = [0, 1].map((d) => ({ partitionDate: at(`2026-11-2${d}T00:00:00Z`), rows: [1, 2, 3].map((i) => ({ id: d * 10 + i, at: `2026-11-2${d}T00:00:00Z` })) }));
    expect(inferColumns(events, { mapping: 'name', granularity: 'second' }).primaryKey).toBeUndefined();
  });

  it('cleans CSV header names into identifiers (position mapping)', () => {
    const g = inferColumns([{ partitionDate: hour, rows: [{ 'Order ID': '1', user: 'a', at: '2026-11-20T13:00:00Z' }] }], { mapping: 'position', granularity: 'hour', fields: ['Order ID', 'user', 'at'] });
    expect(g.columns.map((c) => c.name)).toEqual(['order_id', 'user_', 'at']);
  });
});

describe('renderInitConfig', () => {
  it('writes a config the loader accepts, with the evidence as comments and the aggregate commented out unless asked', () => {
    const layout = inferLayout(keys('events/visits/2026-11-20T13/p.json', 'events/visits/2026-11-20T14/p.json')).tables[0]!;
    const guess = inferColumns([{ partitionDate: at('2026-11-20T13:00:00Z'), rows: [{ id: 1, channel: 'a', at: '2026-11-20T13:10:00Z' }, ...Array.from({ length: 9 }, (_, i) => ({ id: i + 2, channel: i % 2 ? 'a' : 'b', at: '2026-11-20T13:20:00Z' }))] }], { mapping: 'name', granularity: 'hour' });
    const draft = { layout, guess, format: { type: 'json' as const, compression: 'none' as const, evidence: 'every sampled line is one JSON object' }, sampledObjects: 1, sampledBytes: 10 };
    const base = { source: 'data/', bucketName: 'forklift-landing', existingBucket: false, now: at('2026-11-29T00:00:00Z') };
    const yaml = renderInitConfig({ ...base, tables: [draft] });
    const config = parseConfigText(yaml, 'test');
    expect(config.tables['visits']).toMatchObject({ prefix: 'events/visits/', dataDateColumn: 'at', mode: 'append', olderPartitions: 'load' });
    expect(config.aggregates).toEqual({});
    expect(yaml).toContain('# 10 of 10 sampled values are integers in [1, 10]');
    expect(yaml).toContain('#   visits_hourly:');
    const withAggregate = parseConfigText(renderInitConfig({ ...base, tables: [draft], aggregate: 'day' }), 'test');
    expect(withAggregate.aggregates['visits_daily']).toMatchObject({ source: 'visits', timeColumn: 'at', grain: 'day', dimensions: ['channel'] });
  });

  it('leaves a table it could not sample out, as a comment saying why', () => {
    const layout = inferLayout(keys('a/x/2026-11-20/p.json.zst', 'b/y/2026-11-20/p.json')).tables;
    const good = inferColumns([{ partitionDate: at('2026-11-20T00:00:00Z'), rows: [{ at: '2026-11-20T01:00:00Z' }] }], { mapping: 'name', granularity: 'day' });
    const yaml = renderInitConfig({
      source: 'd',
      bucketName: 'forklift-landing',
      existingBucket: false,
      now: at('2026-11-29T00:00:00Z'),
      tables: [
        { layout: layout[0]!, unsampled: 'zstd without a decoder', sampledObjects: 1, sampledBytes: 4 },
        { layout: layout[1]!, guess: good, format: { type: 'json', compression: 'none', evidence: 'e' }, sampledObjects: 1, sampledBytes: 4 },
      ],
    });
    expect(Object.keys(parseConfigText(yaml, 'test').tables)).toEqual(['y']);
    expect(yaml).toContain("# table 'x' left out: zstd without a decoder");
  });
});
