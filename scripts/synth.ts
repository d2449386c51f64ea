/**
 * In-process synthesis (no CDK CLI, no network): writes cdk.out/ with the template, the
 * bundled functions and cdk-nag's report. `npm run synth -- -c config=path -c workgroupArn=...`.
 * The app and its context are the same as `cdk synth` uses (infra/forkliftApp.ts).
 */
import { App } from 'aws-cdk-lib';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { ForkliftError } from '../functions/core/errors';
import { createForkliftAppFromContext } from '../infra/forkliftApp';

/** `-c key=value`, repeatable, as the CDK CLI takes context. */
function contextPair(pair: string, context: Record<string, string>): Record<string, string> {
  const eq = pair.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`context '${pair}' is not key=value`);
  return { ...context, [pair.slice(0, eq)]: pair.slice(eq + 1) };
}

const started = Date.now();
try {
  const outdir = 'cdk.out';
  const { context } = new Command('synth')
    .option('-c, --context <key=value>', 'a CDK context value (repeatable)', contextPair, {})
    .parse()
    .opts<{ context: Record<string, string> }>();
  const app = new App({ outdir, context });
  const { stack } = createForkliftAppFromContext(app);
  app.synth();
  console.log(`${join(outdir, stack.templateFile)} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
} catch (err) {
  if (err instanceof ForkliftError || (err instanceof Error && /^warehouse/.test(err.message))) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
