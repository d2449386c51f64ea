/** `forklift backfill` over days of a table (and an aggregate), a failing backfill, and `forklift status`. */
import { gzipSync } from 'node:zlib';
import type { LocalPipeline } from '../../../local/pipeline';
import { count, dayAgo, jsonGz, runCli, startPipeline, visitRows, writeConfig } from './helpers';

const DAYS = [dayAgo(3), dayAgo(2), dayAgo(1)];

describe('forklift backfill and status', () => {
  let pipeline: LocalPipeline;
  let configPath: string;
  const visits = () => count(pipeline, 'SELECT COUNT(*) FROM events.visits');

  beforeAll(async () => {
    configPath = writeConfig();
    pipeline = await startPipeline();
    // Every put is loaded automatically (quietSeconds 0): the backfills run over loaded partitions.
    await pipeline.put(DAYS.flatMap((day, i) => [
      { key: `visits/${day}/part-0.json.gz`, body: jsonGz(visitRows(day, 4 + i)) },
      { key: `visits/${day}/part-1.json.gz`, body: jsonGz(visitRows(day, 3, 'w')) },
    ]));
    const [good, bad] = [dayAgo(2), dayAgo(1)];
    await pipeline.put([
      { key: `pings/${good}/p.json.gz`, body: jsonGz([{ ping_id: 'p1', pinged_at: `${good}T01:00:00Z` }]) },
      {
        key: `pings/${bad}/p.json.gz`,
        body: gzipSync(`{"ping_id": "p2", "pinged_at": "${bad}T01:00:00Z"}\n{"ping_id": "p3", "pinged_at": \n`),
      },
    ]);
    await pipeline.settle();
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('without --force, every partition of the range is skipped with the reason', async () => {
    const run = await runCli(['backfill', '--table', 'visits', '--days-back', '3'], { configPath, pipeline });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('backfill table visits: 3 executions');
    for (const day of DAYS) expect(run.stdout).toMatch(new RegExp(`${day}T00:00:00Z\\s+skipped\\s+-\\s+.*already loaded`));
    expect(run.stdout).toContain('3 succeeded (0 loaded, 3 skipped), 0 failed');
    expect(await visits()).toBe(7 + 8 + 9);
  });

  it('with --force, loads every partition of the range, without duplicates, and ends with a summary', async () => {
    const run = await runCli(['backfill', '--table', 'visits', '--start-date', DAYS[0]!, '--end-date', DAYS[2]!, '--force', '--concurrency', '2'], {
      configPath,
      pipeline,
    });
    expect({ code: run.code, output: run.stdout }).toMatchObject({ code: 0 });
    expect(run.stdout).toMatch(/partition\s+status\s+rows\s+detail\s+execution/);
    expect(run.stdout).toMatch(new RegExp(`${DAYS[0]}T00:00:00Z\\s+loaded\\s+7\\s`));
    expect(run.stdout).toMatch(new RegExp(`${DAYS[2]}T00:00:00Z\\s+loaded\\s+9\\s`));
    expect(run.stdout).toContain('3 succeeded (3 loaded, 0 skipped), 0 failed');
    expect(run.stderr.split('\n').filter((l) => l.includes(': loaded'))).toHaveLength(3);
    expect(await visits()).toBe(7 + 8 + 9);
    expect(await count(pipeline, 'SELECT SUM(visits) FROM facts.visits_daily')).toBe(7 + 8 + 9);
  });

  it('a backfill with a malformed file exits 1 and names the file and line', async () => {
    const run = await runCli(['backfill', '--table', 'pings', '--days-back', '3', '--force'], { configPath, pipeline });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`${dayAgo(2)}T00:00:00Z\\s+loaded\\s+1`));
    expect(run.stdout).toMatch(new RegExp(`${dayAgo(1)}T00:00:00Z\\s+failed`));
    expect(run.stdout).toContain('failures:');
    expect(run.stdout).toMatch(new RegExp(`CopyError: .*pings/${dayAgo(1)}/p\\.json\\.gz.*line 2`));
    expect(run.stdout).toContain('1 succeeded (1 loaded, 0 skipped), 1 failed');
  });

  it('recomputes an aggregate by day', async () => {
    const run = await runCli(['backfill', '--aggregate', 'visits_daily', '--start-date', DAYS[0]!, '--end-date', DAYS[2]!], { configPath, pipeline });
    expect({ code: run.code, output: run.stdout }).toMatchObject({ code: 0 });
    expect(run.stdout).toContain('3 succeeded (0 loaded, 0 skipped, 3 aggregated), 0 failed');
    expect(await count(pipeline, 'SELECT SUM(visits) FROM facts.visits_daily')).toBe(7 + 8 + 9);
  });

  it('--tables runs several tables in one command, printing each step (kind, name, rows, seconds)', async () => {
    const run = await runCli(['backfill', '--tables', 'visits,pings', '--start-date', dayAgo(2), '--end-date', dayAgo(2), '--force'], { configPath, pipeline });
    expect(run.stdout).toContain('backfill tables visits, pings: 2 executions');
    expect(run.stdout).toMatch(new RegExp(`visits ${dayAgo(2)}T00:00:00Z\\s+loaded`));
    expect(run.stdout).toMatch(new RegExp(`pings ${dayAgo(2)}T00:00:00Z\\s+loaded\\s+1`));
    expect(run.stdout).toMatch(new RegExp(`steps:\\n(.*\\n)*  visits ${dayAgo(2)}T00:00:00Z  \\('raw', 'visits', \\d+, \\d+\\.\\ds\\)`));
    expect(run.stdout).toMatch(new RegExp(`  visits ${dayAgo(2)}T00:00:00Z  \\('fact', 'visits_daily', 1, \\d+\\.\\ds\\)`));
    expect(run.stdout).toMatch(new RegExp(`  pings ${dayAgo(2)}T00:00:00Z  \\('raw', 'pings', 1, \\d+\\.\\ds\\)`));
    expect(run.code).toBe(0);
  });

  it('--all-aggregates recomputes every enabled aggregate, one execution a day', async () => {
    const run = await runCli(['backfill', '--all-aggregates', '--start-date', DAYS[0]!, '--end-date', DAYS[1]!], { configPath, pipeline });
    expect({ code: run.code, output: run.stdout }).toMatchObject({ code: 0 });
    expect(run.stdout).toContain('backfill all aggregates (visits_daily): 2 executions');
    expect(run.stdout).toMatch(new RegExp(`  ${DAYS[0]}  \\('fact', 'visits_daily', 1, \\d+\\.\\ds\\)`));
    expect(run.stdout).toContain('2 succeeded (0 loaded, 0 skipped, 2 aggregated), 0 failed');
  });

  it('refuses conflicting options with exit 2', async () => {
    const run = await runCli(['backfill', '--table', 'visits', '--aggregate', 'visits_daily', '--days-back', '1'], { configPath, pipeline });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('exactly one of --table, --tables, --aggregate or --all-aggregates');
  });

  it('status shows recent loads, failed executions and each table\'s lag', async () => {
    const run = await runCli(['status', '--limit', '50'], { configPath, pipeline });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/recent loads:\n\s*started\s+table\s+partition\s+status\s+rows/);
    expect(run.stdout).toMatch(new RegExp(`visits\\s+${DAYS[2]}T00:00:00Z\\s+loaded\\s+9`));
    expect(run.stdout).toMatch(/pings\s+\S+\s+failed/);
    expect(run.stdout).toMatch(/failed executions:\n\s*stopped\s+execution\s+cause\n.*pings-.*CopyError/);
    expect(run.stdout).toMatch(new RegExp(`visits\\s+${DAYS[2]}T00:00:00Z\\s+\\S+\\s+2d0h\\s+OK`));
    expect(run.stdout).toMatch(/pings\s+\S+\s+\S+\s+1m\s+LATE/);
    expect(run.stdout).toMatch(/quiet\s+-\s+-\s+1h00m\s+NO DATA/);
    expect(run.stdout).toMatch(/clicks\s+-\s+-\s+-\s+NO DATA/);

    expect(run.stdout).toContain('pending aggregate work: none');

    const one = await runCli(['status', '--table', 'visits'], { configPath, pipeline });
    expect(one.stdout).not.toMatch(/pings/);
  });

  it('status shows aggregate work still pending, per aggregate, with its age', async () => {
    // The aggregate transactions of visits_daily were lost: their done marks are gone.
    await pipeline.stack.redshiftData.server.query("DELETE FROM forklift.aggregated_loads WHERE aggregate_name = 'visits_daily'");
    const run = await runCli(['status', '--table', 'visits'], { configPath, pipeline });
    expect(run.stdout).toMatch(/pending aggregate work:\n\s*aggregate\s+table\s+loads\s+hours\s+oldest load\s+age\n\s*visits_daily\s+visits\s+[1-9]\d*\s+[1-9]/);
  });
});
