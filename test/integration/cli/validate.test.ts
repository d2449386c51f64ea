/** `forklift validate`: the config, and --check-sources as a dry run of every table's source. */
import type { LocalPipeline } from '../../../local/pipeline';
import { dayAgo, jsonGz, runCli, startPipeline, visitRows, writeConfig } from './helpers';

describe('forklift validate', () => {
  let pipeline: LocalPipeline;
  let configPath: string;

  beforeAll(async () => {
    configPath = writeConfig();
    pipeline = await startPipeline();
    const day = dayAgo(1);
    await pipeline.put([
      { key: `visits/${day}/part-0.json.gz`, body: jsonGz(visitRows(day, 5)) },
      { key: `visits/${day}/part-1.json.gz`, body: jsonGz(visitRows(day, 5, 'w')) },
      { key: 'visits/not-a-date/part-0.json.gz', body: jsonGz(visitRows(day, 1)) },
    ]);
    await pipeline.settle();
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('accepts a valid config without touching any target', async () => {
    const run = await runCli(['validate'], { configPath });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('config OK');
    expect(run.stdout).toContain('visits, clicks, pings, quiet');
  });

  it('lists every problem of a bad config by path and exits 2', async () => {
    const bad = writeConfig(
      'warehouse: { database: dev, workgroupName: local }\nlanding: { bucketName: cli-landing }\n' +
        'tables:\n  t:\n    prefix: t/\n    partition: "{date:yyyy-MM-dd}/"\n    columns: { a: { type: strng } }\n    dataDateColumn: a\n',
    );
    const run = await runCli(['validate'], { configPath: bad });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('warehouse.copyRoleArn');
    expect(run.stderr).toContain('tables.t.columns.a.type');
    expect(run.stdout).toBe('');
  });

  it('refuses an ENCODE that does not fit its column type, naming table, column and the encodings that fit', async () => {
    const bad = writeConfig(
      'warehouse: { database: dev, workgroupName: local, copyRoleArn: "arn:aws:iam::123456789012:role/c" }\nlanding: { bucketName: cli-landing }\n' +
        'tables:\n  t:\n    prefix: t/\n    partition: "{date:yyyy-MM-dd}/"\n    columns: { a: timestamp, name: { type: varchar(20), encoding: az64 }, n: { type: integer, encoding: text255 } }\n    dataDateColumn: a\n',
    );
    const run = await runCli(['validate'], { configPath: bad });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('tables.t.columns.name.encoding');
    expect(run.stderr).toContain('encoding AZ64 cannot be used on a VARCHAR column');
    expect(run.stderr).toContain('for VARCHAR use one of RAW, BYTEDICT, LZO, RUNLENGTH, TEXT255, TEXT32K, ZSTD');
    expect(run.stderr).toContain('tables.t.columns.n.encoding');
    expect(run.stdout).toBe('');
  });

  it('query prints the rows of a SELECT on the warehouse as a table', async () => {
    const run = await runCli(['query', 'SELECT visit_id, amount FROM events.visits ORDER BY visit_id LIMIT 2'], { configPath, pipeline });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/visit_id\s+amount\n/);
    expect(run.stdout).toContain('(2 rows)');
    const ddl = await runCli(['query', 'CREATE TABLE public.scratch (a INTEGER)'], { configPath, pipeline });
    expect({ code: ddl.code, out: ddl.stdout }).toMatchObject({ code: 0, out: expect.stringMatching(/^done/) });
    const bad = await runCli(['query', 'SELECT * FROM events.nope'], { configPath, pipeline });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('nope');
  });

  it('exits 2 on a missing config file', async () => {
    const run = await runCli(['validate'], { configPath: '/nonexistent/forklift.yaml' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('cannot read config file');
  });

  it('--check-sources reports partitions, the latest, a sample, and keys that do not parse', async () => {
    const run = await runCli(['validate', '--check-sources'], { configPath, pipeline });
    expect(run.stdout).toContain('visits: s3://cli-landing/visits/');
    expect(run.stdout).toContain('1 partition, 2 data files, 3 objects');
    expect(run.stdout).toContain(`latest partition: ${dayAgo(1)}T00:00:00Z`);
    expect(run.stdout).toMatch(/keys that do not parse \(1\):\n\s+visits\/not-a-date\/part-0\.json\.gz: does not match the partition pattern/);
    expect(run.stdout).toMatch(/sample visits\/\S+part-0\.json\.gz: OK: 5 JSON object lines; 3 of 3 columns present/);
    expect(run.stdout).toContain('clicks: s3://cli-landing/clicks/');
    expect(run.stdout).toContain('1 problem in the sources');
    expect(run.code).toBe(1);
  });
});
