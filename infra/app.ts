/**
 * The CDK app entry (cdk.json): `npx cdk deploy -c config=path/to/forklift.config.yaml`.
 * Context: `config` (or env FORKLIFT_CONFIG; default forklift.config.yaml), `stackName`
 * (default Forklift), `tracing` (default true), `workgroupArn` (Redshift Serverless).
 */
import { App } from 'aws-cdk-lib';
import { ForkliftError } from '../functions/core/errors';
import { createForkliftAppFromContext } from './forkliftApp';

try {
  const app = new App();
  createForkliftAppFromContext(app);
  app.synth();
} catch (err) {
  // A config or setup problem: say it plainly, without a stack trace.
  if (err instanceof ForkliftError || (err instanceof Error && err.message.startsWith('warehouse'))) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
