/**
 * Running one execution of the load state machine from the CLI: start it under a
 * name, poll until it stops, and read its output (Report's summary) or its failure.
 */
import { randomBytes } from 'node:crypto';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { startExecution } from '../functions/adapters/stepFunctions';
import type { LoadInput } from '../functions/core/types';
import type { ReportSummary } from '../functions/report/handler';
import type { Target } from './target';

/** How one execution ended. */
export interface ExecutionOutcome {
  name: string;
  executionArn: string;
  status: string;
  /** Report's summary, when it succeeded. */
  output?: ReportSummary;
  error?: string;
  cause?: string;
  seconds?: number;
}

/**
 * A run id for manual executions: `cli-<time base36><4 hex>`. Automatic names have none,
 * so a manual run never collides with an automatic one (nor with another manual run).
 */
export function newRunId(now: Date = new Date()): string {
  return `cli-${now.getTime().toString(36)}${randomBytes(2).toString('hex')}`;
}

/** The ARN of an execution of `stateMachineArn` named `name`. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Start an execution (an existing one of the same name is followed instead) and wait until it stops. */
export async function runExecution(target: Target, name: string, input: LoadInput): Promise<ExecutionOutcome> {
  const started = await startExecution(target.sfn, target.stateMachineArn, name, input);
  const executionArn = started.status === 'started' && started.executionArn ? started.executionArn : executionArnOf(target.stateMachineArn, name);
  for (;;) {
    const d = await target.sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (d.status !== 'RUNNING' && d.status !== 'PENDING_REDRIVE') {
      const outcome: ExecutionOutcome = { name, executionArn, status: d.status ?? 'UNKNOWN' };
      if (d.output) outcome.output = JSON.parse(d.output) as ReportSummary;
      if (d.error) outcome.error = d.error;
      if (d.cause) outcome.cause = d.cause;
      if (d.startDate && d.stopDate) outcome.seconds = (d.stopDate.getTime() - d.startDate.getTime()) / 1000;
      return outcome;
    }
    await sleep(target.pollMs);
  }
}

