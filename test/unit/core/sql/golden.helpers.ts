/** Golden SQL files: one statement per line, numbered; compared exactly. `UPDATE_GOLDEN=1` rewrites them (then review the diff). */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = join(__dirname, '__golden__');

/** Statements as the golden text: `N: sql` per line. */
export function goldenText(sqls: readonly string[]): string {
  return sqls.map((s, i) => `${i + 1}: ${s}`).join('\n') + '\n';
}

/** Asserts `sqls` equals `__golden__/<name>.sql` exactly. */
export function expectGolden(name: string, sqls: readonly string[]): void {
  const file = join(DIR, `${name}.sql`);
  const text = goldenText(sqls);
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(file)) {
    if (process.env['CI']) throw new Error(`golden file ${file} is missing`);
    mkdirSync(DIR, { recursive: true });
    writeFileSync(file, text);
  }
  expect(text).toBe(readFileSync(file, 'utf8'));
}
