import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runLocalJob, type LocalJobOptions } from '../../../local/job';

/** What `npm start -- --data <dir>` does, run twice on one data dir: the second run is incremental. */
describe('the local job (npm start)', () => {
  const root = mkdtempSync(join(tmpdir(), 'forklift-job-'));
  const data = join(root, 'data');
  const options: LocalJobOptions = {
    config: 'forklift.config.yaml',
    data,
    dataDir: join(root, 'warehouse'),
    serve: false,
    fresh: false,
    verbose: false,
  };
  const visit = (id: string, hour: string, campaign: number) =>
    JSON.stringify({ visit_id: id, visitor_id: `v-${id}`, campaign_id: campaign, visited_at: `2026-11-20T${hour}:10:00Z`, duration_ms: 1000, revenue: 2.5 });

  beforeAll(() => {
    for (const hour of ['10', '11']) {
      const dir = join(data, 'events', 'visits', `2026-11-20T${hour}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'part-0.json.gz'), gzipSync([visit(`${hour}a`, hour, 1), visit(`${hour}b`, hour, 2)].join('\n') + '\n'));
      writeFileSync(join(dir, 'part-1.json.gz'), gzipSync(visit(`${hour}c`, hour, 1) + '\n'));
    }
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('loads every partition, prints a summary and the first fact rows; a second run skips them with the reason', async () => {
    const first: string[] = [];
    const summary = await runLocalJob(options, (line = '') => first.push(line), () => {});
    expect(summary).toEqual({ loaded: 2, skipped: 0, failed: 0, rejected: 0, rows: 6 });
    const text = first.join('\n');
    expect(text).toMatch(/visits\s+2026-11-20T10:00:00Z\s+loaded\s+3\b/);
    expect(text).toContain('2 loaded (6 rows), 0 skipped, 0 failed');
    expect(text).toMatch(/facts\.visits_hourly, newest 8 rows:/);
    // campaign 1 in hour 11: two visits, two distinct visitors, revenue 5.00
    expect(text).toMatch(/2026-11-20 11:00\s+1\s+2\s+2\s+5(\.00)?\s/);

    const second: string[] = [];
    const again = await runLocalJob(options, (line = '') => second.push(line), () => {});
    expect(again).toEqual({ loaded: 0, skipped: 2, failed: 0, rejected: 0, rows: 0 });
    expect(second.join('\n')).toContain("table 'visits': partition 2026-11-20T11:00:00Z is already loaded; use --force to reload it");
  }, 120_000);

  it('with an empty --data folder, ends without a crash and says the fact table was never created', async () => {
    const empty = join(root, 'empty');
    mkdirSync(empty, { recursive: true });
    const out: string[] = [];
    const summary = await runLocalJob({ ...options, data: empty, dataDir: join(root, 'fresh'), fresh: true }, (line = '') => out.push(line), () => {});
    expect(summary).toEqual({ loaded: 0, skipped: 0, failed: 0, rejected: 0, rows: 0 });
    expect(out.join('\n')).toContain('facts.visits_hourly: not created yet (no load fed it)');
  }, 120_000);
});
