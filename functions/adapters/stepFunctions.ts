/**
 * The Step Functions adapter: starting a load execution under a deterministic
 * name. A duplicate name means another event already started this load, which is
 * the point of the name: it is reported as `already-exists`, not as an error.
 */
import { StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';

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
