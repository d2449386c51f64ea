/** Read access for a table's configured groups. */
import { qualified, quoteIdent } from '../identifiers';

/** `GRANT USAGE ON SCHEMA` and `GRANT SELECT ON` the table, per group (idempotent). */
export function renderGrants(schema: string, table: string, groups: readonly string[]): string[] {
  return groups.flatMap((g) => [
    `GRANT USAGE ON SCHEMA ${quoteIdent(schema)} TO GROUP ${quoteIdent(g)}`,
    `GRANT SELECT ON ${qualified(schema, table)} TO GROUP ${quoteIdent(g)}`,
  ]);
}
