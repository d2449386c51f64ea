import type { LoadMode } from '../../../functions/core/config/schema';
import { changedFiles, decideLoad, effectiveMode, fileIdentity, newFiles, type DecideLoadArgs } from '../../../functions/core/decide';

const d = (iso: string) => new Date(iso);
const NEWEST = d('2026-11-20T13:00:00Z');

function args(over: Partial<DecideLoadArgs> & { force?: boolean; truncate?: boolean }): DecideLoadArgs {
  const { force = false, truncate = false, ...rest } = over;
  return {
    table: 'visits',
    mode: 'append',
    olderPartitions: 'skip',
    partitionDate: NEWEST,
    state: { newestLoaded: NEWEST, partitionLoaded: false },
    flags: { force, truncate },
    ...rest,
  };
}

describe('decideLoad', () => {
  it('loads into an empty table', () => {
    expect(decideLoad(args({ state: { partitionLoaded: false } }))).toEqual({
      action: 'load',
      reason: "table 'visits' has no loaded partition yet: loading 2026-11-20T13:00:00Z",
      reload: false,
    });
  });

  describe('an adopted table (data, but no partition loaded by Forklift)', () => {
    const adopted = { partitionLoaded: false, newestData: d('2026-01-05T00:00:00Z') };
    it.each<[string, Partial<DecideLoadArgs> & { force?: boolean }, string, string]>([
      ['an older partition is skipped (skip policy)', { partitionDate: d('2026-01-03T00:00:00Z') }, 'skip', "partition 2026-01-03T00:00:00Z is older; the table's olderPartitions policy is 'skip'; use --force to load it"],
      ['an older partition loads (load policy)', { partitionDate: d('2026-01-03T00:00:00Z'), olderPartitions: 'load' }, 'load', "is older; loading it because the table's olderPartitions policy is 'load'"],
      ['an older partition loads with force', { partitionDate: d('2026-01-03T00:00:00Z'), force: true }, 'load', 'is older; loading it because of --force'],
      ['an older snapshot is skipped', { partitionDate: d('2026-01-03T00:00:00Z'), mode: 'truncate', olderPartitions: 'load' }, 'skip', 'a snapshot is replaced only by a newer one'],
      ['the period of the newest data loads', { partitionDate: d('2026-01-05T00:00:00Z') }, 'load', 'partition 2026-01-05T00:00:00Z is not older, loading it'],
      ['a newer partition loads', { partitionDate: d('2026-01-06T00:00:00Z') }, 'load', 'partition 2026-01-06T00:00:00Z is not older, loading it'],
    ])('%s', (_title, over, action, reason) => {
      const decision = decideLoad(args({ state: adopted, ...over }));
      expect(decision.action).toBe(action);
      expect(decision.reason).toContain("table 'visits' has no partition loaded by Forklift but holds data up to the partition 2026-01-05T00:00:00Z");
      expect(decision.reason).toContain(reason);
    });

    it('the audit wins once Forklift has loaded a partition', () => {
      expect(decideLoad(args({ state: { ...adopted, newestLoaded: NEWEST }, partitionDate: d('2026-11-20T14:00:00Z') })).reason).toContain('newer than the newest loaded partition');
    });
  });

  it('loads a newer partition', () => {
    expect(decideLoad(args({ partitionDate: d('2026-11-20T14:00:00Z') }))).toEqual({
      action: 'load',
      reason: "table 'visits': partition 2026-11-20T14:00:00Z is newer than the newest loaded partition 2026-11-20T13:00:00Z",
      reload: false,
    });
  });

  it('loads a newer snapshot in truncate mode', () => {
    expect(decideLoad(args({ mode: 'truncate', partitionDate: d('2026-11-21T00:00:00Z') }))).toMatchObject({ action: 'load', reload: false });
  });

  it('skips an already loaded partition unless forced', () => {
    const state = { newestLoaded: NEWEST, partitionLoaded: true };
    expect(decideLoad(args({ state }))).toEqual({
      action: 'skip',
      reason: "table 'visits': partition 2026-11-20T13:00:00Z is already loaded; use --force to reload it",
    });
    expect(decideLoad(args({ state, truncate: true }))).toMatchObject({ action: 'skip' });
    expect(decideLoad(args({ state, force: true }))).toEqual({
      action: 'load',
      reason: "table 'visits': partition 2026-11-20T13:00:00Z is already loaded; reloading it because of --force (its previous rows are replaced)",
      reload: true,
    });
  });

  describe('top-ups: files the ledger does not hold', () => {
    const loadedFiles = new Set(['p/a.json', 'p/b.json']);
    const state = { newestLoaded: NEWEST, partitionLoaded: true, loadedFiles };
    const listedKeys = ['p/a.json', 'p/b.json', 'p/c.json', 'p/d.json'];

    it('lists the new files, sorted and distinct; none when the listing or the ledger is unknown', () => {
      expect(newFiles(['p/d', 'p/a', 'p/c', 'p/d'], new Set(['p/a']))).toEqual(['p/c', 'p/d']);
      expect(newFiles(undefined, loadedFiles)).toEqual([]);
      expect(newFiles(listedKeys, undefined)).toEqual([]);
    });

    it('append: loads only the new files, without a reload', () => {
      expect(decideLoad(args({ state, listedKeys }))).toEqual({
        action: 'load',
        reason: "table 'visits': 2 new files arrived for partition 2026-11-20T13:00:00Z, already loaded: loading them",
        reload: false,
        newFilesOnly: true,
      });
      // an older partition too (append never puts older rows over newer ones)
      const older = { ...state, newestLoaded: d('2026-11-21T00:00:00Z') };
      expect(decideLoad(args({ state: older, listedKeys: [...listedKeys.slice(0, 2), 'p/e.json'] }))).toMatchObject({
        action: 'load',
        reason: expect.stringContaining('1 new file arrived'),
        newFilesOnly: true,
      });
    });

    it('file identity is key and ETag: a re-put with new content is a changed file, a bare ledger key holds every version', () => {
      expect(fileIdentity({ key: 'p/a.json', etag: 'e1' })).toBe('p/a.json#e1');
      expect(fileIdentity({ key: 'p/a.json' })).toBe('p/a.json');
      const ledger = new Set(['p/a.json#e1', 'p/legacy.json']);
      expect(newFiles(['p/a.json#e1', 'p/a.json#e2', 'p/legacy.json#e9', 'p/new.json#e3'], ledger)).toEqual(['p/a.json#e2', 'p/new.json#e3']);
      expect(changedFiles(['p/a.json#e1', 'p/a.json#e2', 'p/new.json#e3'], ledger)).toEqual(['p/a.json#e2']);
    });

    it('append: a file put again with new content reloads the whole partition (its old rows are replaced)', () => {
      const ledger = { ...state, loadedFiles: new Set(['p/a.json#e1', 'p/b.json#e1']) };
      expect(decideLoad(args({ state: ledger, listedKeys: ['p/a.json#e2', 'p/b.json#e1'] }))).toEqual({
        action: 'load',
        reason: "table 'visits': 1 file was put again with new content for partition 2026-11-20T13:00:00Z, already loaded: reloading the partition (append mode: its rows are replaced by the current files)",
        reload: true,
      });
      expect(decideLoad(args({ state: ledger, listedKeys: ['p/a.json#e1', 'p/b.json#e1'] }))).toMatchObject({ action: 'skip' });
    });

    it('no new file: skips as already loaded; force still reloads the whole partition', () => {
      expect(decideLoad(args({ state, listedKeys: ['p/a.json'] }))).toMatchObject({ action: 'skip', reason: expect.stringContaining('is already loaded; use --force') });
      expect(decideLoad(args({ state, listedKeys, force: true }))).toEqual({ action: 'load', reason: expect.stringContaining('because of --force'), reload: true });
    });

    it('replace, merge, truncate: reload the whole partition', () => {
      for (const mode of ['replace', 'merge', 'truncate'] as LoadMode[]) {
        expect(decideLoad(args({ mode, state, listedKeys }))).toEqual({
          action: 'load',
          reason: `table 'visits': 2 new files arrived for partition 2026-11-20T13:00:00Z, already loaded: reloading the partition (${mode} mode: its previous rows are replaced)`,
          reload: true,
        });
      }
      expect(decideLoad(args({ state, listedKeys, truncate: true }))).toMatchObject({ action: 'load', reload: true });
    });

    it('an older partition: replace and merge (newest-wins) top up; a snapshot is never replaced by an older one', () => {
      const older = { ...state, newestLoaded: d('2026-11-21T00:00:00Z') };
      expect(decideLoad(args({ mode: 'replace', state: older, listedKeys }))).toMatchObject({ action: 'load', reload: true });
      expect(decideLoad(args({ mode: 'merge', state: older, listedKeys }))).toMatchObject({ action: 'load', reload: true, reason: expect.stringContaining('merge is newest-wins per key') });
      expect(decideLoad(args({ mode: 'merge', state: older, listedKeys, olderPartitions: 'load' }))).toMatchObject({ action: 'load', reload: true });
      expect(decideLoad(args({ mode: 'truncate', state: older, listedKeys, olderPartitions: 'load' }))).toMatchObject({
        action: 'skip',
        reason: expect.stringContaining('a snapshot is replaced only by a newer one'),
      });
    });
  });

  it('skips an already loaded older partition unless forced, then reloads it', () => {
    const state = { newestLoaded: d('2026-11-21T00:00:00Z'), partitionLoaded: true };
    expect(decideLoad(args({ state, olderPartitions: 'load' }))).toMatchObject({ action: 'skip' });
    expect(decideLoad(args({ state, force: true }))).toMatchObject({ action: 'load', reload: true });
  });

  it('loads a partition at the newest date that has no load of its own', () => {
    expect(decideLoad(args({}))).toMatchObject({ action: 'load', reload: false });
  });

  const OLDER = d('2026-11-20T10:00:00Z');
  const older = "table 'visits': partition 2026-11-20T10:00:00Z is older than the newest loaded partition 2026-11-20T13:00:00Z";
  const snapshotSkip = `${older}; a snapshot is replaced only by a newer one (truncate does not imply force); use --force to load it anyway`;

  // older partition × olderPartitions policy × force × snapshot (truncate mode or truncate flag)
  it.each<[LoadMode, 'skip' | 'load', boolean, boolean, 'load' | 'skip', string]>([
    ['append', 'skip', false, false, 'skip', `${older}; the table's olderPartitions policy is 'skip'; use --force to load it`],
    ['append', 'load', false, false, 'load', `${older}; loading it because the table's olderPartitions policy is 'load'`],
    ['append', 'skip', true, false, 'load', `${older}; loading it because of --force`],
    ['append', 'load', true, false, 'load', `${older}; loading it because of --force`],
    ['append', 'skip', false, true, 'skip', snapshotSkip],
    ['append', 'load', false, true, 'skip', snapshotSkip],
    ['append', 'skip', true, true, 'load', `${older}; loading it because of --force`],
    ['truncate', 'skip', false, false, 'skip', snapshotSkip],
    ['truncate', 'load', false, false, 'skip', snapshotSkip],
    ['truncate', 'load', true, false, 'load', `${older}; loading it because of --force`],
    ['replace', 'load', false, false, 'load', `${older}; loading it because the table's olderPartitions policy is 'load'`],
    ['merge', 'skip', false, false, 'load', `${older}; loading it: merge is newest-wins per key, so only its new keys and rows newer than the stored ones land`],
  ])('older partition, mode %s, policy %s, force %s, truncate flag %s → %s', (mode, olderPartitions, force, truncate, action, reason) => {
    const decision = decideLoad(args({ mode, olderPartitions, force, truncate, partitionDate: OLDER }));
    expect(decision).toEqual(action === 'load' ? { action, reason, reload: false } : { action, reason });
  });
});

describe('effectiveMode', () => {
  it('is the table mode unless the truncate flag is set', () => {
    expect(effectiveMode('append', { truncate: false })).toBe('append');
    expect(effectiveMode('merge', { truncate: true })).toBe('truncate');
    expect(effectiveMode('truncate', { truncate: false })).toBe('truncate');
  });
});
