/**
 * The Data API operations over the statement store: request validation and the
 * response shapes of ExecuteStatement, BatchExecuteStatement, DescribeStatement,
 * GetStatementResult, CancelStatement and ListStatements.
 */
import { DataApiError, notFound, validation } from './apiErrors';
import type { Caller } from './protocol';
import type { StatementRecord, StatementStore, StatementTarget, SubStatement } from './statements';

type Input = Record<string, unknown>;

/** Options the operations need. */
export interface OperationOptions {
  pageSize: number;
  maxActiveStatements: number;
  /** Access key id → IAM role name: callers whose statements run as the database user `IAMR:<role>` (Serverless, IAM auth). */
  iamRoles?: Readonly<Record<string, string>>;
}

const MAX_SQL_BYTES = 100 * 1024;
const epoch = (d: Date): number => d.getTime() / 1000;

function str(input: Input, key: string): string | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw validation(`${key} must be a string`);
  return v;
}

function target(input: Input): StatementTarget {
  const t: StatementTarget = {};
  const set = (k: keyof StatementTarget, key: string): void => {
    const v = str(input, key);
    if (v !== undefined) t[k] = v;
  };
  set('database', 'Database');
  set('clusterIdentifier', 'ClusterIdentifier');
  set('dbUser', 'DbUser');
  set('secretArn', 'SecretArn');
  set('workgroupName', 'WorkgroupName');
  set('statementName', 'StatementName');
  if (t.clusterIdentifier && t.workgroupName) throw validation('Specify either ClusterIdentifier or WorkgroupName, not both');
  if (!t.clusterIdentifier && !t.workgroupName && !t.secretArn) {
    throw validation('Either ClusterIdentifier or WorkgroupName (or SecretArn) must be specified');
  }
  if (t.clusterIdentifier && !t.dbUser && !t.secretArn) throw validation('DbUser or SecretArn is required with ClusterIdentifier');
  if (!t.secretArn && !t.database) throw validation('Database is required');
  return t;
}

function checkSql(sql: unknown, what: string): string {
  if (typeof sql !== 'string' || sql.trim() === '') throw validation(`${what} must be a non-empty string`);
  if (Buffer.byteLength(sql, 'utf8') > MAX_SQL_BYTES) throw validation(`${what} exceeds the 100 KB limit`);
  return sql;
}

function parameters(input: Input): Array<{ name: string; value: string }> | undefined {
  const p = input.Parameters;
  if (p === undefined) return undefined;
  if (!Array.isArray(p) || p.length === 0) throw validation('Parameters must be a non-empty list');
  return p.map((x: { name?: unknown; value?: unknown }) => {
    if (typeof x.name !== 'string' || typeof x.value !== 'string') throw validation('each parameter needs a string name and value');
    return { name: x.name, value: x.value };
  });
}

function submission(record: StatementRecord, t: StatementTarget): Record<string, unknown> {
  return {
    Id: record.id,
    CreatedAt: epoch(record.createdAt),
    ...(t.clusterIdentifier ? { ClusterIdentifier: t.clusterIdentifier } : {}),
    ...(t.database ? { Database: t.database } : {}),
    ...(t.dbUser ? { DbUser: t.dbUser } : {}),
    ...(t.secretArn ? { SecretArn: t.secretArn } : {}),
    ...(t.workgroupName ? { WorkgroupName: t.workgroupName } : {}),
  };
}

function subDescription(sub: SubStatement): Record<string, unknown> {
  return {
    Id: sub.id,
    Status: sub.status,
    QueryString: sub.sql,
    HasResultSet: sub.hasResultSet,
    ResultRows: sub.resultRows,
    ResultSize: sub.result ? JSON.stringify(sub.result.records).length : 0,
    CreatedAt: epoch(sub.createdAt),
    UpdatedAt: epoch(sub.updatedAt),
    Duration: sub.durationNs,
    RedshiftQueryId: sub.queryNumber,
    ...(sub.error !== undefined ? { Error: sub.error } : {}),
  };
}

/** Builds the handler for each `RedshiftData.<Operation>` target. */
export function createOperations(store: StatementStore, options: OperationOptions): Record<string, (input: Input, caller: Caller) => unknown> {
  const admit = (): void => {
    if (store.activeCount() >= options.maxActiveStatements) {
      throw new DataApiError('ActiveStatementsExceededException', `Active statements exceeded the limit of ${options.maxActiveStatements}`);
    }
  };
  const findRecord = (input: Input): { record: StatementRecord; sub?: SubStatement } => {
    const id = str(input, 'Id');
    if (!id) throw validation('Id is required');
    const found = store.find(id);
    if (!found) throw notFound(id);
    return found;
  };
  /** ClientToken idempotency: a request repeating a token gets the statement it created, which does not run again. */
  const byToken = new Map<string, StatementRecord>();
  /**
   * Redshift Serverless with IAM credentials (no SecretArn): each IAM role is its own database user
   * `IAMR:<role>` (Management Guide, "Authorizing access to the Data API"). The role is the one the
   * signing access key is mapped to in `iamRoles`; unmapped callers run as the admin user.
   */
  const sessionUser = (t: StatementTarget, caller: Caller): string | undefined => {
    if (t.workgroupName === undefined || t.secretArn !== undefined || caller.accessKeyId === undefined) return undefined;
    const role = options.iamRoles?.[caller.accessKeyId];
    return role === undefined ? undefined : `IAMR:${role}`;
  };
  const submitOnce = (input: Input, caller: Caller, create: (t: StatementTarget) => StatementRecord): Record<string, unknown> => {
    const token = str(input, 'ClientToken');
    const t = target(input);
    const seen = token === undefined ? undefined : byToken.get(token);
    if (seen) return submission(seen, seen.target);
    admit();
    const record = create(t);
    const user = sessionUser(t, caller);
    if (user !== undefined) record.sessionUser = user;
    if (token !== undefined) {
      record.clientToken = token;
      byToken.set(token, record);
    }
    return submission(record, t);
  };
  return {
    ExecuteStatement(input, caller) {
      const sql = checkSql(input.Sql, 'Sql');
      return submitOnce(input, caller, (t) => store.submit([sql], false, t, parameters(input)));
    },
    BatchExecuteStatement(input, caller) {
      const sqls = input.Sqls;
      if (!Array.isArray(sqls) || sqls.length === 0) throw validation('Sqls must be a non-empty list');
      if (sqls.length > 40) throw validation('Sqls can hold at most 40 statements');
      sqls.forEach((s, i) => checkSql(s, `Sqls[${i}]`));
      return submitOnce(input, caller, (t) => store.submit(sqls as string[], true, t));
    },
    DescribeStatement(input) {
      const { record, sub } = findRecord(input);
      if (sub) return { ...subDescription(sub), ...targetFields(record) };
      const only = record.subStatements[0] as SubStatement;
      const totalRows = record.subStatements.reduce((n, s) => n + Math.max(s.resultRows, 0), 0);
      return {
        Id: record.id,
        Status: record.status,
        ...(record.error !== undefined ? { Error: record.error } : {}),
        QueryString: record.isBatch ? '' : only.sql,
        HasResultSet: record.isBatch ? false : only.hasResultSet,
        ResultRows: record.isBatch ? totalRows : only.resultRows,
        ResultSize: record.isBatch || !only.result ? 0 : JSON.stringify(only.result.records).length,
        CreatedAt: epoch(record.createdAt),
        UpdatedAt: epoch(record.updatedAt),
        Duration: record.durationNs,
        RedshiftPid: 1073741824,
        RedshiftQueryId: record.isBatch ? 0 : only.queryNumber,
        ...(record.parameters ? { QueryParameters: record.parameters } : {}),
        ...(record.isBatch ? { SubStatements: record.subStatements.map(subDescription) } : {}),
        ...targetFields(record),
      };
    },
    GetStatementResult(input) {
      const { record, sub: found } = findRecord(input);
      if (record.isBatch && !found) {
        throw validation('Query does not have result. Please use the sub-statement id (<id>:<n>) of a batch');
      }
      const sub = found ?? (record.subStatements[0] as SubStatement);
      if (sub.status !== 'FINISHED' || !sub.result) {
        throw validation('Query does not have result. Please check query status with DescribeStatement.');
      }
      const start = decodeToken(str(input, 'NextToken'));
      const records = sub.result.records;
      const end = Math.min(records.length, start + options.pageSize);
      return {
        Records: records.slice(start, end),
        ColumnMetadata: sub.result.columns,
        TotalNumRows: records.length,
        ...(end < records.length ? { NextToken: encodeToken(end) } : {}),
      };
    },
    CancelStatement(input) {
      const { record } = findRecord(input);
      if (record.status !== 'SUBMITTED' && record.status !== 'STARTED') {
        throw validation(`Could not cancel a query that is already in ${record.status} state with ID: ${record.id}`);
      }
      store.cancel(record);
      return { Status: true };
    },
    ListStatements(input) {
      const status = str(input, 'Status') ?? 'ALL';
      const name = str(input, 'StatementName');
      const max = typeof input.MaxResults === 'number' && input.MaxResults > 0 ? Math.min(input.MaxResults, 100) : 100;
      const all = store
        .list()
        .filter((r) => status === 'ALL' || r.status === status)
        .filter((r) => !name || (r.target.statementName ?? '').startsWith(name));
      const start = decodeToken(str(input, 'NextToken'));
      const page = all.slice(start, start + max);
      return {
        Statements: page.map((r) => ({
          Id: r.id,
          Status: r.status,
          IsBatchStatement: r.isBatch,
          CreatedAt: epoch(r.createdAt),
          UpdatedAt: epoch(r.updatedAt),
          ...(r.isBatch ? { QueryStrings: r.subStatements.map((s) => s.sql) } : { QueryString: r.subStatements[0]?.sql }),
          ...(r.target.statementName ? { StatementName: r.target.statementName } : {}),
          ...(r.target.secretArn ? { SecretArn: r.target.secretArn } : {}),
          ...(r.parameters ? { QueryParameters: r.parameters } : {}),
        })),
        ...(start + max < all.length ? { NextToken: encodeToken(start + max) } : {}),
      };
    },
  };
}

function targetFields(record: StatementRecord): Record<string, unknown> {
  const t = record.target;
  return {
    ...(t.clusterIdentifier ? { ClusterIdentifier: t.clusterIdentifier } : {}),
    ...(t.database ? { Database: t.database } : {}),
    ...(t.dbUser ? { DbUser: t.dbUser } : {}),
    ...(t.secretArn ? { SecretArn: t.secretArn } : {}),
    ...(t.workgroupName ? { WorkgroupName: t.workgroupName } : {}),
  };
}

function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64');
}

function decodeToken(token: string | undefined): number {
  if (!token) return 0;
  try {
    const { offset } = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown };
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    /* fall through */
  }
  throw validation('Invalid NextToken');
}
