/**
 * The load state machine, deployed from statemachines/load.asl.json as the file is
 * (the same file the local stack runs): CDK only substitutes the three function ARNs.
 */
import { join } from 'node:path';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { PROJECT_ROOT } from './functions';

/** The definition file. */
export const DEFINITION_FILE = join(PROJECT_ROOT, 'statemachines', 'load.asl.json');

/** Props of {@link LoadStateMachine}. */
export interface LoadStateMachineProps {
  readonly prepare: lambda.IFunction;
  readonly report: lambda.IFunction;
  readonly recordFailure: lambda.IFunction;
  readonly tracing: boolean;
  /** The role to run as (RedshiftAccess.identityRole when shared); omitted = a role of its own. */
  readonly role?: iam.IRole;
}

/** The Standard workflow that loads one partition, with its execution log group. */
export class LoadStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: LoadStateMachineProps) {
    super(scope, id);
    // The /aws/vendedlogs/ prefix keeps the log group out of the account's CloudWatch Logs
    // resource policy, whose size is limited.
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/${Stack.of(this).stackName}-load`,
      retention: logs.RetentionDays.THREE_MONTHS,
    });
    this.stateMachine = new sfn.StateMachine(this, 'Resource', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromFile(DEFINITION_FILE),
      definitionSubstitutions: {
        PrepareFunctionArn: props.prepare.functionArn,
        ReportFunctionArn: props.report.functionArn,
        RecordFailureFunctionArn: props.recordFailure.functionArn,
      },
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: props.tracing,
      ...(props.role ? { role: props.role } : {}),
    });
    // The definition names the functions by their plain ARN: invoke on exactly those
    // (grantInvoke would add `<arn>:*` for versions and aliases the file never uses).
    const invoke = new iam.PolicyStatement({
      sid: 'InvokeLoadFunctions',
      actions: ['lambda:InvokeFunction'],
      resources: [props.prepare.functionArn, props.report.functionArn, props.recordFailure.functionArn],
    });
    // A role shared with the functions: their ARNs go in a policy of its own, as the functions
    // depend on the role's default policy (one policy naming them would be a dependency cycle).
    if (props.role) new iam.Policy(this, 'InvokeFunctions', { statements: [invoke], roles: [props.role] });
    else this.stateMachine.addToRolePolicy(invoke);
  }
}
