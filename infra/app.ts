/**
 * The CDK app entry (cdk.json): `npx cdk deploy -c config=path/to/forklift.config.yaml`.
 * Context: `config` (or env FORKLIFT_CONFIG; default forklift.config.yaml), `stackName`
 * (default Forklift), `tracing` (default true), `workgroupArn` (Redshift Serverless).
 */
import { App } from 'aws-cdk-lib';
import { ForkliftError } from '../functions/core/errors';
import { configPathFrom } from './config';
import { contextString, createForkliftApp } from './forkliftApp';

function main(): void {
  const app = new App();
  const stackName = contextString(app, 'stackName');
  const workgroupArn = contextString(app, 'workgroupArn');
  const account = process.env['CDK_DEFAULT_ACCOUNT'];
  const region = process.env['CDK_DEFAULT_REGION'];
  createForkliftApp({
    app,
    configPath: configPathFrom(app.node.tryGetContext('config')),
    tracing: contextString(app, 'tracing') !== 'false' && app.node.tryGetContext('tracing') !== false,
    ...(stackName ? { stackName } : {}),
    ...(workgroupArn ? { workgroupArn } : {}),
    ...(account || region ? { env: { ...(account ? { account } : {}), ...(region ? { region } : {}) } } : {}),
  });
  app.synth();
}

try {
  main();
} catch (err) {
  // A config or setup problem: say it plainly, without a stack trace.
  if (err instanceof ForkliftError || (err instanceof Error && err.message.startsWith('warehouse'))) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
