/**
 * Redshift's serializable isolation, modelled on an engine that runs one transaction at a time.
 *
 * The model (README, "The local stack"): every submission is its own session and its
 * transaction starts when it is submitted, as on Redshift, where sessions run concurrently.
 * PGlite then runs the transactions one after another (in submission order), so two
 * transactions overlap when one was submitted before the other committed. A transaction
 * whose FIRST statement is `LOCK` starts only once it holds its locks: after every
 * overlapping transaction that locked or wrote one of those tables has committed.
 *
 * Each statement's table-level reads and writes are parsed from its SQL (generic: FROM,
 * JOIN, USING, INTO, UPDATE, COPY, ...; temp tables, CTEs and catalog relations ignored).
 * Before a statement runs, its accesses join its transaction's sets; when the sets form a
 * cycle with a committed overlapping transaction (this one reads a table the other wrote,
 * and the other read a table this one writes), the statement fails with Redshift's 1023
 * error and the transaction rolls back. Only pairs are checked (Redshift also finds longer
 * cycles), and views count as reads of the view, not of its tables.
 */
import type { Database } from './database';
import { type Token, identName, keyword, significant, tokenize } from './sqlText';

/** A relation named in a statement: schema (undefined = search path) and name. */
export interface RelationName {
  schema?: string;
  name: string;
}

/** What one statement does to which relations, as written. */
export interface StatementAccess {
  reads: RelationName[];
  writes: RelationName[];
  locks: RelationName[];
  /** `CREATE TABLE` (not temp) target: a write once it exists; with IF NOT EXISTS on an existing table, nothing. */
  creates?: RelationName;
}

const SYSTEM_SCHEMAS = new Set(['pg_catalog', 'information_schema']);
const SYSTEM_PREFIXES = ['pg_', 'stl_', 'stv_', 'svl_', 'svv_', 'sys_'];

function isName(t: Token | undefined): boolean {
  return !!t && (t.kind === 'word' || t.kind === 'ident');
}

/** The (possibly qualified) relation name at sig[i], or undefined; `next` is the index after it. */
function relationAt(sig: Token[], i: number, target = false): { rel: RelationName; next: number } | undefined {
  const first = sig[i];
  if (!isName(first)) return undefined;
  if (sig[i + 1]?.text === '.' && isName(sig[i + 2])) {
    if (!target && sig[i + 3]?.text === '(') return undefined; // schema.function(...)
    return { rel: { schema: identName(first as Token), name: identName(sig[i + 2] as Token) }, next: i + 3 };
  }
  if (!target && sig[i + 1]?.text === '(') return undefined; // a function in FROM
  return { rel: { name: identName(first as Token) }, next: i + 1 };
}

const NOT_ALIASES = new Set([
  'WHERE', 'JOIN', 'INNER', 'LEFT', 'RIGHT', 'FULL', 'CROSS', 'NATURAL', 'ON', 'USING', 'GROUP', 'ORDER', 'HAVING',
  'LIMIT', 'UNION', 'EXCEPT', 'INTERSECT', 'MINUS', 'SET', 'VALUES', 'SELECT', 'WHEN', 'OFFSET', 'WINDOW', 'QUALIFY',
]);

/** After FROM: `a [AS x], b [x], (subquery) s, ...`: every relation of the comma list. */
function fromList(sig: Token[], i: number, into: RelationName[]): void {
  for (;;) {
    const r = relationAt(sig, i);
    let j = i;
    if (r) {
      into.push(r.rel);
      j = r.next;
    } else if (sig[i]?.text === '(') {
      let depth = 0;
      for (; j < sig.length; j++) {
        if (sig[j]?.text === '(') depth++;
        else if (sig[j]?.text === ')' && --depth === 0) break;
      }
      j++;
    } else return;
    if (keyword(sig[j]) === 'AS') j++;
    if (isName(sig[j]) && !NOT_ALIASES.has(keyword(sig[j]))) j++;
    if (sig[j]?.text === '(') return; // alias column list: stop (rare)
    if (sig[j]?.text !== ',') return;
    i = j + 1;
  }
}

/**
 * Every relation a statement names after FROM, JOIN or USING (comma lists, subqueries and
 * unqualified names included; common table expressions left out), system relations included.
 */
export function referencedRelations(statement: string): RelationName[] {
  const sig = significant(tokenize(statement));
  const ctes = cteNames(sig);
  const out: RelationName[] = [];
  for (let i = 0; i < sig.length; i++) {
    const k = keyword(sig[i]);
    if (k === 'FROM') fromList(sig, i + 1, out);
    else if (k === 'JOIN') {
      const r = relationAt(sig, i + 1);
      if (r) out.push(r.rel);
    } else if (k === 'USING' && sig[i + 1]?.text !== '(') fromList(sig, i + 1, out);
  }
  return out.filter((r) => !(r.schema === undefined && ctes.has(r.name)));
}

function cteNames(sig: Token[]): Set<string> {
  const ctes = new Set<string>();
  for (let i = 0; i + 2 < sig.length; i++) {
    // `WITH name AS (` and `, name AS (`: common table expressions, not relations.
    if ((keyword(sig[i]) === 'WITH' || keyword(sig[i]) === 'RECURSIVE' || sig[i]?.text === ',') && isName(sig[i + 1]) && keyword(sig[i + 2]) === 'AS' && sig[i + 3]?.text === '(') {
      ctes.add(identName(sig[i + 1] as Token));
    }
  }
  return ctes;
}

/** Parses the table-level reads, writes and locks of one statement (no trailing semicolon). */
export function statementAccess(statement: string): StatementAccess {
  const sig = significant(tokenize(statement));
  const access: StatementAccess = { reads: [], writes: [], locks: [] };
  const ctes = cteNames(sig);
  const first = keyword(sig[0]);
  const at = (k: number, list: RelationName[]): number => {
    const r = relationAt(sig, k, list !== access.reads);
    if (!r) return k;
    list.push(r.rel);
    return r.next;
  };
  let skipTo = 0;
  if (first === 'INSERT' && keyword(sig[1]) === 'INTO') skipTo = at(2, access.writes);
  else if (first === 'UPDATE') {
    skipTo = at(1, access.writes);
    access.reads.push(...access.writes);
  } else if (first === 'DELETE') {
    skipTo = at(keyword(sig[1]) === 'FROM' ? 2 : 1, access.writes);
    access.reads.push(...access.writes);
  } else if (first === 'MERGE' && keyword(sig[1]) === 'INTO') {
    skipTo = at(2, access.writes);
    access.reads.push(...access.writes);
  } else if (first === 'COPY') skipTo = at(1, access.writes);
  else if (first === 'TRUNCATE') skipTo = at(keyword(sig[1]) === 'TABLE' ? 2 : 1, access.writes);
  else if (first === 'LOCK') {
    let k = keyword(sig[1]) === 'TABLE' ? 2 : 1;
    for (;;) {
      k = at(k, access.locks);
      if (sig[k]?.text !== ',') break;
      k++;
    }
    return access;
  } else if (first === 'ALTER' && keyword(sig[1]) === 'TABLE') {
    skipTo = at(keyword(sig[2]) === 'IF' ? 4 : 2, access.writes);
  } else if (first === 'DROP' && keyword(sig[1]) === 'TABLE') {
    skipTo = at(keyword(sig[2]) === 'IF' ? 4 : 2, access.writes);
  } else if (first === 'CREATE') {
    let k = 1;
    while (['TEMP', 'TEMPORARY', 'LOCAL'].includes(keyword(sig[k]))) k++;
    if (keyword(sig[k]) !== 'TABLE') return access; // schemas, views, functions: no table data
    const temp = k > 1;
    k++;
    if (keyword(sig[k]) === 'IF') k += 3;
    const r = relationAt(sig, k, true);
    if (r && !temp) access.creates = r.rel;
    skipTo = r ? r.next : k;
  } else if (!['SELECT', 'WITH', '('].includes(first) && sig[0]?.text !== '(') {
    return access; // GRANT, SET, VACUUM, ANALYZE, ...: no table data
  }
  for (let i = skipTo; i < sig.length; i++) {
    const k = keyword(sig[i]);
    if (k === 'FROM') fromList(sig, i + 1, access.reads);
    else if (k === 'JOIN') at(i + 1, access.reads);
    else if (k === 'USING' && sig[i + 1]?.text !== '(') fromList(sig, i + 1, access.reads);
  }
  const keep = (r: RelationName): boolean =>
    !(r.schema === undefined && ctes.has(r.name)) &&
    !SYSTEM_SCHEMAS.has(r.schema ?? '') &&
    !(r.schema === undefined && SYSTEM_PREFIXES.some((p) => r.name.startsWith(p)));
  access.reads = access.reads.filter(keep);
  access.writes = access.writes.filter(keep);
  return access;
}

/** A relation resolved in the catalog: its `schema.name` key and its table id (oid). */
export interface ResolvedRelation {
  key: string;
  id: number;
}

/**
 * Resolves names as the search path does; temp tables (session-private: never shared
 * between sessions) and relations that do not exist (a column after `EXTRACT(... FROM`)
 * resolve to nothing.
 */
export async function resolveRelations(db: Database, names: readonly RelationName[]): Promise<ResolvedRelation[]> {
  if (names.length === 0) return [];
  const texts = names.map((n) => (n.schema === undefined ? quote(n.name) : `${quote(n.schema)}.${quote(n.name)}`));
  const res = await db.query<{ key: string; id: number }>(
    `SELECT DISTINCT n.nspname || '.' || c.relname AS key, c.oid::int AS id
       FROM unnest($1::text[]) AS x(name) JOIN pg_class c ON c.oid = to_regclass(x.name)
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relpersistence <> 't' AND n.nspname NOT IN ('pg_catalog', 'information_schema')`,
    [texts],
  );
  return res.rows.map((r) => ({ key: r.key, id: Number(r.id) }));
}

function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** One transaction's logical lifetime and table sets. */
export interface TransactionState {
  xid: number;
  /** Logical time the transaction (its snapshot) started. */
  start: number;
  commit?: number;
  reads: Map<string, number>;
  writes: Map<string, number>;
  locks: Set<string>;
}

/** A 1023 serializable isolation violation, with Redshift's text. */
export class SerializableIsolationError extends Error {
  constructor(tableId: number, xids: number[]) {
    super(
      `ERROR: 1023 DETAIL: Serializable isolation violation on table - ${tableId}, transactions forming the cycle are: ${xids.join(', ')} (pid:${PID})`,
    );
    this.name = 'SerializableIsolationError';
  }
}

const PID = 1073741824;

/** The committed transactions a new one may overlap, and the logical clock. */
export class IsolationTracker {
  private clock = 0;
  private xidCounter = 5000;
  private readonly committed: TransactionState[] = [];

  /** Logical time now (one tick per event). */
  tick(): number {
    return ++this.clock;
  }

  /** A transaction submitted at `submittedAt`; `lockFirst` = the tables its first statement LOCKs. */
  begin(submittedAt: number, lockFirst: readonly string[]): TransactionState {
    let start = submittedAt;
    if (lockFirst.length > 0) {
      for (const u of this.committed) {
        if ((u.commit ?? 0) > submittedAt && lockFirst.some((t) => u.locks.has(t) || u.writes.has(t))) {
          start = Math.max(start, u.commit ?? 0);
        }
      }
    }
    return { xid: ++this.xidCounter, start, reads: new Map(), writes: new Map(), locks: new Set(lockFirst) };
  }

  /** Adds a statement's accesses to `t`; throws SerializableIsolationError when they close a cycle. */
  access(t: TransactionState, reads: readonly ResolvedRelation[], writes: readonly ResolvedRelation[], locks: readonly ResolvedRelation[]): void {
    for (const r of reads) t.reads.set(r.key, r.id);
    for (const w of writes) t.writes.set(w.key, w.id);
    for (const l of locks) t.locks.add(l.key);
    for (const u of this.committed) {
      if ((u.commit ?? 0) <= t.start) continue;
      const readTheirs = [...t.reads.keys()].find((k) => u.writes.has(k));
      const theyReadMine = [...u.reads.keys()].find((k) => t.writes.has(k));
      if (readTheirs !== undefined && theyReadMine !== undefined) {
        throw new SerializableIsolationError(t.writes.get(theyReadMine) ?? 0, [u.xid, t.xid]);
      }
    }
  }

  /** Records a committed transaction; forgets those no pending transaction can overlap. */
  commit(t: TransactionState, oldestPendingSubmission: number | undefined): void {
    t.commit = this.tick();
    if (t.writes.size > 0 || t.locks.size > 0) this.committed.push(t);
    const horizon = oldestPendingSubmission ?? this.clock;
    for (let i = this.committed.length - 1; i >= 0; i--) {
      if ((this.committed[i]!.commit ?? 0) < horizon) this.committed.splice(i, 1);
    }
  }
}
