/** Naming rules and ARNs of the local Step Functions endpoint (region and account are fixed). */

/** Region every local ARN uses. */
export const LOCAL_REGION = 'us-east-1';
/** Account every local ARN uses. */
export const LOCAL_ACCOUNT = '000000000000';

// AWS: 1-80 chars; no whitespace, brackets < > { } [ ], wildcards ? *, special characters
// " # % \ ^ | ~ ` $ & , ; : /, nor control characters (U+0000-001F, U+007F-009F).
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/u;

/** Why `name` is not a valid execution or state machine name, or undefined when it is. */
export function nameProblem(name: string): string | undefined {
  if (name.length < 1 || name.length > 80) return 'must be 1 to 80 characters long';
  if (FORBIDDEN.test(name)) return 'contains a character that is not allowed';
  return undefined;
}

/** `arn:aws:states:us-east-1:000000000000:stateMachine:<name>` */
export function stateMachineArn(name: string): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${name}`;
}

/** `arn:aws:states:us-east-1:000000000000:execution:<stateMachine>:<execution>` */
export function executionArn(stateMachineName: string, executionName: string): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${stateMachineName}:${executionName}`;
}
