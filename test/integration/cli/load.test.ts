/** `forklift plan` and `forklift reload` on a marker table, whose files stay unloaded until asked. */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { LocalPipeline } from '../../../local/pipeline';
import { count, dayAgo, jsonGz, runCli, startPipeline, writeConfig } from './helpers';

const DAY = dayAgo(2);
const rows = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ click_id: `${prefix}-${i}`, clicked_at: `${DAY}T10:${String(i).padStart(2, '0')}:00Z` }));

describe('forklift plan and reload', () => {
  let pipeline: LocalPipeline;
  let configPath: string;
  const objectCount = async () =>
    (await pipeline.stack.s3.client.send(new ListObjectsV2Command({ Bucket: 'cli-landing' }))).KeyCount ?? 0;
  const loadsRows = () => count(pipeline, 'SELECT COUNT(*) FROM forklift.loads');
  const clicks = () => count(pipeline, 'SELECT COUNT(*) FROM events.clicks');

  beforeAll(async () => {
    configPath = writeConfig();
    pipeline = await startPipeline();
    // One automatic load, so the audit tables exist; clicks files without their marker load nothing.
    await pipeline.put([{ key: `visits/${DAY}/a.json.gz`, body: jsonGz([{ visit_id: 'x', visited_at: `${DAY}T01:00:00Z`, amount: 1 }]) }]);
    await pipeline.put([
      { key: `clicks/${DAY}/part-0.json.gz`, body: jsonGz(rows('a', 6)) },
      { key: `clicks/${DAY}/part-1.json.gz`, body: jsonGz(rows('b', 4)) },
    ]);
    await pipeline.settle();
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('plan prints both transactions and the manifest it would write, and writes nothing', async () => {
    const objectsBefore = await objectCount();
    const loadsBefore = await loadsRows();
    const run = await runCli(['plan', '--table', 'clicks', '--date', DAY, '--force'], { configPath, pipeline });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`plan: clicks partition ${DAY}T00:00:00Z (clicks/${DAY}/)`);
    expect(run.stdout).toContain('action: load');
    expect(run.stdout).toContain(`manifest (not written): s3://cli-landing/_forklift/manifests/clicks/clicks-${DAY.replace(/-/g, '')}T000000.manifest`);
    expect(run.stdout).toContain(`"url": "s3://cli-landing/clicks/${DAY}/part-1.json.gz"`);
    expect(run.stdout).toMatch(/load transaction \(\d+ statements/);
    expect(run.stdout).toMatch(/\n\s+\d+\. COPY /);
    expect(await objectCount()).toBe(objectsBefore);
    expect(await loadsRows()).toBe(loadsBefore);
  });

  it('plan without --force says why nothing would run (no marker: exit 2)', async () => {
    const run = await runCli(['plan', '--table', 'clicks', '--date', DAY], { configPath, pipeline });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("waiting for the completeness marker");
  });

  it('plan of the aggregate-feeding table shows the aggregate transaction', async () => {
    const run = await runCli(['plan', '--table', 'visits', '--force'], { configPath, pipeline });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('aggregate transaction');
    expect(run.stdout).toContain('"facts"."visits_daily"');
  });

  it('reload loads, a second reload is skipped with the reason, --force reloads without duplicates', async () => {
    const first = await runCli(['reload', '--table', 'clicks', '--date', DAY, '--force'], { configPath, pipeline });
    expect({ code: first.code, output: first.stdout }).toMatchObject({ code: 0 });
    expect(first.stdout).toContain(`clicks ${DAY}T00:00:00Z: loaded: 10 rows from 2 files`);
    expect(first.stdout).toContain("('raw', 'clicks', 10, ");
    expect(first.stderr).toMatch(/started clicks-\d{8}T000000-cli-/);
    expect(await clicks()).toBe(10);

    // The marker arrives: the automatic load sees the partition loaded and skips it.
    await pipeline.put([{ key: `clicks/${DAY}/_SUCCESS`, body: '' }]);
    await pipeline.settle();

    const second = await runCli(['reload', '--table', 'clicks', '--date', DAY], { configPath, pipeline });
    expect({ code: second.code, output: second.stdout }).toMatchObject({ code: 0 });
    expect(second.stdout).toMatch(new RegExp(`clicks ${DAY}T00:00:00Z: skipped: .*already loaded`));
    expect(await clicks()).toBe(10);

    const forced = await runCli(['reload', '--table', 'clicks', '--date', DAY, '--force'], { configPath, pipeline });
    expect({ code: forced.code, output: forced.stdout }).toMatchObject({ code: 0 });
    expect(forced.stdout).toContain('loaded: 10 rows');
    expect(await clicks()).toBe(10);
    expect(await count(pipeline, "SELECT COUNT(*) FROM forklift.loads WHERE table_name = 'events.clicks' AND status = 'loaded'")).toBe(2);
  });

  it('reload of a partition that does not exist fails with the cause and exit 1', async () => {
    const run = await runCli(['reload', '--table', 'clicks', '--date', dayAgo(20), '--force'], { configPath, pipeline });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('failed');
    expect(run.stdout).toContain('PartitionNotFoundError');
  });

  it('rejects a bad date and an unknown table with exit 2', async () => {
    expect((await runCli(['reload', '--table', 'clicks', '--date', 'yesterday'], { configPath, pipeline })).code).toBe(2);
    const unknown = await runCli(['reload', '--table', 'nope', '--date', DAY], { configPath, pipeline });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown table 'nope'");
  });
});
