/**
 * What every command receives: the writers, the global options, the config and the
 * target (resolved once, on first use; tests inject their own), and the clock.
 */
import type { ForkliftConfig } from '../functions/core/config/schema';
import type { Io } from './format';
import { loadConfig, resolveTarget, type GlobalOptions, type Target } from './target';

/** Replacements for tests: an already running target, a fixed clock. */
export interface CliOverrides {
  /** Use this target instead of resolving --local / --outputs (its `close` is still called at the end). */
  target?: (config: ForkliftConfig) => Promise<Target> | Target;
  now?: () => Date;
  env?: NodeJS.ProcessEnv;
}

/** The command context. */
export interface CommandContext {
  io: Io;
  now(): Date;
  globals(): GlobalOptions;
  /** The validated config (ConfigError on problems). */
  config(): ForkliftConfig;
  /** The target, resolved on first call. */
  target(): Promise<Target>;
}

/** Build a context; `globals` reads the program's options when a command runs. */
export function createContext(io: Io, globals: () => GlobalOptions, overrides: CliOverrides = {}): CommandContext & { close(): Promise<void> } {
  let config: ForkliftConfig | undefined;
  let target: Promise<Target> | undefined;
  const ctx = {
    io,
    now: overrides.now ?? (() => new Date()),
    globals,
    config(): ForkliftConfig {
      config ??= loadConfig(globals(), overrides.env ?? process.env);
      return config;
    },
    target(): Promise<Target> {
      target ??= (async () => {
        const c = ctx.config();
        return overrides.target ? overrides.target(c) : resolveTarget(globals(), c);
      })();
      return target;
    },
    async close(): Promise<void> {
      if (!target) return;
      const t = await target.catch(() => undefined);
      await t?.close();
    },
  };
  return ctx;
}
