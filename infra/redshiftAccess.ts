/**
 * Who may reach the warehouse, and on what: the Data API on exactly the configured
 * cluster or workgroup, and the one credential source the config names (temporary
 * credentials for one database user, one secret, or the workgroup's IAM credentials).
 *
 * Every Data API caller is one database identity, so that what one creates (the audit schema
 * and tables, target and fact tables) the others own too: the configured `dbUser` or secret's
 * user, or on a Serverless workgroup with IAM credentials, where the Data API runs each IAM
 * role as its own database user `IAMR:<role name>` (Management Guide, "Authorizing access to
 * the Data API"), one IAM role ({@link RedshiftAccess.identityRole}) shared by those callers.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { WarehouseConfig } from '../functions/core/config/schema';

/** Data API actions that submit SQL: authorized on the cluster or workgroup ARN. */
export const DATA_API_SUBMIT_ACTIONS = ['redshift-data:BatchExecuteStatement', 'redshift-data:ExecuteStatement'] as const;
/**
 * Data API actions on statements. AWS gives them no resource type (they accept only
 * `*`); the Data API itself only lets the identity that submitted a statement read it.
 */
export const DATA_API_STATEMENT_ACTIONS = ['redshift-data:DescribeStatement', 'redshift-data:GetStatementResult'] as const;

/** Why the statement actions carry `Resource: *` (the cdk-nag acknowledgement). */
export const DATA_API_WILDCARD_REASON =
  'redshift-data:DescribeStatement and GetStatementResult have no resource type in the Service Authorization Reference and accept only "*"; the Data API authorizes them by statement owner (only the identity that submitted a statement can read it). Submissions are scoped to the configured cluster or workgroup ARN.';

/** Matches a Redshift Serverless workgroup ARN (its last part is the workgroup id, not its name). */
const WORKGROUP_ARN = /^arn:aws[a-z-]*:redshift-serverless:[a-z0-9-]+:\d{12}:workgroup\/[0-9a-f-]{36}$/;

/** How the Data API reaches the warehouse. */
export type WarehouseMode = 'cluster-dbuser' | 'cluster-secret' | 'serverless';

/** Props of {@link RedshiftAccess}. */
export interface RedshiftAccessProps {
  readonly warehouse: WarehouseConfig;
  /**
   * ARN of the Serverless workgroup (required with `workgroupName`): Data API calls to a
   * workgroup are authorized on its ARN, which ends in an id that the name does not give.
   */
  readonly workgroupArn?: string | undefined;
}

/** Builds the warehouse policy statements and grants them. */
export class RedshiftAccess extends Construct {
  readonly mode: WarehouseMode;
  /** The ARN the Data API submissions are authorized on (cluster or workgroup). */
  readonly warehouseArn: string;
  /**
   * Serverless with IAM credentials (no `secretArn`): the one role every Data API caller runs as
   * (the functions that submit SQL and the state machine), hence one database user
   * `IAMR:<its name>`. Undefined otherwise (the database user is the config's, whatever the role).
   */
  readonly identityRole?: iam.Role;
  private readonly credentials: iam.PolicyStatement;

  constructor(scope: Construct, id: string, props: RedshiftAccessProps) {
    super(scope, id);
    const w = props.warehouse;
    const stack = Stack.of(this);

    if (w.workgroupName !== undefined) {
      const arn = props.workgroupArn;
      if (!arn || !WORKGROUP_ARN.test(arn)) {
        throw new Error(
          `warehouse.workgroupName '${w.workgroupName}' needs the workgroup's ARN to scope the Data API: pass -c workgroupArn=arn:aws:redshift-serverless:<region>:<account>:workgroup/<id> ` +
            `(aws redshift-serverless get-workgroup --workgroup-name ${w.workgroupName} --query workgroup.workgroupArn)` +
            (arn ? `; '${arn}' is not a workgroup ARN` : ''),
        );
      }
      this.mode = 'serverless';
      this.warehouseArn = arn;
      this.credentials = w.secretArn
        ? secretStatement(w.secretArn)
        : new iam.PolicyStatement({ sid: 'WorkgroupCredentials', actions: ['redshift-serverless:GetCredentials'], resources: [arn] });
      if (!w.secretArn) {
        this.identityRole = new iam.Role(this, 'IdentityRole', {
          assumedBy: new iam.CompositePrincipal(new iam.ServicePrincipal('lambda.amazonaws.com'), new iam.ServicePrincipal('states.amazonaws.com')),
          description: 'Forklift: the one database identity (IAMR:<this role>) of the functions that call the Data API and of the load state machine',
        });
      }
    } else {
      const cluster = w.clusterIdentifier;
      if (cluster === undefined) throw new Error('warehouse: clusterIdentifier or workgroupName is required');
      const redshiftArn = (resource: string, resourceName: string) =>
        stack.formatArn({ service: 'redshift', resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
      this.warehouseArn = redshiftArn('cluster', cluster);
      if (w.dbUser !== undefined) {
        this.mode = 'cluster-dbuser';
        this.credentials = new iam.PolicyStatement({
          sid: 'ClusterCredentials',
          actions: ['redshift:GetClusterCredentials'],
          resources: [redshiftArn('dbuser', `${cluster}/${w.dbUser}`), redshiftArn('dbname', `${cluster}/${w.database}`)],
        });
      } else if (w.secretArn !== undefined) {
        this.mode = 'cluster-secret';
        this.credentials = secretStatement(w.secretArn);
      } else {
        throw new Error('warehouse: a cluster needs dbUser or secretArn');
      }
    }
  }

  /**
   * Lets `grantee` submit SQL through the Data API (`submit`: both actions by default;
   * the state machine only batches) and read its own statements.
   */
  grantDataApi(grantee: iam.IGrantable, submit: readonly string[] = DATA_API_SUBMIT_ACTIONS): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'DataApiSubmit', actions: [...submit], resources: [this.warehouseArn] }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'DataApiStatements', actions: [...DATA_API_STATEMENT_ACTIONS], resources: ['*'] }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(this.credentials.copy());
  }
}

/**
 * `role` as a grantee whose grants land in a policy of its own (`<id>` under `scope`), not in the
 * role's default policy: for grants naming resources that depend on the role (the functions and
 * the state machine that run as it), which in the default policy would be a dependency cycle.
 */
export function granteeWithOwnPolicy(scope: Construct, id: string, role: iam.Role): iam.IGrantable & { readonly policy: iam.Policy } {
  const policy = new iam.Policy(scope, id, { roles: [role] });
  const principal = Object.create(role) as iam.IPrincipal & { grantPrincipal: iam.IPrincipal };
  Object.defineProperty(principal, 'grantPrincipal', { value: principal });
  Object.defineProperty(principal, 'addToPrincipalPolicy', {
    value: (statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult => {
      policy.addStatements(statement);
      return { statementAdded: true, policyDependable: policy };
    },
  });
  Object.defineProperty(principal, 'addToPolicy', { value: (statement: iam.PolicyStatement): boolean => (policy.addStatements(statement), true) });
  return { grantPrincipal: principal, policy };
}

function secretStatement(secretArn: string): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid: 'WarehouseSecret', actions: ['secretsmanager:GetSecretValue'], resources: [secretArn] });
}
