/**
 * The Step Functions adapter: starting a load execution under a deterministic
 * name. A duplicate name means another event already started this load, which is
 * the point of the name: it is reported as `already-exists`, not as an error.
 */
import { DescribeExecutionCommand, ListExecutionsCommand, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';

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

/** An execution's status and, once it stopped, when. */
export interface ExecutionStatus {
  status: string;
  stopDate?: Date;
}

/** DescribeExecution of `name` under the state machine `arn`. */
export async function describeExecution(client: SFNClient, arn: string, name: string): Promise<ExecutionStatus> {
  const out = await client.send(new DescribeExecutionCommand({ executionArn: executionArn(arn, name) }));
  return { status: out?.status ?? 'UNKNOWN', ...(out?.stopDate ? { stopDate: out.stopDate } : {}) };
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
