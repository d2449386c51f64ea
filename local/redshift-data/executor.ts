/**
 * Runs one Data API submission on PGlite with Redshift session semantics: a batch
 * (or a single statement) is one transaction, all or nothing, and temp tables and
 * session settings are gone afterwards.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { CopyError } from '../../functions/core/errors';
import { runCopy } from './copy';
import { needsAutocommit, translate } from './dialect';
import { TEXT_TYPES, toResultSet } from './results';
import type { Database } from './database';
import { splitStatements } from './sqlText';
import type { StatementRecord, StatementStore, SubStatement } from './statements';
import { type LoadErrorRow, recordLoadErrors } from './loadErrors';
import { type TransactionState, resolveRelations, statementAccess } from './isolation';

/** What the executor needs from the server. */
export interface ExecutorEnv {
  db: Database;
  s3: S3Client;
  store: StatementStore;
}

class Aborted extends Error {}

const RESULT_COUNT_COMMANDS = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY', 'SELECT']);

/** Builds the runner the statement queue calls for each submission. */
export function createExecutor(env: ExecutorEnv): (record: StatementRecord) => Promise<void> {
  return (record) => execute(env, record);
}

async function execute(env: ExecutorEnv, record: StatementRecord): Promise<void> {
  const { db, store } = env;
  const started = process.hrtime.bigint();
  store.setStatus(record, 'STARTED');
  const subs = record.subStatements;
  const only = subs[0] as SubStatement;
  const autocommit = !record.isBatch && splitStatements(only.sql).length === 1 && needsAutocommit(only.sql);
  const loadErrors: LoadErrorRow[] = [];
  let inTransaction = false;
  let current: SubStatement | undefined;
  try {
    const firstStatement = splitStatements(only.sql)[0] ?? '';
    const lockFirst = await resolveRelations(db, statementAccess(firstStatement).locks);
    const txn = store.isolation.begin(record.submittedAt, lockFirst.map((r) => r.key));
    if (record.sessionUser !== undefined) {
      // The caller's own database user (IAMR:<role>): its objects are its own, others need grants.
      await db.query('SELECT local_redshift.ensure_user($1)', [record.sessionUser]);
      await db.exec(`SET ROLE "${record.sessionUser.replace(/"/g, '""')}"`);
    }
    if (!autocommit) {
      await db.exec('BEGIN');
      inTransaction = true;
    }
    for (const sub of subs) {
      await store.whenOpen();
      if (record.cancelRequested) throw new Aborted();
      current = sub;
      const subStarted = process.hrtime.bigint();
      store.setSubStatus(record, sub, 'STARTED');
      await runSub(env, record, sub, loadErrors, txn);
      sub.durationNs = Number(process.hrtime.bigint() - subStarted);
      store.setSubStatus(record, sub, 'FINISHED');
      current = undefined;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (record.cancelRequested) throw new Aborted();
    if (inTransaction) await db.exec('COMMIT');
    inTransaction = false;
    store.isolation.commit(txn, store.oldestPendingSubmission(record));
    record.durationNs = Number(process.hrtime.bigint() - started);
    store.setStatus(record, 'FINISHED');
  } catch (e) {
    if (inTransaction) await db.exec('ROLLBACK').catch(() => undefined);
    record.durationNs = Number(process.hrtime.bigint() - started);
    const aborted = e instanceof Aborted;
    const message = aborted ? 'Query cancelled on user request' : errorText(e);
    if (current && !aborted) store.setSubStatus(record, current, 'FAILED', message);
    for (const sub of subs) {
      if (sub.status === 'SUBMITTED' || sub.status === 'STARTED') store.setSubStatus(record, sub, 'ABORTED');
    }
    if (loadErrors.length > 0) await recordLoadErrors(db, loadErrors).catch(() => undefined);
    store.setStatus(record, aborted ? 'ABORTED' : 'FAILED', message);
  } finally {
    await db.exec("RESET ROLE; DISCARD TEMP; RESET ALL; SET TIME ZONE 'UTC'").catch(() => undefined);
  }
}

/** Adds the statement's table accesses to the transaction (may throw the 1023 error); returns what to check after it runs. */
async function trackAccess(env: ExecutorEnv, txn: TransactionState, statement: string): Promise<() => Promise<void>> {
  const access = statementAccess(statement);
  const [reads, writes, locks, existing] = await Promise.all([
    resolveRelations(env.db, access.reads),
    resolveRelations(env.db, access.writes),
    resolveRelations(env.db, access.locks),
    resolveRelations(env.db, access.creates ? [access.creates] : []),
  ]);
  env.store.isolation.access(txn, reads, writes, locks);
  if (!access.creates || existing.length > 0) return async () => undefined;
  const created = access.creates;
  // A table this statement creates is written by this transaction.
  return async () => env.store.isolation.access(txn, [], await resolveRelations(env.db, [created]), []);
}

async function runSub(env: ExecutorEnv, record: StatementRecord, sub: SubStatement, loadErrors: LoadErrorRow[], txn: TransactionState): Promise<void> {
  const statements = splitStatements(sub.sql);
  if (statements.length === 0) throw new Error('ERROR: empty SQL statement');
  for (const statement of statements) {
    const afterwards = await trackAccess(env, txn, statement);
    const serverless = record.target.workgroupName !== undefined;
    const t = translate(statement, { inBatch: record.isBatch, serverless, ...(record.target.database ? { database: record.target.database } : {}), ...(record.parameters ? { parameters: record.parameters } : {}) });
    sub.hasResultSet = false;
    delete sub.result;
    if (t.kind === 'noop') {
      for (const post of t.after ?? []) await env.db.exec(post);
      sub.resultRows = -1;
    } else if (t.kind === 'copy') {
      const loaded = await runCopy(
        { db: env.db, s3: env.s3, queryNumber: sub.queryNumber, statementId: sub.id, loadErrors, serverless },
        t.tokens,
      );
      await env.db.query("SELECT set_config('forklift.last_copy_count', $1, false)", [String(loaded)]);
      for (const post of t.after) await env.db.exec(post);
      sub.resultRows = loaded;
    } else {
      for (const pre of t.before) await env.db.exec(pre);
      const res = await env.db.query<unknown[]>(t.sql, t.params, { rowMode: 'array', textTypes: TEXT_TYPES });
      for (const post of t.after) await env.db.exec(post);
      const command = (res.command ?? '').toUpperCase().split(' ')[0] ?? '';
      if (res.fields.length > 0) {
        sub.hasResultSet = true;
        sub.result = toResultSet(res.fields, res.rows);
        sub.resultRows = res.rows.length;
      } else {
        sub.resultRows = RESULT_COUNT_COMMANDS.has(command) ? (res.affectedRows ?? res.rowCount ?? 0) : -1;
      }
    }
    await afterwards();
  }
}

/** The Error text DescribeStatement shows, in Redshift's `ERROR: ...` form. */
function errorText(e: unknown): string {
  if (e instanceof CopyError) return e.message;
  // PGlite's errors come from another realm (its loader, pglite.ts, under jest) or are rebuilt
  // from their fields (from its thread, database.ts): read the message field itself.
  const field = (e as { message?: unknown } | null)?.message;
  const message = typeof field === 'string' ? field : String(e);
  return message.startsWith('ERROR:') ? message : `ERROR: ${message}`;
}
