/**
 * The one place that turns names and values into SQL text. Identifiers are
 * validated (lowercase Redshift standard identifiers, not reserved) and always
 * quoted; literals are escaped. Nothing else in the codebase builds quoted SQL.
 */
import { IdentifierError } from './errors';

/** Lowercase because Redshift folds unquoted names to lowercase: one spelling, no surprises. */
const IDENTIFIER = /^[a-z_][a-z0-9_$]*$/;
export const MAX_IDENTIFIER_BYTES = 127;

/** Redshift reserved words (docs: "Reserved words"); a column named `user` must be refused, not quoted around. */
export const RESERVED_WORDS: ReadonlySet<string> = new Set(
  (
    'aes128 aes256 all allowoverwrite analyse analyze and any array as asc authorization az64 backup between binary ' +
    'blanksasnull both bytedict bzip2 case cast check collate column constraint create credentials cross current_date ' +
    'current_time current_timestamp current_user current_user_id default deferrable deflate defrag delta delta32k desc ' +
    'disable distinct do else emptyasnull enable encode encrypt encryption end except explicit false for foreign freeze ' +
    'from full globaldict256 globaldict64k grant group gzip having identity ignore ilike in initially inner intersect ' +
    'interval into is isnull join language leading left like limit localtime localtimestamp lun luns lzo lzop minus ' +
    'mostly16 mostly32 mostly8 natural new not notnull null nulls off offline offset oid old on only open or order outer ' +
    'overlaps parallel partition percent permissions pivot placing primary raw readratio recover references rejectlog ' +
    'resort respect restore right select session_user similar snapshot some sysdate system table tag tdes text255 ' +
    'text32k then timestamp to top trailing true truncatecolumns union unique unnest unpivot user using verbose wallet ' +
    'when where with without'
  ).split(' '),
);

/** Why `name` is not a usable identifier, or undefined when it is. */
export function identifierProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES) return `is longer than ${MAX_IDENTIFIER_BYTES} bytes`;
  if (!IDENTIFIER.test(name)) {
    return 'must start with a lowercase letter or underscore and contain only lowercase letters, digits, _ and $';
  }
  if (RESERVED_WORDS.has(name)) return 'is a Redshift reserved word';
  return undefined;
}

/** Throws IdentifierError unless `name` is a valid identifier. */
export function assertIdentifier(name: string): string {
  const problem = identifierProblem(name);
  if (problem) throw new IdentifierError(name, problem);
  return name;
}

/** `"name"`, after validation. */
export function quoteIdent(name: string): string {
  return `"${assertIdentifier(name)}"`;
}

/** `"schema"."table"`, after validation of both parts. */
export function qualified(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/**
 * A string literal. Quotes are doubled; control characters and backslashes are
 * refused because Redshift and Postgres disagree on backslash escapes, and no
 * value we send (keys, reasons, ids) needs them.
 */
export function literal(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(value)) {
    throw new IdentifierError(value, 'string literal contains a control character or backslash');
  }
  return `'${value.replace(/'/g, "''")}'`;
}

/** A literal for free text (error messages): control characters become spaces, backslashes slashes. */
export function textLiteral(value: string, maxLength = 4000): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = value.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/\\/g, '/').slice(0, maxLength);
  return `'${cleaned.replace(/'/g, "''")}'`;
}

/**
 * A TIMESTAMP literal from a Date, in UTC, at full precision: milliseconds are written when
 * not zero (Redshift TIMESTAMP holds microseconds), so distinct dates never share a value.
 */
export function timestampLiteral(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new IdentifierError(String(date), 'invalid date');
  const iso = date.toISOString();
  const text = iso.slice(20, 23) === '000' ? iso.slice(0, 19) : iso.slice(0, 23);
  return `'${text.replace('T', ' ')}'::timestamp`;
}

/** An integer literal, refusing anything that is not a safe integer. */
export function integerLiteral(value: number): string {
  if (!Number.isSafeInteger(value)) throw new IdentifierError(String(value), 'not a safe integer');
  return String(value);
}

/** TRUE / FALSE. */
export function booleanLiteral(value: boolean): string {
  return value ? 'TRUE' : 'FALSE';
}
