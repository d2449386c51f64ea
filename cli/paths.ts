/**
 * Paths a user types resolve from where they typed the command. `npm start` and `npm run
 * forklift` run in the package folder; npm keeps the caller's folder in INIT_CWD.
 */
import { isAbsolute, resolve } from 'node:path';

/** `path` as given on the command line, made absolute from the caller's working directory. */
export function fromInvocationDir(path: string, env: NodeJS.ProcessEnv = process.env): string {
  return isAbsolute(path) ? path : resolve(env['INIT_CWD'] ?? process.cwd(), path);
}
