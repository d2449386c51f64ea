/**
 * SORTKEY on the local stack: a BRIN index, so that range filters skip what Redshift's zone
 * maps skip.
 *
 * On Redshift a table's rows are stored in sort-key order in 1 MB blocks, and each block's
 * zone map (min/max per column) lets a range predicate on the leading sort-key column skip
 * the blocks outside the range. PGlite's closest analogue is a BRIN index: the min/max of a
 * column per range of 128 pages (8 KiB each, so also 1 MiB). A compound sort key (the default)
 * is effective on its first column only, so that column gets the index; an interleaved one
 * weighs every column equally, so they all do. DISTKEY and ENCODE stay dropped (dialect.ts):
 * there are no slices nor compression to model locally.
 *
 * The index is named `<table>_sortkey` in the table's schema: `ALTER TABLE … ALTER SORTKEY`
 * replaces it, and `ALTER SORTKEY NONE` or `AUTO` drops it.
 *
 * Zone maps are current as soon as a block is written; a BRIN index only summarizes new pages
 * when asked (autovacuum, which PGlite lacks), and the planner only picks it with the column's
 * correlation statistic. So after every INSERT or COPY into a table with a sort key, the same
 * transaction summarizes the new pages, and gathers the sort-key columns' statistics when they
 * are missing or the table grew by more than 10% since (sampled lightly: STATISTICS 10, i.e.
 * 3,000 rows; only their correlation matters here).
 */
import { type Token, identName, keyword } from './sqlText';

/** Run at every start (with dialect.ts INIT_SQL): refreshes a table's sort-key index, if it has one. */
export const SORT_KEY_INIT_SQL = `
CREATE OR REPLACE FUNCTION public.forklift_sortkey_refresh(rel regclass) RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE idx regclass; cols text;
BEGIN
  SELECT i.indexrelid::regclass, string_agg(quote_ident(a.attname), ', ') INTO idx, cols
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_class tc ON tc.oid = i.indrelid
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
  WHERE i.indrelid = rel AND ic.relname = left(tc.relname || '_sortkey', 63)
  GROUP BY i.indexrelid;
  IF idx IS NULL THEN RETURN; END IF;
  PERFORM brin_summarize_new_values(idx);
  -- Statistics when missing or when the table grew by more than 10% since they were gathered
  -- (Redshift's analyze_threshold_percent is 10 too): not after every write, which costs a sample.
  IF NOT EXISTS (SELECT 1 FROM pg_statistic WHERE starelid = rel)
     OR pg_relation_size(rel) / current_setting('block_size')::int > 1.1 * (SELECT relpages FROM pg_class WHERE oid = rel) + 8 THEN
    EXECUTE format('ANALYZE %s (%s)', rel, cols);
  END IF;
END $$;
`;

/** A table's sort key as its DDL declares it. */
export interface SortKey {
  /** Unquoted names. */
  schema?: string;
  table: string;
  /** The sort-key columns, in order; empty when the key is NONE or AUTO. */
  columns: string[];
  interleaved: boolean;
}

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const isName = (t: Token | undefined): t is Token => t !== undefined && (t.kind === 'word' || t.kind === 'ident');
const isPunct = (t: Token | undefined, text: string): boolean => t?.kind === 'punct' && t.text === text;

/** `[schema.]table` starting at sig[i]; undefined when the tokens are no table name. */
function tableName(sig: Token[], i: number): { schema?: string; table: string } | undefined {
  const first = sig[i];
  if (!isName(first)) return undefined;
  if (isPunct(sig[i + 1], '.') && isName(sig[i + 2])) return { schema: identName(first), table: identName(sig[i + 2]!) };
  return { table: identName(first) };
}

/** The column names of `( a, b )` starting at sig[open]. */
function columnList(sig: Token[], open: number): string[] {
  const columns: string[] = [];
  for (let j = open + 1; j < sig.length && !isPunct(sig[j], ')'); j++) if (isName(sig[j])) columns.push(identName(sig[j]!));
  return columns;
}

/**
 * The sort key a CREATE TABLE declares (significant tokens): the table-level `[COMPOUND |
 * INTERLEAVED] SORTKEY (cols)`, else a column's own `SORTKEY` attribute; undefined when none.
 */
export function createTableSortKey(sig: Token[]): SortKey | undefined {
  if (keyword(sig[0]) !== 'CREATE') return undefined;
  let i = sig.findIndex((t) => keyword(t) === 'TABLE');
  if (i < 0) return undefined;
  i++;
  if (keyword(sig[i]) === 'IF' && keyword(sig[i + 1]) === 'NOT' && keyword(sig[i + 2]) === 'EXISTS') i += 3;
  const name = tableName(sig, i);
  if (!name) return undefined;
  let depth = 0;
  let columnStart = -1;
  let columnLevel: string | undefined;
  for (let j = i; j < sig.length; j++) {
    const t = sig[j]!;
    if (isPunct(t, '(')) {
      depth++;
      if (depth === 1) columnStart = j + 1;
      continue;
    }
    if (isPunct(t, ')')) {
      depth--;
      continue;
    }
    if (depth === 1 && isPunct(t, ',')) columnStart = j + 1;
    if (keyword(t) !== 'SORTKEY') continue;
    if (depth === 0 && isPunct(sig[j + 1], '(')) {
      return { ...name, columns: columnList(sig, j + 1), interleaved: keyword(sig[j - 1]) === 'INTERLEAVED' };
    }
    if (depth === 1 && columnStart >= 0 && isName(sig[columnStart])) columnLevel ??= identName(sig[columnStart]!);
  }
  return columnLevel ? { ...name, columns: [columnLevel], interleaved: false } : undefined;
}

/** The new sort key of `ALTER TABLE t ALTER [COMPOUND | INTERLEAVED] SORTKEY (cols | NONE | AUTO)`. */
export function alterTableSortKey(sig: Token[]): SortKey | undefined {
  if (keyword(sig[0]) !== 'ALTER' || keyword(sig[1]) !== 'TABLE') return undefined;
  const name = tableName(sig, 2);
  if (!name) return undefined;
  let j = name.schema === undefined ? 3 : 5;
  if (keyword(sig[j]) !== 'ALTER') return undefined;
  j++;
  const interleaved = keyword(sig[j]) === 'INTERLEAVED';
  if (keyword(sig[j]) === 'COMPOUND' || interleaved) j++;
  if (keyword(sig[j]) !== 'SORTKEY') return undefined;
  return { ...name, columns: isPunct(sig[j + 1], '(') ? columnList(sig, j + 1) : [], interleaved };
}

/** The index's name: `<table>_sortkey` (Postgres keeps the first 63 bytes of a name). */
function indexName(key: SortKey): string {
  return `${key.table}_sortkey`;
}

/** Drops the table's sort-key index (if any). */
export function dropSortKeyIndex(key: SortKey): string {
  return `DROP INDEX IF EXISTS ${key.schema === undefined ? '' : `${quote(key.schema)}.`}${quote(indexName(key))}`;
}

/** Creates the table's sort-key index (and light statistics on its columns); [] when the key has no columns (NONE, AUTO). */
export function createSortKeyIndex(key: SortKey): string[] {
  const columns = key.interleaved ? key.columns : key.columns.slice(0, 1);
  if (columns.length === 0) return [];
  const table = `${key.schema === undefined ? '' : `${quote(key.schema)}.`}${quote(key.table)}`;
  return [
    `CREATE INDEX IF NOT EXISTS ${quote(indexName(key))} ON ${table} USING brin (${columns.map(quote).join(', ')})`,
    ...columns.map((c) => `ALTER TABLE ${table} ALTER COLUMN ${quote(c)} SET STATISTICS 10`),
    `SELECT public.forklift_sortkey_refresh('${table.replace(/'/g, "''")}'::regclass)`,
  ];
}

/** After `INSERT INTO t …` or `COPY t …` (significant tokens): keep t's sort-key index current ([] for other statements). */
export function sortKeyRefresh(sig: Token[]): string[] {
  const first = keyword(sig[0]);
  const at = first === 'COPY' ? 1 : first === 'INSERT' && keyword(sig[1]) === 'INTO' ? 2 : -1;
  const name = at < 0 ? undefined : tableName(sig, at);
  if (!name) return [];
  const table = `${name.schema === undefined ? '' : `${quote(name.schema)}.`}${quote(name.table)}`;
  return [`SELECT public.forklift_sortkey_refresh('${table.replace(/'/g, "''")}'::regclass)`];
}
