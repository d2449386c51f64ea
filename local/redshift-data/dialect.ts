/**
 * Redshift SQL on PGlite: drops Redshift-only physical clauses, maps a few
 * Redshift spellings to Postgres, and rejects what Redshift would reject so a
 * statement that fails on AWS fails locally too.
 */
import { ForkliftError } from '../../functions/core/errors';
import { SORT_KEY_INIT_SQL, alterTableSortKey, createSortKeyIndex, createTableSortKey, dropSortKeyIndex, sortKeyRefresh } from './sortKey';
import { type Token, identName, isTrivia, keyword, significant, tokenize } from './sqlText';
import { referencedRelations } from './isolation';
import { ENCODINGS_INIT_SQL, encodingDeclarations, encodingMisfit, recordEncodings, widenChecks } from './encodings';

/** SQL that Redshift would refuse; the statement ends FAILED with this message. */
export class SqlRejectedError extends ForkliftError {
  constructor(message: string) {
    super(message);
    this.name = 'SqlRejectedError';
  }
}

/** What to run for one statement after translation. */
export type Translated =
  | { kind: 'sql'; sql: string; params: string[]; before: string[]; after: string[] }
  | { kind: 'copy'; tokens: Token[]; after: string[] }
  | { kind: 'noop'; after?: string[] };

/** Where the statement runs: inside a BatchExecuteStatement or alone. */
export interface TranslateContext {
  inBatch: boolean;
  /** Data API `Parameters`, referenced in SQL as `:name`. */
  parameters?: ReadonlyArray<{ name: string; value: string }>;
  /** A Redshift Serverless workgroup: no STL/STV/SVL views (the SYS views replace them). */
  serverless?: boolean;
  /** The request's `Database`: the one database a privilege statement may name. */
  database?: string;
}

/** The one database of the local engine (PGlite); every Data API `Database` maps to it. */
const LOCAL_DATABASE = 'postgres';

const PROVISIONED_ONLY_VIEW = /^(stl|stv|svl|svcs)_\w+$/i;

/** Functions and system tables Redshift has and Postgres lacks; run at every start. */
export const INIT_SQL = `
SET TIME ZONE 'UTC';
CREATE OR REPLACE FUNCTION public.getdate() RETURNS timestamp LANGUAGE sql STABLE
  AS $$ SELECT date_trunc('second', statement_timestamp() AT TIME ZONE 'UTC') $$;
CREATE OR REPLACE FUNCTION public.len(text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT length($1) $$;
CREATE OR REPLACE FUNCTION public.trunc(timestamp) RETURNS date LANGUAGE sql IMMUTABLE AS $$ SELECT $1::date $$;
CREATE OR REPLACE FUNCTION public.redshift_datepart(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN p IN ('millisecond', 'milliseconds', 'ms', 'msec', 'msecs', 'msecond', 'mseconds', 'millisec', 'millisecs', 'millisecon') THEN 'millisecond'
    WHEN p IN ('microsecond', 'microseconds', 'microsec', 'microsecs', 'usecond', 'useconds', 'us', 'usec', 'usecs') THEN 'microsecond'
    WHEN p IN ('second', 'seconds', 's', 'sec', 'secs') THEN 'second'
    WHEN p IN ('minute', 'minutes', 'm', 'min', 'mins') THEN 'minute'
    WHEN p IN ('hour', 'hours', 'h', 'hr', 'hrs') THEN 'hour'
    WHEN p IN ('day', 'days', 'd') THEN 'day'
    WHEN p IN ('week', 'weeks', 'w') THEN 'week'
    WHEN p IN ('month', 'months', 'mon', 'mons') THEN 'month'
    WHEN p IN ('year', 'years', 'y', 'yr', 'yrs') THEN 'year'
    ELSE p END FROM (SELECT lower($1) AS p) x $$;
CREATE OR REPLACE FUNCTION public.dateadd(text, bigint, timestamp) RETURNS timestamp LANGUAGE sql IMMUTABLE
  AS $$ SELECT $3 + ($2::text || ' ' || public.redshift_datepart($1))::interval $$;
CREATE OR REPLACE FUNCTION public.datediff(text, timestamp, timestamp) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE public.redshift_datepart($1)
    WHEN 'microsecond' THEN (floor(extract(epoch FROM $3) * 1000000) - floor(extract(epoch FROM $2) * 1000000))::bigint
    WHEN 'millisecond' THEN (floor(extract(epoch FROM $3) * 1000) - floor(extract(epoch FROM $2) * 1000))::bigint
    WHEN 'second' THEN floor(extract(epoch FROM date_trunc('second', $3)) - extract(epoch FROM date_trunc('second', $2)))::bigint
    WHEN 'minute' THEN ((extract(epoch FROM date_trunc('minute', $3)) - extract(epoch FROM date_trunc('minute', $2))) / 60)::bigint
    WHEN 'hour' THEN ((extract(epoch FROM date_trunc('hour', $3)) - extract(epoch FROM date_trunc('hour', $2))) / 3600)::bigint
    WHEN 'day' THEN ($3::date - $2::date)::bigint
    WHEN 'week' THEN ((date_trunc('week', $3)::date - date_trunc('week', $2)::date) / 7)::bigint
    WHEN 'month' THEN ((extract(year FROM $3) - extract(year FROM $2)) * 12 + extract(month FROM $3) - extract(month FROM $2))::bigint
    WHEN 'year' THEN (extract(year FROM $3) - extract(year FROM $2))::bigint
  END $$;
-- EXTRACT as Redshift's: an INTEGER from TIMESTAMP, DATE, TIME and INTERVAL (the fraction of a second dropped),
-- DOUBLE PRECISION from TIMESTAMPTZ; millisecond and microsecond are the part within the second.
CREATE OR REPLACE FUNCTION public.redshift_extract_part(text, double precision, double precision, double precision) RETURNS double precision
  LANGUAGE sql IMMUTABLE AS $$ SELECT CASE public.redshift_datepart($1) WHEN 'millisecond' THEN mod(floor($3)::numeric, 1000)::double precision
    WHEN 'microsecond' THEN mod(floor($4)::numeric, 1000000)::double precision ELSE $2 END $$;
CREATE OR REPLACE FUNCTION public.redshift_extract(text, timestamp) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
  SELECT floor(public.redshift_extract_part($1, date_part(public.redshift_datepart($1), $2), date_part('milliseconds', $2), date_part('microseconds', $2)))::integer $$;
CREATE OR REPLACE FUNCTION public.redshift_extract(text, date) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
  SELECT public.redshift_extract($1, $2::timestamp) $$;
CREATE OR REPLACE FUNCTION public.redshift_extract(text, time) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
  SELECT floor(public.redshift_extract_part($1, date_part(public.redshift_datepart($1), $2), date_part('milliseconds', $2), date_part('microseconds', $2)))::integer $$;
CREATE OR REPLACE FUNCTION public.redshift_extract(text, interval) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
  SELECT floor(public.redshift_extract_part($1, date_part(public.redshift_datepart($1), $2), date_part('milliseconds', $2), date_part('microseconds', $2)))::integer $$;
CREATE OR REPLACE FUNCTION public.redshift_extract(text, timestamptz) RETURNS double precision LANGUAGE sql STABLE AS $$
  SELECT public.redshift_extract_part($1, date_part(public.redshift_datepart($1), $2), date_part('milliseconds', $2), date_part('microseconds', $2)) $$;
CREATE OR REPLACE FUNCTION public.pg_last_copy_count() RETURNS bigint LANGUAGE sql STABLE
  AS $$ SELECT coalesce(nullif(current_setting('forklift.last_copy_count', true), ''), '0')::bigint $$;
CREATE TABLE IF NOT EXISTS public.stl_load_errors (
  userid integer, slice integer, tbl integer, starttime timestamp, session integer, query integer,
  filename character(256), line_number bigint, colname character(127), type character(10), col_length character(10),
  position integer, raw_line character(1024), raw_field_value character(1024), err_code integer, err_reason character(100)
);
CREATE OR REPLACE VIEW public.sys_load_error_detail AS SELECT
  userid AS user_id, query::bigint AS query_id, query::bigint AS transaction_id, session AS session_id,
  CAST('dev' AS character(64)) AS database_name, tbl AS table_id, starttime AS start_time,
  filename AS file_name, line_number, colname AS column_name, type AS column_type, col_length AS column_length,
  position, err_code AS error_code, CAST(err_reason AS character(512)) AS error_message
  FROM public.stl_load_errors;
CREATE OR REPLACE FUNCTION public.forklift_require_grantee(kind text, name text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF kind = 'group' AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_group WHERE groname = name) THEN
    RAISE EXCEPTION USING MESSAGE = 'group "' || name || '" does not exist';
  ELSIF kind = 'user' AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_user WHERE usename = name) THEN
    RAISE EXCEPTION USING MESSAGE = 'user "' || name || '" does not exist';
  ELSIF kind = 'role' AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = name) THEN
    RAISE EXCEPTION USING MESSAGE = 'role "' || name || '" does not exist';
  END IF;
END $$;
${SORT_KEY_INIT_SQL}
${ENCODINGS_INIT_SQL}
GRANT USAGE ON SCHEMA local_redshift TO PUBLIC;
GRANT SELECT, INSERT, UPDATE ON local_redshift.column_encodings TO PUBLIC;
GRANT SELECT, INSERT ON public.stl_load_errors TO PUBLIC;
GRANT SELECT ON public.sys_load_error_detail TO PUBLIC;
-- Redshift: "By default, all users have CREATE and USAGE permissions on the PUBLIC schema" (Database
-- Developer Guide, "Default database user permissions"; Postgres 15+
-- revoked CREATE from PUBLIC). CREATE on the database (to create schemas) is an administrator's grant.
GRANT USAGE, CREATE ON SCHEMA public TO PUBLIC;
-- A database user per IAM role (Serverless, IAM auth), created on first use as Redshift does, with
-- no privileges beyond PUBLIC's: an administrator grants the rest (README, "Serverless").
-- pg_read_server_files: the local COPY hands its rows to PGlite as COPY FROM '/dev/blob', which
-- Postgres reserves to that role; a Redshift COPY from S3 needs only INSERT on the table (and the
-- IAM role in its CREDENTIALS), which the table's privileges still decide here. Also given to a user
-- an administrator created with CREATE USER before its first statement.
CREATE OR REPLACE FUNCTION local_redshift.ensure_user(name text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = name) THEN
    EXECUTE format('CREATE ROLE %I LOGIN', name);
  END IF;
  IF NOT pg_has_role(name, 'pg_read_server_files', 'MEMBER') THEN
    EXECUTE format('GRANT pg_read_server_files TO %I', name);
  END IF;
END $$;`;

const PHYSICAL_TYPES_REJECTED = new Set(['JSONB', 'JSON', 'SERIAL', 'BIGSERIAL', 'SMALLSERIAL', 'UUID', 'BYTEA', 'INTERVAL']);
const NO_TRANSACTION = new Set(['VACUUM', 'ANALYZE']);

/** Translates one statement (no trailing semicolon) for PGlite, or throws SqlRejectedError. */
export function translate(statement: string, ctx: TranslateContext): Translated {
  const tokens = tokenize(statement);
  const sig = significant(tokens);
  const first = keyword(sig[0]);
  if (first === 'COPY') return { kind: 'copy', tokens, after: sortKeyRefresh(sig) };
  if (first === 'UNLOAD') throw new SqlRejectedError('UNLOAD is not supported by the local Data API');
  if (first === 'TRUNCATE' && ctx.inBatch) {
    throw new SqlRejectedError('TRUNCATE commits implicitly in Redshift; use DELETE inside a transaction');
  }
  if (ctx.inBatch && ['BEGIN', 'START', 'COMMIT', 'END', 'ROLLBACK', 'ABORT'].includes(first)) return { kind: 'noop' };
  for (let i = 0; i < sig.length; i++) {
    const k = keyword(sig[i]);
    if (k === 'RETURNING') throw new SqlRejectedError('syntax error at or near "RETURNING" (Redshift has no RETURNING clause)');
    if (k === 'ON' && keyword(sig[i + 1]) === 'CONFLICT') {
      throw new SqlRejectedError('syntax error at or near "CONFLICT" (Redshift has no ON CONFLICT; use MERGE)');
    }
  }
  if (ctx.serverless) {
    const view = sig.find((t) => (t.kind === 'word' || t.kind === 'ident') && PROVISIONED_ONLY_VIEW.test(identName(t)));
    if (view) throw new SqlRejectedError(`relation "${identName(view)}" does not exist`);
  }
  rejectCatalogMixedWithTables(statement);
  if (first === 'ALTER' && keyword(sig[1]) === 'TABLE') rejectSeveralAddColumns(sig);
  const isDdl = (first === 'CREATE' || first === 'ALTER') && sig.some((t) => keyword(t) === 'TABLE');
  const declared = isDdl ? encodingDeclarations(sig) : undefined;
  if (declared) {
    const misfit = encodingMisfit(declared);
    if (misfit) throw new SqlRejectedError(misfit);
    // ALTER TABLE, ALTER COLUMN … TYPE: "You can't alter columns within a transaction block (BEGIN ... END)".
    if (declared.widened.length > 0 && ctx.inBatch) throw new SqlRejectedError('ALTER TABLE ALTER COLUMN cannot run inside a transaction block');
  }
  const encodingsAfter = declared ? recordEncodings(declared, first === 'CREATE') : [];
  // SORTKEY is modelled as a BRIN index (sortKey.ts); ALTER … ALTER SORTKEY replaces it.
  const alteredSortKey = first === 'ALTER' ? alterTableSortKey(sig) : undefined;
  if (alteredSortKey) {
    return { kind: 'sql', sql: dropSortKeyIndex(alteredSortKey), params: [], before: [], after: createSortKeyIndex(alteredSortKey) };
  }
  if (first === 'ALTER' && isDdl && keyword(sig[3]) === 'ALTER' && ['DISTSTYLE', 'DISTKEY', 'SORTKEY', 'ENCODE'].includes(keyword(sig[4]))) {
    return { kind: 'noop' };
  }
  if (declared && declared.altered.length > 0 && declared.columns.length === 0 && declared.widened.length === 0) {
    return { kind: 'noop', after: encodingsAfter }; // ALTER COLUMN … ENCODE: nothing to do on PGlite but remember it
  }
  if (first === 'ALTER' && isDdl && keyword(sig[3]) === 'ALTER' && ['COMPOUND', 'INTERLEAVED'].includes(keyword(sig[4]))) {
    return { kind: 'noop' };
  }
  const sortKey = first === 'CREATE' && isDdl ? createTableSortKey(sig) : undefined;
  const sortKeyAfter = sortKey ? createSortKeyIndex(sortKey) : sortKeyRefresh(sig);
  let out = tokens;
  if (isDdl) {
    rejectPostgresOnlyTypes(sig);
    out = rewriteDdl(out);
  }
  const before: string[] = declared ? widenChecks(declared) : [];
  out = rewriteExpressions(out);
  const privileges = first === 'GRANT' || first === 'REVOKE' || (first === 'ALTER' && keyword(sig[1]) === 'DEFAULT' && keyword(sig[2]) === 'PRIVILEGES');
  if (privileges) {
    before.push(...granteeChecks(sig));
    out = rewriteGroups(out);
    out = rewriteDatabaseName(out, ctx.database);
  }
  if ((first === 'CREATE' || first === 'ALTER') && keyword(sig[1]) === 'USER') out = rewritePasswordDisable(out);
  const { tokens: bound, params } = bindParameters(out, ctx.parameters ?? []);
  return { kind: 'sql', sql: bound.map((t) => t.text).join(''), params, before, after: [...sortKeyAfter, ...encodingsAfter] };
}

/**
 * Catalog relations a query may join with Redshift tables (Database Developer Guide, "Querying
 * the catalog tables": completely and partially accessible tables). Every other catalog
 * relation (information_schema views, pg_table_def, pg_roles, pg_stats, ...) runs on the leader
 * node only: a query that also reads a user table or an STL/STV/SVL/SVV/SYS table fails.
 * Not modelled: the partially accessible tables' unsupported columns (pg_group.grolist, ...).
 */
const JOINABLE_CATALOG = new Set([
  'pg_attribute', 'pg_cast', 'pg_depend', 'pg_description', 'pg_locks', 'pg_opclass',
  'pg_class', 'pg_constraint', 'pg_database', 'pg_group', 'pg_language', 'pg_namespace', 'pg_operator',
  'pg_proc', 'pg_settings', 'pg_statistic', 'pg_tables', 'pg_type', 'pg_user', 'pg_views',
]);

/**
 * Redshift runs a query that references only catalog relations on the leader node, and one that
 * references a user table (or a system table) on the compute nodes, where leader-node-only
 * catalog relations do not exist. Any form counts: JOIN, comma join, subquery, unqualified name.
 */
function rejectCatalogMixedWithTables(statement: string): void {
  let leaderOnly: string | undefined;
  let compute: string | undefined;
  for (const r of referencedRelations(statement)) {
    const name = r.name;
    const shown = r.schema === undefined ? name : `${r.schema}.${name}`;
    const catalog =
      r.schema === 'information_schema' || r.schema === 'pg_catalog' || (r.schema === undefined && name.startsWith('pg_'));
    if (catalog) {
      if (r.schema === 'information_schema' || !JOINABLE_CATALOG.has(name)) leaderOnly ??= shown;
    } else compute ??= shown;
  }
  if (leaderOnly && compute) {
    throw new SqlRejectedError(
      `Specified types or functions (one per INFO message) not supported on Redshift tables. (${leaderOnly} is a leader-node-only catalog relation and cannot be queried together with ${compute})`,
    );
  }
}

/**
 * "You can add only one column in each ALTER TABLE statement" (Database Developer Guide, ALTER
 * TABLE, ADD [ COLUMN ]): a second top-level `ADD` clause fails, as Redshift's parser fails it.
 */
function rejectSeveralAddColumns(sig: Token[]): void {
  let depth = 0;
  let adds = 0;
  for (let i = 0; i < sig.length; i++) {
    const t = sig[i] as Token;
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0 && keyword(t) === 'ADD' && keyword(sig[i + 1]) !== 'CONSTRAINT' && ++adds > 1) {
      throw new SqlRejectedError('syntax error at or near ","; Redshift adds one column per ALTER TABLE statement');
    }
  }
}

/** True when the statement must run outside a transaction block. */
export function needsAutocommit(statement: string): boolean {
  return NO_TRANSACTION.has(keyword(significant(tokenize(statement))[0]));
}

function rejectPostgresOnlyTypes(sig: Token[]): void {
  let depth = 0;
  for (let i = 0; i < sig.length; i++) {
    const t = sig[i] as Token;
    if (t.kind === 'punct' && t.text === '(') depth++;
    else if (t.kind === 'punct' && t.text === ')') depth--;
    else if (depth >= 1 && t.kind === 'punct' && t.text === '[') {
      throw new SqlRejectedError('Redshift does not support array column types');
    } else if (depth === 1 && t.kind === 'word' && PHYSICAL_TYPES_REJECTED.has(keyword(t))) {
      const prev = sig[i - 1];
      const prev2 = sig[i - 2];
      const isTypePosition =
        (prev?.kind === 'word' || prev?.kind === 'ident') && prev2?.kind === 'punct' && (prev2.text === '(' || prev2.text === ',');
      const isAlterType = keyword(prev) === 'TYPE' || (keyword(prev2) === 'COLUMN' && keyword(sig[i - 3]) === 'ADD');
      if (isTypePosition || isAlterType) {
        throw new SqlRejectedError(`Column type ${keyword(t)} is not supported by Redshift`);
      }
    } else if (depth === 0 && keyword(sig[i - 2]) === 'COLUMN' && PHYSICAL_TYPES_REJECTED.has(keyword(t))) {
      throw new SqlRejectedError(`Column type ${keyword(t)} is not supported by Redshift`);
    }
  }
}

/** Index of the next significant token at or after `i`, or -1. */
function nextSig(tokens: Token[], i: number): number {
  for (let j = i; j < tokens.length; j++) if (!isTrivia(tokens[j] as Token)) return j;
  return -1;
}

/** Index just past the parenthesised group starting at `open` (a '(' token). */
function skipGroup(tokens: Token[], open: number): number {
  let depth = 0;
  for (let j = open; j < tokens.length; j++) {
    const t = tokens[j] as Token;
    if (t.kind === 'punct' && t.text === '(') depth++;
    else if (t.kind === 'punct' && t.text === ')' && --depth === 0) return j + 1;
  }
  return tokens.length;
}

/** Drops DISTSTYLE/DISTKEY/SORTKEY/ENCODE/BACKUP and maps VARCHAR(MAX), bare VARCHAR and TEXT to Redshift lengths. */
function rewriteDdl(tokens: Token[]): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i] as Token;
    const k = keyword(t);
    const n1 = nextSig(tokens, i + 1);
    const k1 = n1 >= 0 ? keyword(tokens[n1]) : '';
    const isOpen = (j: number): boolean => j >= 0 && tokens[j]?.kind === 'punct' && tokens[j]?.text === '(';
    if (k === 'DISTSTYLE' || k === 'ENCODE' || k === 'BACKUP') {
      i = n1 >= 0 ? n1 + 1 : tokens.length;
      continue;
    }
    if ((k === 'COMPOUND' || k === 'INTERLEAVED') && k1 === 'SORTKEY') {
      i = n1;
      continue;
    }
    if (k === 'DISTKEY' || k === 'SORTKEY') {
      if (isOpen(n1)) i = skipGroup(tokens, n1);
      else if (k1 === 'AUTO') i = n1 + 1;
      else i++;
      continue;
    }
    if ((k === 'VARCHAR' || k === 'NVARCHAR') && isOpen(n1)) {
      const n2 = nextSig(tokens, n1 + 1);
      if (keyword(tokens[n2]) === 'MAX') {
        out.push({ kind: 'word', text: 'varchar(65535)' });
        i = skipGroup(tokens, n1);
        continue;
      }
    }
    if ((k === 'VARCHAR' || k === 'NVARCHAR' || k === 'TEXT') && !isOpen(n1)) {
      const prev = out.filter((x) => !isTrivia(x)).at(-1);
      if (prev && (prev.kind === 'word' || prev.kind === 'ident') && keyword(prev) !== 'AS') {
        out.push({ kind: 'word', text: 'varchar(256)' });
        i++;
        continue;
      }
    }
    out.push(t);
    i++;
  }
  return out;
}

/**
 * The expression rewrites {@link translate} applies to every statement (Redshift functions and date parts in
 * Postgres terms, over the functions of {@link INIT_SQL}): for tests that run rendered SQL on a bare PGlite.
 */
export function rewriteRedshiftExpressions(sql: string): string {
  return rewriteExpressions(tokenize(sql))
    .map((t) => t.text)
    .join('');
}

/** `APPROXIMATE COUNT` → `COUNT`, `NVL(` → `COALESCE(`, `SYSDATE` → UTC now, date parts of DATEADD/DATEDIFF quoted, EXTRACT with Redshift's return types. */
function rewriteExpressions(tokens: Token[]): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    const k = keyword(t);
    const n1 = nextSig(tokens, i + 1);
    if (k === 'APPROXIMATE' && keyword(tokens[n1]) === 'COUNT') continue;
    if (k === 'NVL' && tokens[n1]?.text === '(') {
      out.push({ kind: 'word', text: 'coalesce' });
      continue;
    }
    if (k === 'SYSDATE') {
      out.push({ kind: 'word', text: "(now() AT TIME ZONE 'UTC')" });
      continue;
    }
    if (k === 'EXTRACT' && tokens[n1]?.text === '(') {
      // EXTRACT(part FROM source) → public.redshift_extract('part', source): Redshift's return types (INIT_SQL).
      const n2 = nextSig(tokens, n1 + 1);
      const part = tokens[n2];
      const from = nextSig(tokens, n2 + 1);
      if (part && (part.kind === 'word' || part.kind === 'string') && keyword(tokens[from]) === 'FROM') {
        const name = part.kind === 'word' ? part.text.toLowerCase() : part.text.slice(1, -1).toLowerCase();
        out.push({ kind: 'word', text: 'public.redshift_extract' }, tokens[n1] as Token, { kind: 'string', text: `'${name.replace(/'/g, "''")}'` }, { kind: 'punct', text: ',' });
        i = from;
        continue;
      }
    }
    if ((k === 'DATEADD' || k === 'DATEDIFF') && tokens[n1]?.text === '(') {
      const n2 = nextSig(tokens, n1 + 1);
      const part = tokens[n2];
      if (part && part.kind === 'word' && tokens[nextSig(tokens, n2 + 1)]?.text === ',') {
        for (let j = i; j < n2; j++) out.push(tokens[j] as Token);
        out.push({ kind: 'string', text: `'${part.text.toLowerCase()}'` });
        i = n2;
        continue;
      }
    }
    out.push(t);
  }
  return out;
}

/**
 * Redshift refuses a GRANT or REVOKE whose grantee does not exist (`group "g" does not exist`,
 * `user "u" does not exist`); Postgres would say `role ... does not exist` for both. Returns the
 * checks to run before the statement: the grantees after the last `TO` (GRANT) or `FROM` (REVOKE).
 */
function granteeChecks(sig: Token[]): string[] {
  const direction = sig.some((t) => keyword(t) === 'REVOKE') ? 'FROM' : 'TO';
  let at = -1;
  for (let i = sig.length - 1; i >= 0; i--) {
    if (keyword(sig[i]) === direction) {
      at = i;
      break;
    }
  }
  if (at < 0) return [];
  const checks: string[] = [];
  for (let i = at + 1; i < sig.length; i++) {
    const k = keyword(sig[i]);
    if (k === 'WITH' || k === 'CASCADE' || k === 'RESTRICT' || k === 'GRANTED') break;
    if (sig[i]?.text === ',') continue;
    let kind = 'user';
    if (k === 'GROUP' || k === 'ROLE') {
      kind = k.toLowerCase();
      i++;
    } else if (k === 'PUBLIC') continue;
    const name = sig[i];
    if (!name || (name.kind !== 'word' && name.kind !== 'ident')) break;
    checks.push(`SELECT public.forklift_require_grantee('${kind}', '${identName(name).replace(/'/g, "''")}')`);
  }
  return checks;
}

/** `TO GROUP g` → `TO "g"` (a Redshift group is a role without login here). */
function rewriteGroups(tokens: Token[]): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    const n1 = nextSig(tokens, i + 1);
    if (keyword(t) === 'GROUP' && n1 >= 0 && ['word', 'ident'].includes((tokens[n1] as Token).kind)) {
      const role = identName(tokens[n1] as Token);
      out.push({ kind: 'ident', text: `"${role.replace(/"/g, '""')}"` });
      i = n1;
      continue;
    }
    out.push(t);
  }
  return out;
}

/** Each token that follows the keyword `after` (trivia between them allowed) replaced by `replace(token)`. */
function replaceAfterKeyword(tokens: Token[], after: string, replace: (t: Token) => Token): Token[] {
  let previous: Token | undefined;
  return tokens.map((t) => {
    const out = keyword(previous) === after && !isTrivia(t) ? replace(t) : t;
    if (!isTrivia(t)) previous = t;
    return out;
  });
}

/** `ON DATABASE <the request's database>` → the local engine's database; any other name does not exist. */
function rewriteDatabaseName(tokens: Token[], database: string | undefined): Token[] {
  return replaceAfterKeyword(tokens, 'DATABASE', (t) => {
    if (t.kind !== 'word' && t.kind !== 'ident') return t;
    const name = identName(t);
    if (database !== undefined && name !== database) throw new SqlRejectedError(`database "${name}" does not exist`);
    return { kind: 'ident', text: `"${LOCAL_DATABASE}"` };
  });
}

/** Redshift's `PASSWORD DISABLE` (a user that logs in only through IAM) is Postgres' `PASSWORD NULL`. */
function rewritePasswordDisable(tokens: Token[]): Token[] {
  return replaceAfterKeyword(tokens, 'PASSWORD', (t) => (keyword(t) === 'DISABLE' ? { ...t, text: 'NULL' } : t));
}

/** `:name` → `$n` with the named Data API parameter values in order. */
function bindParameters(tokens: Token[], parameters: ReadonlyArray<{ name: string; value: string }>): { tokens: Token[]; params: string[] } {
  const params: string[] = [];
  const index = new Map<string, number>();
  const out = tokens.map((t) => {
    if (t.kind !== 'param' || !t.text.startsWith(':')) return t;
    const name = t.text.slice(1);
    let n = index.get(name);
    if (n === undefined) {
      const p = parameters.find((x) => x.name === name);
      if (!p) throw new SqlRejectedError(`parameter :${name} has no value in Parameters`);
      params.push(p.value);
      n = params.length;
      index.set(name, n);
    }
    return { kind: 'param' as const, text: `$${n}` };
  });
  return { tokens: out, params };
}
