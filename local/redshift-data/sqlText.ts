/**
 * A small SQL lexer: enough of Redshift/Postgres lexical rules (strings, quoted
 * identifiers, dollar quotes, comments) to split statements and rewrite clauses
 * without touching text inside literals.
 */

/** Token kinds; `word` is an unquoted identifier or keyword. */
export type TokenKind = 'word' | 'ident' | 'string' | 'number' | 'param' | 'punct' | 'space' | 'comment';

/** One lexical token with its exact source text. */
export interface Token {
  kind: TokenKind;
  text: string;
}

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;

/** Splits SQL into tokens; concatenating every token's text gives back the input. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = sql.length;
  const push = (kind: TokenKind, end: number): void => {
    tokens.push({ kind, text: sql.slice(i, end) });
    i = end;
  };
  while (i < n) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (/\s/.test(c)) {
      let j = i + 1;
      while (j < n && /\s/.test(sql[j] as string)) j++;
      push('space', j);
    } else if (c === '-' && next === '-') {
      const j = sql.indexOf('\n', i);
      push('comment', j < 0 ? n : j);
    } else if (c === '/' && next === '*') {
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (sql.startsWith('/*', j)) {
          depth++;
          j += 2;
        } else if (sql.startsWith('*/', j)) {
          depth--;
          j += 2;
        } else j++;
      }
      push('comment', j);
    } else if (c === "'" || ((c === 'E' || c === 'e') && next === "'")) {
      const escapes = c !== "'";
      let j = escapes ? i + 2 : i + 1;
      while (j < n) {
        const d = sql[j];
        if (escapes && d === '\\') j += 2;
        else if (d === "'") {
          if (sql[j + 1] === "'") j += 2;
          else {
            j++;
            break;
          }
        } else j++;
      }
      push('string', Math.min(j, n));
    } else if (c === '"') {
      let j = i + 1;
      while (j < n) {
        if (sql[j] === '"') {
          if (sql[j + 1] === '"') j += 2;
          else {
            j++;
            break;
          }
        } else j++;
      }
      push('ident', Math.min(j, n));
    } else if (c === '$' && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(sql.slice(i, i + 64))) {
      const tag = (/^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64)) as RegExpExecArray)[0];
      const end = sql.indexOf(tag, i + tag.length);
      push('string', end < 0 ? n : end + tag.length);
    } else if (c === '$' && next !== undefined && /[0-9]/.test(next)) {
      let j = i + 1;
      while (j < n && /[0-9]/.test(sql[j] as string)) j++;
      push('param', j);
    } else if (c === ':' && next === ':') {
      push('punct', i + 2);
    } else if (c === ':' && next !== undefined && WORD_START.test(next)) {
      let j = i + 1;
      while (j < n && WORD_CHAR.test(sql[j] as string)) j++;
      push('param', j);
    } else if (/[0-9]/.test(c) || (c === '.' && next !== undefined && /[0-9]/.test(next))) {
      const m = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(sql.slice(i)) as RegExpExecArray;
      push('number', i + m[0].length);
    } else if (WORD_START.test(c)) {
      let j = i + 1;
      while (j < n && WORD_CHAR.test(sql[j] as string)) j++;
      push('word', j);
    } else {
      push('punct', i + 1);
    }
  }
  return tokens;
}

/** True for tokens that carry no meaning (whitespace, comments). */
export function isTrivia(t: Token): boolean {
  return t.kind === 'space' || t.kind === 'comment';
}

/** The upper-cased keyword of a word token, or '' for any other token. */
export function keyword(t: Token | undefined): string {
  return t && t.kind === 'word' ? t.text.toUpperCase() : '';
}

/** Splits a script on top-level semicolons; empty statements are dropped. */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let current: Token[] = [];
  const flush = (): void => {
    if (current.some((t) => !isTrivia(t))) out.push(current.map((t) => t.text).join('').trim());
    current = [];
  };
  for (const t of tokenize(sql)) {
    if (t.kind === 'punct' && t.text === ';') flush();
    else current.push(t);
  }
  flush();
  return out;
}

/** The meaningful tokens of a statement (no whitespace or comments). */
export function significant(tokens: Token[]): Token[] {
  return tokens.filter((t) => !isTrivia(t));
}

/** The text of a string literal token, unquoted ('' and E'' escapes resolved). */
export function unquoteString(t: Token): string {
  if (t.text.startsWith('$')) {
    const tag = (/^\$[^$]*\$/.exec(t.text) as RegExpExecArray)[0];
    return t.text.slice(tag.length, t.text.length - tag.length);
  }
  if (/^[eE]'/.test(t.text)) {
    return t.text
      .slice(2, -1)
      .replace(/''/g, "'")
      .replace(/\\(.)/g, (_m, ch: string) => ({ n: '\n', t: '\t', r: '\r' })[ch] ?? ch);
  }
  return t.text.slice(1, -1).replace(/''/g, "'");
}

/** The name an identifier token denotes: quoted as written, unquoted folded to lowercase. */
export function identName(t: Token): string {
  if (t.kind === 'ident') return t.text.slice(1, -1).replace(/""/g, '"');
  return t.text.toLowerCase();
}
