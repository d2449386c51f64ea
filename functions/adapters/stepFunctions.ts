/**
 * The Step Functions adapter: starting a load execution under a deterministic
 * name. A duplicate name means another event already started this load, which is
 * the point of the name: it is reported as `already-exists`, not as an error.
 */
import { DescribeExecutionCommand, ListExecutionsCommand, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { UnfinishedExecution } from '../core/discovery';

/** What starting an execution did. */
export type StartResult = { status: 'started'; executionArn: string } | { status: 'already-exists' };

/** Start `arn` with `name` and a JSON `input`; ExecutionAlreadyExists → `{ status: 'already-exists' }`. */
export async function startExecution(
  client: SFNClient,
  arn: string,
  name: string,
  input: unknown,
): Promise<StartResult> {
  try {
    const out = await client.send(
      new StartExecutionCommand({ stateMachineArn: arn, name, input: JSON.stringify(input) }),
    );
    return { status: 'started', executionArn: out.executionArn ?? '' };
  } catch (err) {
    if ((err as { name?: string }).name === 'ExecutionAlreadyExists') return { status: 'already-exists' };
    throw err;
  }
}

/** `arn:aws:states:<region>:<account>:execution:<machine>:<name>` from the state machine's ARN. */
export function executionArn(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/** An execution's status and, once it stopped, when; its input (JSON text) when the service sent it. */
export interface ExecutionStatus {
  status: string;
  stopDate?: Date;
  input?: string;
}

/** DescribeExecution of `name` under the state machine `arn`. */
export async function describeExecution(client: SFNClient, arn: string, name: string): Promise<ExecutionStatus> {
  const out = await client.send(new DescribeExecutionCommand({ executionArn: executionArn(arn, name) }));
  return { status: out?.status ?? 'UNKNOWN', ...(out?.stopDate ? { stopDate: out.stopDate } : {}), ...(out?.input !== undefined ? { input: out.input } : {}) };
}

/** The statuses of an execution that ended without succeeding. */
export const UNFINISHED_STATUSES = ['ABORTED', 'FAILED', 'TIMED_OUT'] as const;

/**
 * The state machine's executions that ended ABORTED, FAILED or TIMED_OUT and started at or after
 * `since`, of every status, newest first. ListExecutions lists the most recent first, so paging
 * stops at the first older one: the cost follows the window's failures, not the machine's history.
 */
export async function unfinishedExecutions(client: SFNClient, arn: string, since: Date): Promise<UnfinishedExecution[]> {
  const found: UnfinishedExecution[] = [];
  for (const statusFilter of UNFINISHED_STATUSES) {
    let nextToken: string | undefined;
    do {
      const page = await client.send(new ListExecutionsCommand({ stateMachineArn: arn, statusFilter, maxResults: 1000, ...(nextToken ? { nextToken } : {}) }));
      const executions = page?.executions ?? [];
      for (const e of executions) {
        // A start date is always listed on AWS; without one, the execution counts as now (within the window).
        const startDate = e.startDate ?? new Date();
        if (e.name && startDate.getTime() >= since.getTime()) found.push({ name: e.name, startDate });
      }
      const older = executions.some((e) => e.startDate !== undefined && e.startDate.getTime() < since.getTime());
      nextToken = older ? undefined : page?.nextToken;
    } while (nextToken);
  }
  return found.sort((a, b) => b.startDate.getTime() - a.startDate.getTime());
}

/** The names of the state machine's RUNNING executions (every page). */
export async function runningExecutionNames(client: SFNClient, arn: string): Promise<Set<string>> {
  const names = new Set<string>();
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: 'RUNNING', maxResults: 1000, ...(nextToken ? { nextToken } : {}) }),
    );
    for (const e of page?.executions ?? []) if (e.name) names.add(e.name);
    nextToken = page?.nextToken;
  } while (nextToken);
  return names;
}
