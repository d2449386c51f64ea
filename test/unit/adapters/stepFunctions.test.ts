import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { startExecution } from '../../../functions/adapters/stepFunctions';

const sfn = mockClient(SFNClient);
const client = new SFNClient({ region: 'us-east-1' });
const arn = 'arn:aws:states:us-east-1:123456789012:stateMachine:forklift-load';

beforeEach(() => sfn.reset());

describe('startExecution', () => {
  it('starts an execution with the name and JSON input', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${arn}:visits-20261120T130000`, startDate: new Date() });
    const result = await startExecution(client, arn, 'visits-20261120T130000', { table: 'visits' });
    expect(result).toEqual({ status: 'started', executionArn: `${arn}:visits-20261120T130000` });
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input).toEqual({
      stateMachineArn: arn,
      name: 'visits-20261120T130000',
      input: '{"table":"visits"}',
    });
  });

  it('reports ExecutionAlreadyExists as already-exists, not as an error', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    await expect(startExecution(client, arn, 'visits-20261120T130000', {})).resolves.toEqual({ status: 'already-exists' });
  });

  it('rethrows other errors', async () => {
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    await expect(startExecution(client, arn, 'n', {})).rejects.toThrow('slow down');
  });
});
