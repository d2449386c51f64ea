/**
 * The `forklift` CLI: init, validate, plan, reload, backfill, status, query, against the local stack
 * (`--local`) or AWS (`--outputs` / `--state-machine-arn`). `buildProgram` takes the
 * writers (tests capture them) and optional overrides (an injected target, a clock);
 * `main` returns the exit code: 0 ok, 1 a run failed, 2 usage or config problems.
 */
import './sdkWarning'; // first: before any AWS SDK client exists
import { Command, CommanderError } from 'commander';
import { registerBackfill } from './commands/backfill';
import { registerInit } from './commands/init';
import { registerPlan } from './commands/plan';
import { registerQuery } from './commands/query';
import { registerReload } from './commands/reload';
import { registerStatus } from './commands/status';
import { registerValidate } from './commands/validate';
import { createContext, type CliOverrides } from './context';
import { ExitCode, exitCodeFor } from './errors';
import { println, type Io } from './format';
import type { GlobalOptions } from './target';

export type { CliOverrides } from './context';
export type { Io } from './format';

/** A program and what to call when it has run. */
export interface Program {
  command: Command;
  /** The exit code the command set (undefined until an action ran). */
  exitCode(): number | undefined;
  /** Release the target (stops a pipeline the CLI started). */
  close(): Promise<void>;
}

/** Build the commander program writing to `io`. */
export function buildProgram(io: Io, overrides: CliOverrides = {}): Program {
  const program = new Command('forklift');
  let code: number | undefined;
  const done = (c: number): void => {
    code = c;
  };
  program
    .description('Load data landing in S3 into Redshift exactly once; operate the load state machine.')
    .option('--config <path>', 'config file (default: $FORKLIFT_CONFIG or forklift.config.yaml)')
    .option('--local', 'run against the local stack (started in process on --data-dir, stopped at the end)')
    .option('--data-dir <dir>', 'data dir of the local stack (the one npm start persists to; default .forklift)')
    .option('--outputs <file>', 'AWS: CDK outputs JSON (cdk deploy --outputs-file) holding StateMachineArn')
    .option('--state-machine-arn <arn>', 'AWS: the load state machine')
    .option('--region <region>', 'AWS region (default: from the ARN, else the SDK default chain)')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: (text, write) => write(text) });
  const ctx = createContext(io, () => program.opts<GlobalOptions>(), overrides);
  registerInit(program, ctx, done);
  registerValidate(program, ctx, done);
  registerPlan(program, ctx, done);
  registerReload(program, ctx, done);
  registerBackfill(program, ctx, done);
  registerStatus(program, ctx, done);
  registerQuery(program, ctx, done);
  for (const sub of program.commands) sub.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  return { command: program, exitCode: () => code, close: () => ctx.close() };
}

/** Run the CLI on `argv` (without node and the script); returns the exit code. */
export async function main(argv: string[], io: Io = processIo(), overrides: CliOverrides = {}): Promise<number> {
  const program = buildProgram(io, overrides);
  let code: number;
  try {
    await program.command.parseAsync(argv, { from: 'user' });
    code = program.exitCode() ?? ExitCode.Ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      code = err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    } else {
      println(io.stderr, `${(err as Error).name === 'ConfigError' ? '' : 'error: '}${(err as Error).message ?? String(err)}`);
      code = exitCodeFor(err);
    }
  }
  try {
    await program.close();
  } catch (err) {
    println(io.stderr, `error while stopping: ${(err as Error).message}`);
    code = code || ExitCode.Failed;
  }
  return code;
}

/** The process's stdout and stderr. */
export function processIo(): Io {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    progressStream: process.stderr,
  };
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
