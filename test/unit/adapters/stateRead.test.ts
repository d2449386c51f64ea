/**
 * readWarehouseState with a KnownRelationsCache, against a fake warehouse that keeps which
 * relations exist: CREATE ... IF NOT EXISTS adds them (a failed batch rolls back), the catalog
 * SELECT reports them, a SELECT of a missing audit table fails as Redshift does.
 */
import { KnownRelationsCache, readWarehouseState, type Row, type StatementInfo, type Warehouse } from '../../../functions/adapters/warehouse';
import { StatementFailedError } from '../../../functions/core/errors';
import { config } from '../core/sql/sql.helpers';

const candidates = [new Date('2026-11-20T13:00:00Z')];
const requests = [
  { table: 'visits', candidates },
  { table: 'campaigns', candidates: [] },
];
const isDdl = (sql: string): boolean => /^\s*(CREATE|ALTER)\b/i.test(sql);

class FakeWarehouse implements Warehouse {
  readonly existing = new Set<string>();
  readonly batches: string[][] = [];
  readonly executed: string[] = [];
  private readonly outcomes = new Map<string, { rows: Map<number, Row[]>; error?: string }>();
  /** A column the audit tables lack (an older version): SELECTs of load_files.etag fail until an ALTER TABLE. */
  missingColumn?: string;

  async execute(sql: string): Promise<string> {
    this.executed.push(sql);
    return this.run([sql]);
  }

  async batch(sqls: string[]): Promise<string> {
    this.batches.push(sqls);
    return this.run(sqls);
  }

  async waitFor(id: string): Promise<StatementInfo> {
    const error = this.outcomes.get(id)?.error;
    if (error !== undefined) throw new StatementFailedError(id, 'FAILED', error);
    return { id, status: 'FINISHED', subStatements: [] };
  }

  async results(id: string): Promise<Row[]> {
    const [batch, n] = id.split(':');
    return this.outcomes.get(batch!)?.rows.get(Number(n ?? 1)) ?? [];
  }

  drop(name: string): void {
    this.existing.delete(name);
  }

  /** Runs the statements as one transaction: creates are kept only when every statement succeeds. */
  private run(sqls: string[]): string {
    const id = `b${this.outcomes.size + 1}`;
    const now = new Set(this.existing);
    const rows = new Map<number, Row[]>();
    let error: string | undefined;
    sqls.forEach((sql, i) => {
      if (error !== undefined) return;
      const created = /^CREATE TABLE IF NOT EXISTS "([^"]+)"\."([^"]+)"/.exec(sql);
      if (created) now.add(`${created[1]}.${created[2]}`);
      if (sql.includes('information_schema.columns') && sql.includes("'column'")) {
        const out: Row[] = [];
        for (const m of sql.matchAll(/table_schema = '([^']+)' AND table_name = '([^']+)'\)/g)) {
          if (now.has(`${m[1]}.${m[2]}`)) out.push(['column', m[2]!, 'c', 'integer', null, 32, 0, 1, null]);
        }
        const audit = /table_schema = '([^']+)' AND table_name IN \(([^)]*)\)/.exec(sql)!;
        for (const name of audit[2]!.split(', ').map((s) => s.slice(1, -1))) if (now.has(`${audit[1]}.${name}`)) out.push(['relation', name, null, null, null, null, null, null, null]);
        rows.set(i + 1, out);
      }
      for (const m of sql.matchAll(/FROM "(forklift)"\."(loads|load_files)"/g)) {
        if (!now.has(`${m[1]}.${m[2]}`)) error = `ERROR: relation "${m[1]}.${m[2]}" does not exist`;
      }
      if (this.missingColumn && /"load_files"/.test(sql) && /\betag\b/.test(sql) && !isDdl(sql)) error = `ERROR: column "${this.missingColumn}" does not exist`;
      if (/^ALTER TABLE/.test(sql)) this.missingColumn = undefined;
    });
    if (error === undefined) for (const name of now) this.existing.add(name);
    this.outcomes.set(id, error === undefined ? { rows } : { rows, error });
    return id;
  }
}

const read = (w: Warehouse, cache?: KnownRelationsCache) => readWarehouseState(w, config, requests, undefined, cache);
const created = ['forklift.loads', 'forklift.load_files', 'forklift.affected_hours', 'events.visits', 'forklift.ledger__events__visits', 'public.campaigns', 'forklift.ledger__public__campaigns'];

describe('the warehouse-state read with a KnownRelationsCache', () => {
  it("a container's first read creates the audit tables, the tables and their ledgers; its next read is the four SELECTs, no DDL", async () => {
    const w = new FakeWarehouse();
    const cache = new KnownRelationsCache();
    const first = await read(w, cache);
    expect([...w.existing].sort()).toEqual([...created].sort());
    expect(first.get('visits')?.columns).toBeUndefined(); // the SELECT ran before the CREATE, as always
    const second = await read(w, cache);
    expect(w.batches).toHaveLength(2);
    expect(w.batches[0]!.filter(isDdl).length).toBeGreaterThan(0);
    expect(w.batches[1]!.filter(isDdl)).toEqual([]);
    expect(w.batches[1]).toHaveLength(4);
    expect(second.get('visits')?.columns).toEqual([{ name: 'c', type: { base: 'INTEGER' } }]);
  });

  it('without a cache every read renders its DDL (as before)', async () => {
    const w = new FakeWarehouse();
    await read(w);
    await read(w);
    expect(w.batches.map((b) => b.filter(isDdl).length > 0)).toEqual([true, true]);
  });

  it('a table only this read asks about gets its CREATEs, the known ones none', async () => {
    const w = new FakeWarehouse();
    const cache = new KnownRelationsCache();
    await readWarehouseState(w, config, [{ table: 'visits', candidates }], undefined, cache);
    await read(w, cache);
    expect(w.batches[1]!.filter(isDdl).map((s) => s.split(' (')[0])).toEqual([
      'CREATE SCHEMA IF NOT EXISTS "public"',
      'CREATE TABLE IF NOT EXISTS "public"."campaigns"',
      'CREATE TABLE IF NOT EXISTS "forklift"."ledger__public__campaigns"',
    ]);
    await read(w, cache);
    expect(w.batches[2]!.filter(isDdl)).toEqual([]);
  });

  it.each([
    ['a ledger', 'forklift.ledger__events__visits'],
    ['a target table', 'public.campaigns'],
    ['an audit table no SELECT reads', 'forklift.affected_hours'],
    ['an audit table the SELECTs read (the batch fails)', 'forklift.loads'],
    ['the file ledger (the batch fails)', 'forklift.load_files'],
  ])('%s dropped since: the read runs again with its DDL and recreates it; the next read is DDL-free again', async (_title, dropped) => {
    const w = new FakeWarehouse();
    const cache = new KnownRelationsCache();
    await read(w, cache);
    await read(w, cache);
    w.drop(dropped);
    await read(w, cache);
    expect(w.existing.has(dropped)).toBe(true);
    expect(w.batches.slice(2).map((b) => b.filter(isDdl).length > 0)).toEqual([false, true]);
    await read(w, cache);
    expect(w.batches).toHaveLength(5);
    expect(w.batches[4]!.filter(isDdl)).toEqual([]);
  });

  it('a DDL-free read on audit tables of an older version (no load_files.etag, no loads.planned_at) adds the columns and reads again, still without DDL', async () => {
    const w = new FakeWarehouse();
    const cache = new KnownRelationsCache();
    await read(w, cache);
    w.missingColumn = 'etag';
    await read(w, cache);
    expect(w.executed).toEqual([
      'ALTER TABLE "forklift"."load_files" ADD COLUMN "etag" VARCHAR(128)',
      'ALTER TABLE "forklift"."loads" ADD COLUMN "planned_at" TIMESTAMP',
    ]);
    expect(w.batches.slice(1).map((b) => b.length)).toEqual([4, 5, 4]); // the read, ensureAuditColumns' catalog batch, the read again
    expect(w.batches[3]!.filter(isDdl)).toEqual([]);
  });

  it('a failure other than a missing relation is not retried', async () => {
    const w = new FakeWarehouse();
    const cache = new KnownRelationsCache();
    await read(w, cache);
    w.missingColumn = 'nope';
    await expect(read(w, cache)).rejects.toThrow(/column "nope" does not exist/);
    expect(w.batches).toHaveLength(2);
  });
});
