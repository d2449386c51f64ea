/**
 * `npm start`: the main job on the local stack, with the example config and
 * generated sample data unless told otherwise (local/job.ts does the work).
 */
import '../cli/sdkWarning'; // first: before any AWS SDK client exists
import { Command } from 'commander';
import { DEFAULT_CONFIG_PATH } from '../functions/core/config/load';
import { ForkliftError } from '../functions/core/errors';
import { fromInvocationDir } from '../cli/paths';
import { runLocalJob } from './job';

const program = new Command('npm start --')
  .description('Run the Forklift pipeline on the local stack with the example (or your) config and data.')
  .option('--config <path>', 'pipeline config (relative paths: from where you run the command)', process.env['FORKLIFT_CONFIG'])
  .option('--data <dir>', 'load your own files: keys are paths relative to this directory')
  .option('--data-dir <dir>', 'where the local warehouse and bucket persist (default .forklift in the repo)')
  .option('--fresh', 'start from an empty warehouse and bucket', false)
  .option('--serve', 'keep the stack running and print its endpoints', false)
  .option('--verbose', 'print the functions\' logs', false)
  .action(async (opts) => {
    try {
      // Paths the user typed resolve from where they ran `npm start` (npm runs us in the repo folder).
      const summary = await runLocalJob({
        ...opts,
        config: opts.config === undefined ? DEFAULT_CONFIG_PATH : fromInvocationDir(opts.config),
        dataDir: opts.dataDir === undefined ? '.forklift' : fromInvocationDir(opts.dataDir),
        ...(opts.data === undefined ? {} : { data: fromInvocationDir(opts.data) }),
      });
      if (summary.failed > 0) process.exitCode = 1;
    } catch (error) {
      if (error instanceof ForkliftError) {
        process.stderr.write(`${error.message}\n`);
        process.exitCode = 2;
      } else throw error;
    }
  });

void program.parseAsync(process.argv);
