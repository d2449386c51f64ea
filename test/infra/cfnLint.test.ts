import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configVariant, synth, WORKGROUP_ARN } from './helpers';

function cfnLintPresent(): boolean {
  try {
    execFileSync('cfn-lint', ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

const present = cfnLintPresent();
if (!present) console.warn('cfn-lint is not on PATH: skipping the template lint (pip install cfn-lint)');

const imported = configVariant((doc) => {
  delete doc['warehouse']['dbUser'];
  delete doc['warehouse']['clusterIdentifier'];
  doc['warehouse']['workgroupName'] = 'forklift';
  doc['landing']['existing'] = true;
  doc['alarms'] = { emails: ['oncall@example.com'] };
});

(present ? describe : describe.skip).each([
  ['example config (created bucket, cluster)', {}],
  ['imported bucket, serverless, emails', { configPath: imported, workgroupArn: WORKGROUP_ARN }],
])('cfn-lint: %s', (_name, options) => {
  test('reports no errors', () => {
    const { template } = synth(options);
    const file = join(mkdtempSync(join(tmpdir(), 'forklift-cfn-lint-')), 'template.json');
    writeFileSync(file, JSON.stringify(template.toJSON(), null, 1));
    // Errors only (E*): warnings and informational findings do not fail the build.
    const run = spawnSync('cfn-lint', ['--format', 'parseable', '--regions', 'eu-west-1', '--', file], { encoding: 'utf8' });
    const errors = run.stdout.split('\n').filter((line) => /:E\d{4}:/.test(line));
    expect(errors).toEqual([]);
    expect(run.error).toBeUndefined();
  });
});
