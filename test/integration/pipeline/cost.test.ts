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
import { count, executionsOf, isCopy, startTestPipeline, statementsSince, testConfig, type TestPipeline } from './helpers';

const example = parse(readFileSync(join(__dirname, '../../../forklift.config.yaml'), 'utf8')) as ConfigInput;
const config = testConfig({ visits: example.tables!['visits']!, campaigns: example.tables!['campaigns']! }, example.aggregates);

let t: TestPipeline;
beforeAll(async () => {
  t = await startTestPipeline(config, { waitScale: 1 });
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

it('one normal load of visits (two aggregates): at most 3 Data API submissions, 25 state transitions, one COPY; the aggregates are done', async () => {
  const p = t.pipeline;
  const sample = generateSample({ now: new Date('2026-11-20T13:30:00Z'), days: 1, filesPerPartition: 3, visitsPerHour: 120, campaigns: 8 });
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
}, 60_000);
