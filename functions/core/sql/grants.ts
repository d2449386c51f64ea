/**
 * Read access for a table's configured groups. Redshift fails a GRANT to a group that does
 * not exist (`ERROR: group "x" does not exist`), which would fail the whole load batch: the
 * load grants only to the groups the warehouse-state read found in `pg_group` (sql/state.ts),
 * and Prepare warns about the others (a later load grants once the group exists).
 */
import { literal, qualified, quoteIdent } from '../identifiers';

/** `GRANT USAGE ON SCHEMA` and `GRANT SELECT ON` the table, per group (idempotent). */
export function renderGrants(schema: string, table: string, groups: readonly string[]): string[] {
  return groups.flatMap((g) => [
    `GRANT USAGE ON SCHEMA ${quoteIdent(schema)} TO GROUP ${quoteIdent(g)}`,
    `GRANT SELECT ON ${qualified(schema, table)} TO GROUP ${quoteIdent(g)}`,
  ]);
}

/**
 * The configured groups split by existence: `granted` (existing, or all when `existing` was not
 * read) and `missing` (configured, absent from the warehouse: no GRANT is rendered for them).
 */
export function splitGrantees(configured: readonly string[], existing: ReadonlySet<string> | undefined): { granted: string[]; missing: string[] } {
  if (existing === undefined) return { granted: [...configured], missing: [] };
  return { granted: configured.filter((g) => existing.has(g)), missing: configured.filter((g) => !existing.has(g)) };
}

/** The condition selecting `groups` from `pg_group` (none: no row). */
export function groupsCondition(groups: readonly string[]): string {
  return groups.length ? `groname IN (${groups.map(literal).join(', ')})` : '1 = 0';
}

/**
 * Which of `groups` exist: `SELECT groname FROM pg_group` (a leader-node catalog table: a statement
 * of its own, never mixed with user tables). Its rows go to {@link parseExistingGroups}.
 */
export function renderExistingGroupsQuery(groups: readonly string[]): string {
  return `SELECT CAST(groname AS VARCHAR(127)) AS groname FROM pg_group WHERE ${groupsCondition([...new Set(groups)])} ORDER BY 1`;
}

/** The rows of {@link renderExistingGroupsQuery} as a set of group names. */
export function parseExistingGroups(rows: ReadonlyArray<ReadonlyArray<unknown>>): Set<string> {
  return new Set(rows.map((r) => String(r[0])));
}
