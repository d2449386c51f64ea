import { spawnSync } from 'node:child_process';

/** A child process creating an SDK client the way the CLI does, with and without cli/sdkWarning. */
function stderrOfClient(withModule: boolean): string {
  const env = { ...process.env };
  delete env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'];
  const script =
    "require('tsx/cjs');" +
    (withModule ? "require('./cli/sdkWarning.ts');" : '') +
    "const { RedshiftDataClient } = require('@aws-sdk/client-redshift-data'); new RedshiftDataClient({ region: 'eu-west-1' });";
  return spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8' }).stderr;
}

const major = Number(process.versions.node.split('.')[0]);

describe('the AWS SDK Node version warning', () => {
  it('is not printed by the local tools (README, Prerequisites, says it once)', () => {
    expect(stderrOfClient(true)).not.toContain('NodeVersionSupportWarning');
  });

  it('is printed by the SDK otherwise on Node < 22 only (so the module is what silences it)', () => {
    expect(stderrOfClient(false).includes('NodeVersionSupportWarning')).toBe(major < 22);
  });
});
