import { isNumeric, isTemporal, parseColumnType, renderColumnType } from '../../../../functions/core/config/columnTypes';

describe('parseColumnType', () => {
  it.each([
    ['integer', { base: 'INTEGER' }],
    ['INT8', { base: 'BIGINT' }],
    ['varchar(36)', { base: 'VARCHAR', length: 36 }],
    ['varchar', { base: 'VARCHAR', length: 256 }],
    ['character varying ( 10 )', { base: 'VARCHAR', length: 10 }],
    ['char', { base: 'CHAR', length: 1 }],
    ['decimal(12,2)', { base: 'DECIMAL', precision: 12, scale: 2 }],
    ['numeric', { base: 'DECIMAL', precision: 18, scale: 0 }],
    ['double   precision', { base: 'DOUBLE PRECISION' }],
    ['float', { base: 'DOUBLE PRECISION' }],
    ['bool', { base: 'BOOLEAN' }],
    ['timestamp with time zone', { base: 'TIMESTAMPTZ' }],
    ['date', { base: 'DATE' }],
  ])('parses %p', (text, type) => {
    expect(parseColumnType(text)).toEqual(type);
  });

  it.each([
    ['strng', "unknown type 'strng'"],
    ['varchar(0)', "type 'varchar(0)': length must be 1..65535"],
    ['varchar(65536)', "type 'varchar(65536)': length must be 1..65535"],
    ['char(5000)', "type 'char(5000)': length must be 1..4096"],
    ['varchar(10,2)', "type 'varchar(10,2)' takes one length"],
    ['decimal(39,2)', "type 'decimal(39,2)': precision must be 1..38"],
    ['decimal(4,5)', "type 'decimal(4,5)': scale must not exceed precision"],
    ['integer(4)', "type 'integer(4)' takes no length or precision"],
    ['varchar(10); drop table x', "unknown type 'varchar(10); drop table x'"],
    ['', "unknown type ''"],
  ])('refuses %p', (text, error) => {
    expect(parseColumnType(text)).toEqual({ error });
  });
});

describe('renderColumnType and predicates', () => {
  it('renders the Redshift spelling', () => {
    expect(renderColumnType({ base: 'VARCHAR', length: 36 })).toBe('VARCHAR(36)');
    expect(renderColumnType({ base: 'DECIMAL', precision: 12, scale: 2 })).toBe('DECIMAL(12,2)');
    expect(renderColumnType({ base: 'DOUBLE PRECISION' })).toBe('DOUBLE PRECISION');
  });
  it('classifies temporal and numeric types', () => {
    expect(isTemporal({ base: 'TIMESTAMPTZ' })).toBe(true);
    expect(isTemporal({ base: 'VARCHAR', length: 10 })).toBe(false);
    expect(isNumeric({ base: 'REAL' })).toBe(true);
    expect(isNumeric({ base: 'BOOLEAN' })).toBe(false);
  });
});
