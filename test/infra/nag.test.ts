import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configVariant, synth, WORKGROUP_ARN } from './helpers';

interface Report {
  pluginReports: Array<{
    pluginName: string;
    conclusion: string;
    violations: unknown[];
    suppressedViolations: Array<{ ruleName: string; severity: string; reason: string; violatingConstructs: Array<{ constructPath: string }> }>;
  }>;
}

function report(outdir: string): Report['pluginReports'][number] {
  const parsed = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as Report;
  const nag = parsed.pluginReports.find((r) => r.pluginName === 'AwsSolutions');
  expect(nag).toBeDefined();
  return nag!;
}

const serverless = configVariant((doc) => {
  delete doc['warehouse']['dbUser'];
  delete doc['warehouse']['clusterIdentifier'];
  doc['warehouse']['workgroupName'] = 'forklift';
  doc['landing']['existing'] = true;
});

describe.each([
  ['created bucket, cluster + dbUser', {}],
  ['imported bucket, serverless', { configPath: serverless, workgroupArn: WORKGROUP_ARN }],
  ['tracing off', { tracing: false }],
])('cdk-nag AwsSolutions: %s', (_name, options) => {
  // synth() throws when cdk-nag reports an unacknowledged error: getting here is the first assertion.
  const { outdir } = synth(options);
  const nag = report(outdir);

  test('no unacknowledged findings', () => {
    expect(nag.conclusion).toBe('success');
    expect(nag.violations).toEqual([]);
  });

  test('every acknowledgement carries a written reason', () => {
    for (const s of nag.suppressedViolations) expect(s.reason.length).toBeGreaterThan(40);
  });

  test('acknowledged only: wildcards that cannot be scoped, the DLQ, the log bucket, CDK\'s notification handler, tracing when off', () => {
    const rules = new Set(nag.suppressedViolations.map((s) => s.ruleName.replace(/\[.*$/, '')));
    for (const rule of rules) expect(['AwsSolutions-IAM5', 'AwsSolutions-SQS3', 'AwsSolutions-S1', 'AwsSolutions-IAM4', 'AwsSolutions-SF2']).toContain(rule);
    const iam4 = nag.suppressedViolations.filter((s) => s.ruleName.startsWith('AwsSolutions-IAM4'));
    for (const s of iam4) for (const c of s.violatingConstructs) expect(c.constructPath).toMatch(/\/BucketNotificationsHandler/);
  });
});
