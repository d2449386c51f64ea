import { ForkliftError } from '../../../../functions/core/errors';
import { renderLoadBatch } from '../../../../functions/core/sql/load';
import { LOAD_BATCH_FIXED_STATEMENTS, assertFitsBatch, encodingIssues, encodingProblem, loadBatchIssues } from '../../../../functions/core/sql/limits';
import { config } from './sql.helpers';

const clone = () => structuredClone(config);

describe('Data API batch limits', () => {
  it('a batch takes 1 to 40 SQLs of at most 100 KB', () => {
    expect(() => assertFitsBatch(Array(40).fill('SELECT 1'), 'x')).not.toThrow();
    expect(() => assertFitsBatch(Array(41).fill('SELECT 1'), 'the load batch')).toThrow('the load batch has 41 statements; a Data API batch takes 1 to 40');
    expect(() => assertFitsBatch([`SELECT '${'x'.repeat(100 * 1024)}'`], 'x')).toThrow(/statement 1 is 102409 bytes/);
  });

  it('the largest load batch is the fixed statements plus 2 per read-only group (the synthesis check counts the same)', () => {
    const p = { table: 'visits', date: new Date('2026-11-20T13:00:00Z'), end: new Date('2026-11-20T14:00:00Z'), key: 'k/', files: [{ key: 'k/a', size: 1, lastModified: new Date(0) }] };
    const batch = renderLoadBatch({
      // truncate, reloaded, unforced: the snapshot check and the ledger DELETE both run
      config, table: 'visits', loadId: 'l', partition: p, manifestUrl: 's3://b/m', fileListUrl: 's3://b/f', mode: 'truncate',
      reload: true, force: false, reason: 'r', addColumns: [], startedAt: new Date(0), plannedAt: new Date(0),
    });
    expect(batch.sqls).toHaveLength(LOAD_BATCH_FIXED_STATEMENTS + 2 * config.tables['visits']!.readOnlyGroups.length);
    // New columns add one statement each; too many fail the plan with a clear error instead of the Data API's.
    const add = Array.from({ length: 30 }, (_, i) => `ALTER TABLE "events"."visits" ADD COLUMN "c${i}" INTEGER`);
    expect(() =>
      renderLoadBatch({ config, table: 'visits', loadId: 'l', partition: p, manifestUrl: 's3://b/m', fileListUrl: 's3://b/f', mode: 'append', reload: false, force: false, reason: 'r', addColumns: add, startedAt: new Date(0), plannedAt: new Date(0) }),
    ).toThrow(new ForkliftError("the load batch of table 'visits' (adding 30 columns) has 44 statements; a Data API batch takes 1 to 40"));
  });

  it('synthesis refuses read-only groups the load batch cannot hold', () => {
    const c = clone();
    c.tables['visits']!.readOnlyGroups = Array.from({ length: 12 }, (_, i) => `g${i}`);
    expect(loadBatchIssues(c)).toEqual([]);
    c.tables['visits']!.readOnlyGroups.push('g12');
    expect(loadBatchIssues(c)).toEqual([
      { path: 'tables.visits.readOnlyGroups', message: '13 groups make the load batch 41 statements (a Data API batch takes at most 40): use at most 12' },
    ]);
  });
});

describe('ENCODE must suit the column type', () => {
  it.each([
    ['az64', 'VARCHAR', false],
    ['az64', 'BOOLEAN', false],
    ['az64', 'TIMESTAMP', true],
    ['text255', 'INTEGER', false],
    ['text32k', 'VARCHAR', true],
    ['text255', 'CHAR', false],
    ['bytedict', 'BOOLEAN', false],
    ['delta32k', 'SMALLINT', false],
    ['mostly32', 'INTEGER', false],
    ['lzo', 'REAL', false],
    ['zstd', 'BOOLEAN', true],
    ['runlength', 'DOUBLE PRECISION', true],
  ] as const)('%s on %s: %s', (encoding, base, ok) => {
    expect(encodingProblem(encoding, base) === undefined).toBe(ok);
  });

  it('config cross-check names the column', () => {
    const c = clone();
    c.tables['visits']!.columns['visitor_id']!.encoding = 'az64';
    expect(encodingIssues(c)).toEqual([
      {
        path: 'tables.visits.columns.visitor_id.encoding',
        message:
          'encoding AZ64 cannot be used on a VARCHAR column (it takes SMALLINT, INTEGER, BIGINT, DECIMAL, DATE, TIMESTAMP, TIMESTAMPTZ); ' +
          'for VARCHAR use one of RAW, BYTEDICT, LZO, RUNLENGTH, TEXT255, TEXT32K, ZSTD',
      },
    ]);
    expect(encodingIssues(config)).toEqual([]);
  });
});
