/** Option values shared by the CLI and the npm scripts (bench, bundle-report). */
import { UsageError } from './errors';

/** `text` as an integer ≥ 1 (≥ 0 with `allowZero`), or a UsageError naming `option`. */
export function positiveInteger(text: string, option: string, allowZero = false): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) throw new UsageError(`${option} must be a${allowZero ? ' non-negative' : ' positive'} integer, not '${text}'`);
  return n;
}
