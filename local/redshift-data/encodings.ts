/**
 * Column compression encodings on the local Data API. PGlite has no ENCODE, so the dialect
 * drops the clause; this module checks it first and remembers it, for the rules that depend on
 * it (Database Developer Guide, "Compression encodings" table: which types each encoding takes;
 * "ALTER TABLE", ALTER COLUMN TYPE: not on BYTEDICT, RUNLENGTH, TEXT255 or TEXT32K columns).
 * The encodings table is the one config validation uses (functions/core/sql/limits.ts).
 */
import { parseColumnType } from '../../functions/core/config/columnTypes';
import { encodingProblem } from '../../functions/core/sql/limits';
import { NOT_WIDENABLE } from '../../functions/core/sql/evolve';
import { type Token, identName, keyword } from './sqlText';


/** Where the local stack keeps each column's encoding (by table oid). */
export const ENCODINGS_INIT_SQL = `
CREATE SCHEMA IF NOT EXISTS local_redshift;
CREATE TABLE IF NOT EXISTS local_redshift.column_encodings (table_oid oid, column_name text, encoding text, PRIMARY KEY (table_oid, column_name));
CREATE OR REPLACE FUNCTION local_redshift.require_widenable(rel regclass, col text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE enc text;
BEGIN
  SELECT encoding INTO enc FROM local_redshift.column_encodings WHERE table_oid = rel AND column_name = col;
  IF enc IN (${NOT_WIDENABLE.map((e) => `'${e}'`).join(', ')}) THEN
    RAISE EXCEPTION USING MESSAGE = 'cannot alter type of column "' || col || '": ALTER COLUMN TYPE is not supported for columns with ' || upper(enc) || ' encoding (BYTEDICT, RUNLENGTH, TEXT255 and TEXT32K columns cannot be widened)';
  END IF;
END $$;`;

/** One column definition as written: name, type text and ENCODE (lower case), if any. */
interface ColumnDefinition {
  name: string;
  type: string;
  encoding?: string;
}

const TYPE_END = new Set(['NOT', 'NULL', 'ENCODE', 'DEFAULT', 'PRIMARY', 'UNIQUE', 'REFERENCES', 'IDENTITY', 'GENERATED', 'DISTKEY', 'SORTKEY', 'COLLATE']);
const NOT_COLUMNS = new Set(['PRIMARY', 'UNIQUE', 'FOREIGN', 'CONSTRAINT', 'CHECK', 'LIKE']);

function definition(tokens: Token[]): ColumnDefinition | undefined {
  const [first] = tokens;
  if (!first || (first.kind !== 'word' && first.kind !== 'ident') || NOT_COLUMNS.has(keyword(first))) return undefined;
  let i = 1;
  const type: string[] = [];
  while (i < tokens.length && !TYPE_END.has(keyword(tokens[i]))) type.push((tokens[i++] as Token).text);
  const at = tokens.findIndex((t) => keyword(t) === 'ENCODE');
  const encoding = at >= 0 ? tokens[at + 1]?.text.toLowerCase() : undefined;
  return { name: identName(first), type: type.join(' ').replace(/\s*\(\s*/g, '(').replace(/\s*,\s*/g, ',').replace(/\s*\)/g, ')'), ...(encoding ? { encoding } : {}) };
}

/** The elements of the parenthesised list opening at sig[open], split on top-level commas. */
function elements(sig: Token[], open: number): Token[][] {
  const out: Token[][] = [];
  let depth = 0;
  let current: Token[] = [];
  for (let i = open; i < sig.length; i++) {
    const t = sig[i] as Token;
    if (t.text === '(' && depth++ === 0) continue;
    if (t.text === ')' && --depth === 0) break;
    if (t.text === ',' && depth === 1) {
      out.push(current);
      current = [];
      continue;
    }
    current.push(t);
  }
  if (current.length) out.push(current);
  return out;
}

/** The relation a CREATE TABLE / ALTER TABLE names, as SQL text for `::regclass`, and where its name ends. */
function relation(sig: Token[], at: number): { text: string; next: number } | undefined {
  const a = sig[at];
  if (!a || (a.kind !== 'word' && a.kind !== 'ident')) return undefined;
  const quote = (t: Token): string => `"${identName(t).replace(/"/g, '""')}"`;
  if (sig[at + 1]?.text === '.' && sig[at + 2]) return { text: `${quote(a)}.${quote(sig[at + 2] as Token)}`, next: at + 3 };
  return { text: quote(a), next: at + 1 };
}

/** What a CREATE TABLE or ALTER TABLE declares about encodings: the columns (with types) and the table. */
export interface EncodingDeclarations {
  table: string;
  columns: ColumnDefinition[];
  /** `ALTER COLUMN c ENCODE e` (no type at hand: recorded, not checked). */
  altered: Array<{ name: string; encoding: string }>;
  /** `ALTER COLUMN c TYPE …`: a widening. */
  widened: string[];
}

/** The encoding-relevant parts of a CREATE TABLE (column list) or ALTER TABLE statement; undefined for others. */
export function encodingDeclarations(sig: Token[]): EncodingDeclarations | undefined {
  const first = keyword(sig[0]);
  if (first === 'CREATE') {
    let k = 1;
    while (['TEMP', 'TEMPORARY', 'LOCAL'].includes(keyword(sig[k]))) k++;
    if (keyword(sig[k]) !== 'TABLE') return undefined;
    k++;
    if (keyword(sig[k]) === 'IF') k += 3;
    const r = relation(sig, k);
    if (!r || sig[r.next]?.text !== '(') return undefined;
    const columns = elements(sig, r.next).map(definition).filter((c): c is ColumnDefinition => c !== undefined);
    return { table: r.text, columns, altered: [], widened: [] };
  }
  if (first !== 'ALTER' || keyword(sig[1]) !== 'TABLE') return undefined;
  const r = relation(sig, keyword(sig[2]) === 'IF' ? 4 : 2);
  if (!r) return undefined;
  const out: EncodingDeclarations = { table: r.text, columns: [], altered: [], widened: [] };
  for (let i = r.next; i < sig.length; i++) {
    const k = keyword(sig[i]);
    if (k === 'ADD' && !['CONSTRAINT', 'PRIMARY', 'UNIQUE', 'FOREIGN'].includes(keyword(sig[i + 1]))) {
      const start = keyword(sig[i + 1]) === 'COLUMN' ? i + 2 : i + 1;
      let end = start;
      while (end < sig.length && sig[end]?.text !== ',') end++;
      const d = definition(sig.slice(start, end));
      if (d) out.columns.push(d);
      i = end;
    } else if (k === 'ALTER' && keyword(sig[i + 1]) === 'COLUMN' && sig[i + 2]) {
      const name = identName(sig[i + 2] as Token);
      if (keyword(sig[i + 3]) === 'ENCODE' && sig[i + 4]) out.altered.push({ name, encoding: (sig[i + 4] as Token).text.toLowerCase() });
      if (keyword(sig[i + 3]) === 'TYPE' || (keyword(sig[i + 3]) === 'SET' && keyword(sig[i + 4]) === 'DATA')) out.widened.push(name);
    }
  }
  return out;
}

/** Why a declared column's ENCODE does not fit its type, in Redshift's terms; undefined when all fit. */
export function encodingMisfit(d: EncodingDeclarations): string | undefined {
  for (const c of d.columns) {
    if (c.encoding === undefined || c.encoding === 'auto') continue;
    const type = parseColumnType(c.type.replace(/\(\s*max\s*\)/i, '(65535)'));
    if ('error' in type) continue; // types Forklift never declares (SUPER, TIME, ...): not checked
    const problem = encodingProblem(c.encoding, type.base);
    if (problem) return `invalid encoding type specified for column "${c.name}": ${problem}`;
  }
  return undefined;
}

/** Statements that record the declared encodings once the statement ran. */
export function recordEncodings(d: EncodingDeclarations, created: boolean): string[] {
  const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;
  const rows = [
    ...d.columns.filter((c) => c.encoding !== undefined).map((c) => ({ name: c.name, encoding: c.encoding as string })),
    ...d.altered,
  ];
  const table = `${lit(d.table)}::regclass`;
  // CREATE TABLE IF NOT EXISTS on an existing table declares nothing: its recorded encodings stay.
  const conflict = created ? 'DO NOTHING' : 'DO UPDATE SET encoding = EXCLUDED.encoding';
  return rows.map(
    (r) => `INSERT INTO local_redshift.column_encodings VALUES (${table}, ${lit(r.name)}, ${lit(r.encoding)}) ON CONFLICT (table_oid, column_name) ${conflict}`,
  );
}

/** Checks to run before an ALTER COLUMN … TYPE (the column's recorded encoding). */
export function widenChecks(d: EncodingDeclarations): string[] {
  const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;
  return d.widened.map((c) => `SELECT local_redshift.require_widenable(${lit(d.table)}::regclass, ${lit(c)})`);
}
