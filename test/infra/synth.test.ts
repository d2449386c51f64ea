import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { createForkliftAppFromContext } from '../../infra/forkliftApp';
import { EXAMPLE_CONFIG } from './helpers';

/**
 * What `npm run synth` and `cdk deploy` do: an environment-agnostic app (region and account are
 * tokens until deployment). The other infra tests pin an environment; this one does not, so
 * anything that needs concrete values at synthesis (a cdk-nag acknowledgement id, say) fails here.
 */
describe('environment-agnostic synthesis (npm run synth)', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'forklift-synth-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('synthesizes the example config with cdk-nag passing', () => {
    const app = new App({ outdir, context: { config: EXAMPLE_CONFIG } });
    const { stack } = createForkliftAppFromContext(app, {});
    app.synth();
    const template = JSON.parse(readFileSync(join(outdir, stack.templateFile), 'utf8')) as { Resources: Record<string, { Type: string }> };
    expect(Object.values(template.Resources).some((r) => r.Type === 'AWS::StepFunctions::StateMachine')).toBe(true);
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ pluginName: string; conclusion: string; violations: unknown[] }>;
    };
    expect(report.pluginReports.map((r) => [r.pluginName, r.conclusion, r.violations.length])).toEqual([['AwsSolutions', 'success', 0]]);
  }, 180_000);
});
