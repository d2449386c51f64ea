/**
 * In-process synthesis (no CDK CLI, no network): writes cdk.out/ with the template, the
 * bundled functions and cdk-nag's report. `npm run synth -- -c config=path -c workgroupArn=...`.
 * The app and its context are the same as `cdk synth` uses (infra/forkliftApp.ts).
 */
import { App } from 'aws-cdk-lib';
import { join } from 'node:path';
import { ForkliftError } from '../functions/core/errors';
import { createForkliftAppFromContext } from '../infra/forkliftApp';

function contextFromArgs(args: readonly string[]): Record<string, string> {
  const context: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const pair = arg === '-c' || arg === '--context' ? args[++i] : arg.startsWith('--context=') ? arg.slice('--context='.length) : undefined;
    if (pair === undefined) throw new Error(`unknown argument '${arg}' (use -c key=value)`);
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`context '${pair}' is not key=value`);
    context[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return context;
}

const started = Date.now();
try {
  const outdir = 'cdk.out';
  const app = new App({ outdir, context: contextFromArgs(process.argv.slice(2)) });
  const { stack } = createForkliftAppFromContext(app);
  app.synth();
  console.log(`${join(outdir, stack.templateFile)} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
} catch (err) {
  if (err instanceof ForkliftError || (err instanceof Error && /^(warehouse|unknown argument|context )/.test(err.message))) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
