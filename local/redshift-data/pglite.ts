/**
 * Opens PGlite through Node's own module loader. PGlite's CommonJS build calls
 * `import()` internally, which jest's sandboxed loader refuses without
 * --experimental-vm-modules (and jest also replaces `createRequire`);
 * `Module._load` is Node's loader everywhere, so the same code runs under jest,
 * tsx and plain node.
 */
import nodeModule from 'node:module';
import type { PGlite, PGliteOptions } from '@electric-sql/pglite';

type PGliteModule = typeof import('@electric-sql/pglite');
type NativeLoader = { _load(request: string, parent: unknown, isMain: boolean): unknown };

/** Creates a PGlite instance (in memory, or persisted in `dataDir`). */
export async function openPGlite(dataDir?: string): Promise<PGlite> {
  const path = require.resolve('@electric-sql/pglite');
  const { PGlite: Ctor } = (nodeModule as unknown as NativeLoader)._load(path, null, false) as PGliteModule;
  const options: PGliteOptions = dataDir ? { dataDir } : {};
  return Ctor.create(options);
}
