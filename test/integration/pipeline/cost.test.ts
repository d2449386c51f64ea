/**
 * What one normal load costs, measured on the example config's visits table (two
 * aggregates): Data API submissions, state transitions, COPYs. Waits run at full
 * length here (waitScale 1, a 2 s poll as on AWS), so the polling loops take the
 * turns they would take against a warehouse that answers within a poll.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ConfigInput } from '../../../functions/core/config/schema';
import { generateSample } from '../../../local/sample';
import { count, executionsOf, isCopy, recordStateReads, startTestPipeline, statementsSince, testConfig, type TestPipeline } from './helpers';

const example = parse(readFileSync(join(__dirname, '../../../forklift.config.yaml'), 'utf8')) as ConfigInput;
const config = testConfig({ visits: example.tables!['visits']!, campaigns: example.tables!['campaigns']! }, example.aggregates);

let t: TestPipeline;
let stateReads: string[][] = [];
let off: (() => void) | undefined;
beforeAll(async () => {
  t = await startTestPipeline(config, { waitScale: 1 });
  const recorder = recordStateReads(t.pipeline);
  stateReads = recorder.reads;
  off = recorder.stop;
}, 60_000);
afterAll(async () => {
  off?.();
  await t?.stop();
});
const sample = generateSample({ now: new Date('2026-11-20T13:30:00Z'), days: 1, filesPerPartition: 3, visitsPerHour: 120, campaigns: 8 });
const isDdl = (sql: string): boolean => /^\s*(CREATE|ALTER)\b/i.test(sql);

it('one normal load of visits (two aggregates): at most 3 Data API submissions, 25 state transitions, one COPY; the aggregates are done', async () => {
  const p = t.pipeline;
  const hour = sample.filter((o) => o.key.startsWith('events/visits/2026-11-20T12/'));
  expect(hour).toHaveLength(3);
  const server = p.stack.redshiftData.server;
  const submissions = server.stats.submissions;
  const mark = server.stats.statements.length;
  await p.put(hour);
  await p.settle();

  const executions = await executionsOf(p, 'visits');
  expect(executions).toHaveLength(1);
  expect(executions[0]).toMatchObject({ status: 'SUCCEEDED', output: expect.objectContaining({ status: 'loaded', rows: 120, files: 3 }) });
  const stats = p.stack.stepFunctions.server.executionStats(executions[0]!.executionArn);
  const figures = {
    dataApiSubmissions: server.stats.submissions - submissions,
    stateTransitions: stats.stateTransitions,
    executionDataApiSubmissions: stats.dataApiSubmissions,
    taskCalls: stats.taskCalls.map((c) => c.stateName).join(' → '),
    copies: statementsSince(p, mark).filter(isCopy).length,
    statements: statementsSince(p, mark).length,
  };
  console.log(`one normal load of visits (2 aggregates): ${JSON.stringify(figures, null, 2)}`);
  // discover's state read, Prepare's read of the aggregate tables, the load batch with the aggregates in it (ARCHITECTURE.md).
  expect(figures.dataApiSubmissions).toBeLessThanOrEqual(3);
  expect(figures.executionDataApiSubmissions).toBe(1);
  // Fewer submissions, not less work: both aggregates hold the hour, and nothing is left pending.
  expect((executions[0]!.output!['steps'] as Array<{ kind: string; name: string }>).filter((s) => s.kind === 'fact').map((s) => s.name)).toEqual(['visits_hourly', 'visitors_daily']);
  expect(await count(p, 'SELECT SUM(visits) AS n FROM facts.visits_hourly')).toBe(120);
  expect(await count(p, 'SELECT SUM(visits) AS n FROM facts.visitors_daily')).toBe(120);
  expect(await count(p, "SELECT COUNT(*) AS n FROM forklift.aggregated_loads WHERE load_id = '" + executions[0]!.name + "'")).toBe(2);
  expect(figures.stateTransitions).toBeLessThanOrEqual(25);
  expect(figures.copies).toBe(1);
  // The container's first state read creates the audit tables, the table and its ledger (IF NOT EXISTS).
  expect(stateReads).toHaveLength(1);
  expect(stateReads[0]!.filter(isDdl).length).toBeGreaterThan(0);
}, 60_000);

it('a later load of visits: its state read is the four SELECTs, no DDL; still at most 3 submissions', async () => {
  const p = t.pipeline;
  const hour = sample.filter((o) => o.key.startsWith('events/visits/2026-11-20T11/'));
  const server = p.stack.redshiftData.server;
  const submissions = server.stats.submissions;
  const mark = server.stats.statements.length;
  const reads = stateReads.length;
  await p.put(hour);
  await p.settle();

  const execution = (await executionsOf(p, 'visits')).find((e) => e.name === 'visits-20261120T110000');
  expect(execution).toMatchObject({ status: 'SUCCEEDED', output: expect.objectContaining({ status: 'loaded', files: 3 }) });
  const read = stateReads.slice(reads);
  expect(read).toHaveLength(1);
  expect(read[0]!.filter(isDdl)).toEqual([]);
  expect(read[0]).toHaveLength(4);
  expect(read[0]!.length).toBeLessThan(stateReads[0]!.length);
  // ... among the statements the local Data API received for this load.
  expect(statementsSince(p, mark).filter((s) => read[0]!.includes(s))).toHaveLength(4);
  console.log(`a later load of visits: state read ${read[0]!.length} statements (first load's: ${stateReads[0]!.length}); ${statementsSince(p, mark).length} statements, ${server.stats.submissions - submissions} submissions in all`);
  expect(server.stats.submissions - submissions).toBeLessThanOrEqual(3);
}, 60_000);
