import { IdentifierError } from '../../../functions/core/errors';
import {
  RESERVED_WORDS,
  assertIdentifier,
  booleanLiteral,
  identifierProblem,
  integerLiteral,
  literal,
  qualified,
  quoteIdent,
  textLiteral,
  timestampLiteral,
} from '../../../functions/core/identifiers';

describe('identifiers', () => {
  it('quotes valid identifiers', () => {
    expect(quoteIdent('visits')).toBe('"visits"');
    expect(quoteIdent('_x$1')).toBe('"_x$1"');
    expect(qualified('events', 'visits')).toBe('"events"."visits"');
  });

  it.each([
    ['', 'is empty'],
    ['Visits', 'must start with a lowercase letter or underscore and contain only lowercase letters, digits, _ and $'],
    ['1abc', 'must start with a lowercase letter or underscore and contain only lowercase letters, digits, _ and $'],
    ['a"b', 'must start with a lowercase letter or underscore and contain only lowercase letters, digits, _ and $'],
    ['a b', 'must start with a lowercase letter or underscore and contain only lowercase letters, digits, _ and $'],
    ['user', 'is a Redshift reserved word'],
    ['select', 'is a Redshift reserved word'],
    ['partition', 'is a Redshift reserved word'],
    ['a'.repeat(128), 'is longer than 127 bytes'],
  ])('refuses %p', (name, problem) => {
    expect(identifierProblem(name)).toBe(problem);
    expect(() => quoteIdent(name)).toThrow(IdentifierError);
    expect(() => assertIdentifier(name)).toThrow(`invalid identifier '${name}': ${problem}`);
  });

  it('accepts 127 bytes and words that are only keywords, not reserved', () => {
    expect(identifierProblem('a'.repeat(127))).toBeUndefined();
    expect(identifierProblem('name')).toBeUndefined();
    expect(RESERVED_WORDS.has('user')).toBe(true);
  });

  it('refuses the qualified name when either part is bad', () => {
    expect(() => qualified('public', 'user')).toThrow("invalid identifier 'user': is a Redshift reserved word");
    expect(() => qualified('Public', 'visits')).toThrow(IdentifierError);
  });
});

describe('literals', () => {
  it('doubles quotes', () => {
    expect(literal("it's")).toBe("'it''s'");
    expect(literal("''")).toBe("''''''");
    expect(literal('events/visits/2026-11-20T13/')).toBe("'events/visits/2026-11-20T13/'");
  });

  it.each(['a\\b', 'a\nb', 'a\u0000b', 'a\u007fb', "x\\'; drop table y; --"])('refuses backslashes and control characters in %p', (value) => {
    expect(() => literal(value)).toThrow(IdentifierError);
    expect(() => literal(value)).toThrow('string literal contains a control character or backslash');
  });

  it('textLiteral cleans free text instead of refusing it', () => {
    expect(textLiteral("bad\nrow at C:\\x 'q'")).toBe("'bad row at C:/x ''q'''");
    expect(textLiteral('abcdef', 3)).toBe("'abc'");
  });

  it('renders timestamps in UTC to the second, and refuses invalid dates', () => {
    expect(timestampLiteral(new Date('2026-11-20T13:04:05.678Z'))).toBe("'2026-11-20 13:04:05.678'::timestamp");
    expect(timestampLiteral(new Date('2026-11-20T13:04:05.000Z'))).toBe("'2026-11-20 13:04:05'::timestamp");
    expect(() => timestampLiteral(new Date('nope'))).toThrow(IdentifierError);
  });

  it('renders integers and booleans', () => {
    expect(integerLiteral(42)).toBe('42');
    expect(integerLiteral(-7)).toBe('-7');
    expect(() => integerLiteral(1.5)).toThrow(IdentifierError);
    expect(() => integerLiteral(Number.MAX_SAFE_INTEGER + 1)).toThrow(IdentifierError);
    expect(booleanLiteral(true)).toBe('TRUE');
    expect(booleanLiteral(false)).toBe('FALSE');
  });
});
