/** Shared fixtures of the CLI tests: a small config, generated gzip JSON objects, running the CLI in process. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { main } from '../../../cli/main';
import { pipelineTarget } from '../../../cli/target';
import { query } from '../../../functions/adapters/warehouse';
import { parseConfigText } from '../../../functions/core/config/load';
import type { ForkliftConfig } from '../../../functions/core/config/schema';
import { startLocalPipeline, type LocalPipeline } from '../../../local/pipeline';

/**
 * visits and pings load automatically (quietSeconds 0); clicks waits for a _SUCCESS marker,
 * so its files stay unloaded until the CLI (or the marker) loads them; quiet never gets data.
 */
export const CONFIG_YAML = `
warehouse:
  database: dev
  workgroupName: local
  copyRoleArn: arn:aws:iam::123456789012:role/forklift-copy
landing:
  bucketName: cli-landing
tables:
  visits:
    schema: events
    prefix: visits/
    partition: "{date:yyyy-MM-dd}/"
    compression: gzip
    columns:
      visit_id: { type: varchar(36), nullable: false }
      visited_at: { type: timestamp, nullable: false }
      amount: integer
    dataDateColumn: visited_at
    freshnessSlaMinutes: 2880
  clicks:
    schema: events
    prefix: clicks/
    partition: "{date:yyyy-MM-dd}/"
    compression: gzip
    completeness: { marker: _SUCCESS }
    columns:
      click_id: { type: varchar(36), nullable: false }
      clicked_at: { type: timestamp, nullable: false }
    dataDateColumn: clicked_at
  pings:
    schema: events
    prefix: pings/
    partition: "{date:yyyy-MM-dd}/"
    compression: gzip
    columns:
      ping_id: { type: varchar(36), nullable: false }
      pinged_at: { type: timestamp, nullable: false }
    dataDateColumn: pinged_at
    freshnessSlaMinutes: 1
  quiet:
    schema: events
    prefix: quiet/
    partition: "{date:yyyy-MM-dd}/"
    columns:
      q: { type: integer }
      at: { type: timestamp }
    dataDateColumn: at
    freshnessSlaMinutes: 60
aggregates:
  visits_daily:
    schema: facts
    source: visits
    timeColumn: visited_at
    grain: day
    measures:
      visits: { fn: count }
      amount: { fn: sum, column: amount }
`;

/** The config, parsed. */
export const CONFIG: ForkliftConfig = parseConfigText(CONFIG_YAML, 'cli-test');

/** Write the config to a temp file (what --config reads); returns its path. */
export function writeConfig(yaml = CONFIG_YAML): string {
  const dir = mkdtempSync(join(tmpdir(), 'forklift-cli-'));
  const path = join(dir, 'forklift.config.yaml');
  writeFileSync(path, yaml);
  return path;
}

/** Start the pipeline on a temp data dir. */
export function startPipeline(): Promise<LocalPipeline> {
  return startLocalPipeline({ config: CONFIG, dataDir: mkdtempSync(join(tmpdir(), 'forklift-cli-data-')) });
}

/** What one CLI run printed and returned. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI in process against `pipeline` (or no target), with --config `configPath`. */
export async function runCli(argv: string[], options: { pipeline?: LocalPipeline; configPath: string; now?: Date }): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(
    ['--config', options.configPath, ...argv],
    { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) },
    {
      ...(options.pipeline ? { target: () => pipelineTarget(options.pipeline!) } : {}),
      ...(options.now ? { now: () => options.now! } : {}),
    },
  );
  return { code, stdout, stderr };
}

/** `yyyy-MM-dd` of the UTC day `daysAgo` days before today. */
export function dayAgo(daysAgo: number, now = new Date()): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - daysAgo * 86_400_000).toISOString().slice(0, 10);
}

/** A gzip JSON-lines object. */
export function jsonGz(rows: Array<Record<string, unknown>>): Buffer {
  return gzipSync(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

/** `n` visit rows on `day`. */
export function visitRows(day: string, n: number, prefix = 'v'): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, i) => ({
    visit_id: `${prefix}-${day}-${i}`,
    visited_at: `${day}T${String(i % 24).padStart(2, '0')}:15:00Z`,
    amount: i,
  }));
}

/** A single number from a query. */
export async function count(pipeline: LocalPipeline, sql: string): Promise<number> {
  const rows = await query(pipeline.deps.warehouse, sql);
  return Number(rows[0]?.[0] ?? 0);
}
