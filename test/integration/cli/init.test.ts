/**
 * `forklift init` on data it was not written for: the example data `npm start` generates, a
 * Hive-style Parquet dataset (committed fixture, see test/fixtures/init/make-parquet.ts), a flat
 * `<table>_<rfc3339>.csv` layout with two tables, and Firehose-shaped JSON with nested objects and
 * mixed epoch and ISO timestamps. Each time the written config validates, and loading the data
 * with it through the local stack leaves every row in the warehouse.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { query } from '../../../functions/adapters/warehouse';
import { loadConfigFile } from '../../../functions/core/config/load';
import type { ForkliftConfig } from '../../../functions/core/config/schema';
import { readParquet } from '../../../local/redshift-data/formats/parquet';
import { startLocalPipeline } from '../../../local/pipeline';
import { startLocalS3 } from '../../../local/s3';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DEFAULT_SAMPLE, generateSample } from '../../../local/sample';
import { runCli } from './helpers';

function write(dir: string, objects: Array<{ key: string; body: Buffer | string }>): void {
  for (const o of objects) {
    mkdirSync(dirname(join(dir, o.key)), { recursive: true });
    writeFileSync(join(dir, o.key), o.body);
  }
}

function files(dir: string): Array<{ key: string; body: Buffer }> {
  const out: Array<{ key: string; body: Buffer }> = [];
  const walk = (p: string) => {
    for (const name of readdirSync(p).sort()) {
      const full = join(p, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.push({ key: relative(dir, full).split('\\').join('/'), body: readFileSync(full) });
    }
  };
  walk(dir);
  return out;
}

/** init → validate; returns the config and what init printed. */
async function init(dataDir: string, args: string[] = []): Promise<{ config: ForkliftConfig; path: string; stdout: string; yaml: string }> {
  const path = join(mkdtempSync(join(tmpdir(), 'forklift-init-')), 'forklift.config.yaml');
  const run = await runCli(['init', '--from', dataDir, '--out', path, ...args], { configPath: path });
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.not.stringMatching(/error/i) });
  expect(run.stdout).toContain(`npm start -- --config ${path} --data ${dataDir}`);
  const validate = await runCli(['validate'], { configPath: path });
  expect(validate.stdout).toContain('config OK');
  expect(validate.code).toBe(0);
  return { config: loadConfigFile(path), path, stdout: run.stdout, yaml: readFileSync(path, 'utf8') };
}

/** Put every file of `dataDir` into the local stack running `config`; returns row counts by table. */
async function load(config: ForkliftConfig, dataDir: string): Promise<Record<string, number>> {
  const pipeline = await startLocalPipeline({ config, dataDir: mkdtempSync(join(tmpdir(), 'forklift-init-stack-')) });
  try {
    await pipeline.put(files(dataDir));
    await pipeline.settle();
    const failed = (await pipeline.executions()).filter((e) => e.status !== 'SUCCEEDED');
    expect(failed.map((e) => `${e.error}: ${e.cause}`)).toEqual([]);
    const counts: Record<string, number> = {};
    for (const [name, t] of Object.entries(config.tables)) {
      const rows = await query(pipeline.deps.warehouse, `SELECT count(*) FROM "${t.schema}"."${name}"`);
      counts[name] = Number(rows[0]?.[0] ?? 0);
    }
    return counts;
  } finally {
    await pipeline.stop();
  }
}

const jsonLines = (body: Buffer) => gunzipSync(body).toString('utf8').split('\n').filter((l) => l.trim() !== '').length;

describe('forklift init', () => {
  it('configures the example data npm start generates, and every row loads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forklift-init-sample-'));
    const objects = generateSample({ ...DEFAULT_SAMPLE, days: 1, now: new Date('2026-11-20T13:30:00Z') });
    write(dir, objects);
    const { config, stdout } = await init(dir);

    expect(Object.keys(config.tables).sort()).toEqual(['campaigns', 'visits']);
    const visits = config.tables['visits']!;
    expect(visits).toMatchObject({ prefix: 'events/visits/', partition: "{date:yyyy-MM-dd'T'HH}/", compression: 'gzip', format: { type: 'json' }, dataDateColumn: 'visited_at', mode: 'append' });
    expect(Object.keys(visits.columns)).toEqual(['visit_id', 'visitor_id', 'campaign_id', 'visited_at', 'duration_ms', 'revenue']);
    expect(visits.columns['revenue']).toMatchObject({ nullable: true, type: { base: 'DECIMAL', scale: 2 } });
    const campaigns = config.tables['campaigns']!;
    expect(campaigns).toMatchObject({ prefix: 'dims/campaigns/', partition: 'campaigns_{date:rfc3339}.csv', format: { type: 'csv', header: true, delimiter: ',' }, mode: 'truncate', primaryKey: ['campaign_id'], dataDateColumn: 'updated_at' });
    expect(stdout).toContain('24 of 24 keys under events/visits/ match'.replace('24 of 24', `${objects.filter((o) => o.key.startsWith('events/')).length} of ${objects.filter((o) => o.key.startsWith('events/')).length}`));

    const counts = await load(config, dir);
    const visitRows = objects.filter((o) => o.key.startsWith('events/')).reduce((n, o) => n + jsonLines(o.body), 0);
    const newestSnapshot = objects.filter((o) => o.key.startsWith('dims/')).sort((a, b) => a.key.localeCompare(b.key)).at(-1)!;
    expect(counts).toEqual({ visits: visitRows, campaigns: newestSnapshot.body.toString().trim().split('\n').length - 1 });
  }, 240_000);

  it('configures a Hive-style partitioned Parquet dataset, and every row loads', async () => {
    const dir = join(__dirname, '..', '..', 'fixtures', 'init', 'hive-parquet');
    const { config, yaml } = await init(dir, ['--aggregate', 'hour']);
    const clicks = config.tables['clicks']!;
    expect(clicks).toMatchObject({ prefix: 'clicks/', partition: 'dt={date:yyyy-MM-dd}/hour={date:HH}/', format: { type: 'parquet' }, compression: 'none', dataDateColumn: 'clicked_at', mode: 'append' });
    expect(Object.keys(clicks.columns)).toEqual(['click_id', 'user_id', 'clicked_at', 'price', 'country', 'is_mobile']);
    expect(clicks.columns['is_mobile']!.type.base).toBe('BOOLEAN');
    expect(clicks.columns['clicked_at']!.type.base).toBe('TIMESTAMP');
    expect(config.aggregates['clicks_hourly']).toMatchObject({ source: 'clicks', timeColumn: 'clicked_at', grain: 'hour', dimensions: ['country'] });
    expect(yaml).toMatch(/# \d+ of \d+ sampled values fall in their partition's hour/);

    let expected = 0;
    for (const f of files(dir)) expected += (await readParquet(f.body)).rows.length;
    expect(await load(config, dir)).toEqual({ clicks: expected });
  }, 240_000);

  it('configures a flat <table>_<rfc3339>.csv layout with two tables (one headerless, | delimited), and every row loads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forklift-init-flat-'));
    const objects: Array<{ key: string; body: string }> = [];
    let orderRows = 0;
    const customers = ['1|Ada Lovelace|ada@example.com|true', '2|Grace Hopper|grace@example.com|false', '3|Edsger Dijkstra||true', '4|Barbara Liskov|barbara@example.com|true'];
    for (const [d, hour] of [['2026-11-19', '22'], ['2026-11-19', '23'], ['2026-11-20', '00'], ['2026-11-20', '01']] as const) {
      const at = `${d}T${hour}:00:00Z`;
      const lines = ['order_id,customer_id,amount,currency,ordered_at'];
      for (let i = 0; i < 15 + Number(hour) % 7; i++) {
        lines.push(`${d.replace(/-/g, '')}${hour}${String(i).padStart(3, '0')},${1 + (i % 4)},${(i * 13.37 + 1).toFixed(2)},${i % 3 ? 'EUR' : 'USD'},${d}T${hour}:${String(i * 3).padStart(2, '0')}:00Z`);
      }
      orderRows += lines.length - 1;
      objects.push({ key: `exports/orders_${at}.csv`, body: lines.join('\n') + '\n' });
      objects.push({ key: `exports/customers_${at}.csv`, body: customers.map((c) => `${c}|${at}`).join('\n') + '\n' });
    }
    write(dir, objects);
    const { config } = await init(dir);
    expect(config.tables['orders']).toMatchObject({ prefix: 'exports/orders_', partition: '{date:rfc3339}.csv', format: { type: 'csv', header: true, delimiter: ',' }, mode: 'append', dataDateColumn: 'ordered_at' });
    expect(config.tables['orders']!.columns['order_id']!.type.base).toBe('BIGINT');
    expect(config.tables['customers']).toMatchObject({ prefix: 'exports/customers_', partition: '{date:rfc3339}.csv', format: { type: 'csv', header: false, delimiter: '|' }, mode: 'truncate', primaryKey: ['col_1'], dataDateColumn: 'col_5' });
    expect(config.tables['customers']!.columns['col_3']!.nullable).toBe(true);
    expect(await load(config, dir)).toEqual({ orders: orderRows, customers: customers.length });
  }, 240_000);

  it('configures Firehose-shaped JSON with nested objects and mixed epoch/ISO timestamps, and every row loads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forklift-init-json-'));
    let total = 0;
    for (const hour of ['10', '11', '12']) {
      for (const part of [0, 1]) {
        const rows = Array.from({ length: 25 + part * 5 }, (_, i) => {
          const received = Date.parse(`2026-11-20T${hour}:00:00Z`) + i * 61_000 + part * 7_000;
          return {
            messageId: `m-${hour}-${part}-${i}`,
            type: i % 4 ? 'track' : 'identify',
            event: i % 4 ? ['Order Completed', 'Product Viewed'][i % 2] : null,
            userId: `u-${(i * 7) % 19}`,
            timestamp: new Date(received - 900).toISOString(),
            sentAt: received - 400,
            receivedAt: new Date(received).toISOString(),
            context: { ip: `10.0.${part}.${i}`, locale: i % 2 ? 'de-DE' : 'en-US', library: { name: 'analytics.js', version: '4.1.0' } },
            properties: i % 4 ? { revenue: i * 1.5, currency: 'EUR', products: [{ sku: `A${i}`, qty: 1 + (i % 3) }] } : {},
            version: 2,
          };
        });
        total += rows.length;
        write(dir, [{ key: `firehose/2026/11/20/${hour}/events-1-2026-11-20-${hour}-0${part}-00-abc${part}.gz`, body: gzipSync(rows.map((r) => JSON.stringify(r)).join('\n') + '\n') }]);
      }
    }
    const { config, yaml } = await init(dir, ['--table', 'events']);
    const events = config.tables['events']!;
    expect(events).toMatchObject({ prefix: 'firehose/', partition: '{date:yyyy/MM/dd/HH}/', compression: 'gzip', format: { type: 'json', jsonpaths: 'auto ignorecase' }, timeFormat: 'auto', dataDateColumn: 'receivedat' });
    expect(events.columns['sentat']!.type.base).toBe('BIGINT');
    expect(events.columns['context']!.type.base).toBe('VARCHAR');
    expect(events.columns['event']!.nullable).toBe(true);
    expect(Object.keys(events.columns)).not.toContain('timestamp');
    expect(yaml).toContain("not loaded: key 'timestamp' is a Redshift reserved word");
    expect(yaml).toMatch(/sentat:.*\n|# .*epoch-milliseconds range.*kept as bigint because TIMEFORMAT is one per table/);

    expect(await load(config, dir)).toEqual({ events: total });
  }, 240_000);

  it('reads the local stack\'s bucket with --local, and bounds the sample by --max-objects and --max-bytes', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'forklift-init-local-'));
    const s3 = await startLocalS3({ dataDir: join(dataDir, 's3'), buckets: ['landing-local'] });
    try {
      for (const day of ['2026-11-18', '2026-11-19', '2026-11-20']) {
        const rows = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ id: i, at: `${day}T00:00:${String(i % 60).padStart(2, '0')}Z`, note: 'x'.repeat(40) }));
        await s3.client.send(new PutObjectCommand({ Bucket: 'landing-local', Key: `in/logs/${day}/part-0.json`, Body: rows.join('\n') + '\n' }));
      }
      await s3.client.send(new PutObjectCommand({ Bucket: 'landing-local', Key: 'other/readme.txt', Body: 'no date here' }));
    } finally {
      await s3.stop();
    }
    const path = join(mkdtempSync(join(tmpdir(), 'forklift-init-')), 'forklift.config.yaml');
    const run = await runCli(['--local', '--data-dir', dataDir, 'init', '--from', 's3://landing-local/in/', '--out', path, '--max-objects', '2', '--max-bytes', '4096'], { configPath: path });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('listed 3 keys in s3://landing-local/in/ (local stack)');
    expect(run.stdout).toContain('3 of 3 keys under in/logs/ match {date:yyyy-MM-dd}/ (0 do not): 3 daily partitions, 2026-11-18T00:00:00Z .. 2026-11-20T00:00:00Z');
    const yaml = readFileSync(path, 'utf8');
    expect(yaml).toMatch(/# sampled 2 objects \(8,192 bytes\), \d+ rows/);
    const config = loadConfigFile(path);
    expect(config.landing).toMatchObject({ bucketName: 'landing-local' });
    expect(config.tables['logs']).toMatchObject({ prefix: 'in/logs/', partition: '{date:yyyy-MM-dd}/', dataDateColumn: 'at' });
  }, 60_000);

  it('says so, rather than guessing, when objects are bzip2 or zstd (no decoder): the table is left as a comment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forklift-init-bz-'));
    write(dir, [
      { key: 'a/bz/2026-11-20/p.json.bz2', body: Buffer.concat([Buffer.from('BZh91AY&SY'), Buffer.alloc(20)]) },
      { key: 'a/zs/2026-11-20/p.csv.zst', body: Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]) },
      { key: 'a/ok/2026-11-20/p.json', body: '{"at":"2026-11-20T01:00:00Z","n":1}\n' },
    ]);
    const { stdout, yaml, config, path } = await init(dir);
    expect(Object.keys(config.tables)).toEqual(['ok']);
    const again = await runCli(['init', '--from', dir, '--out', path], { configPath: path });
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 2, stderr: `error: ${path} exists: pass --force to overwrite it, or --out another file\n` });
    expect(stdout).toContain('NOT CONFIGURED: a/bz/2026-11-20/p.json.bz2 is bzip2-compressed (magic number 42 5a 68 39) and the CLI has no bzip2 decoder, so its rows could not be sampled; the file name suggests json');
    expect(stdout).toContain('NOT CONFIGURED: a/zs/2026-11-20/p.csv.zst is zstd-compressed');
    expect(yaml).toContain("# table 'bz' left out:");
    expect(yaml).toContain("# table 'zs' left out:");
  }, 60_000);
});
