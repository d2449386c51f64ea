/**
 * Where a soak's time goes, when `FORKLIFT_BENCH_SOAK_PROFILE=<file>` is set: every 10 s a line on
 * stderr (phase, PGlite busy time, submissions finished and made, the event loop's delay and the
 * three statement shapes that took the most PGlite time in that window), and at the end `<file>`
 * (JSON): per statement shape (literals and numbers replaced), count, total, mean and max time, the
 * mean per phase (a statement that grows with the audit tables shows a rising mean), the windows,
 * and the calls per service and action. A diagnostic: nothing here is asserted.
 */
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { LocalPipeline } from '../local/pipeline';

/** A statement's shape: string literals as `?`, numbers as `N`, literal lists as `(?...)`, cut to 160 characters. */
export function statementShape(sql: string): string {
  return sql
    .replace(/'(?:[^']|'')*'/g, '?')
    .replace(/\b\d+(\.\d+)?\b/g, 'N')
    .replace(/\((\s*\?\s*,)+\s*\?\s*\)/g, '(?...)')
    .replace(/\s+/g, ' ')
    .slice(0, 160);
}

interface ShapeTimes {
  n: number;
  ns: number;
  maxNs: number;
  byPhase: Record<string, { n: number; ns: number }>;
}

const WINDOW_MS = 10_000;
const ms = (ns: number) => Math.round(ns / 1e6);

/** Starts recording; `phase` names what the soak does from now on; `stop` writes the file. */
export function startSoakProfile(p: LocalPipeline, file: string): { phase(name: string): void; stop(): void } {
  const t0 = Date.now();
  const elapsed = () => Math.round((Date.now() - t0) / 1000);
  let phase = 'start';
  const shapes = new Map<string, ShapeTimes>();
  const windows: Array<Record<string, unknown>> = [];
  let window = new Map<string, { n: number; ns: number }>();
  let busyNs = 0;
  let finished = 0;
  let submitted = 0;
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  const stopListening = p.stack.redshiftData.server.onStatement((record, sub) => {
    if (sub && (sub.status === 'FINISHED' || sub.status === 'FAILED')) {
      const shape = statementShape(sub.sql);
      const s = shapes.get(shape) ?? { n: 0, ns: 0, maxNs: 0, byPhase: {} };
      s.n++;
      s.ns += sub.durationNs;
      s.maxNs = Math.max(s.maxNs, sub.durationNs);
      const inPhase = (s.byPhase[phase] ??= { n: 0, ns: 0 });
      inPhase.n++;
      inPhase.ns += sub.durationNs;
      shapes.set(shape, s);
      const w = window.get(shape) ?? { n: 0, ns: 0 };
      w.n++;
      w.ns += sub.durationNs;
      window.set(shape, w);
    }
    if (!sub && record.status === 'SUBMITTED') submitted++;
    if (!sub && (record.status === 'FINISHED' || record.status === 'FAILED' || record.status === 'ABORTED')) {
      busyNs += record.durationNs;
      finished++;
    }
  });
  const tick = setInterval(() => {
    const top = [...window].sort((a, b) => b[1].ns - a[1].ns).slice(0, 3).map(([shape, w]) => ({ shape: shape.slice(0, 70), n: w.n, ms: ms(w.ns) }));
    const line = { t: elapsed(), phase, busyMs: ms(busyNs), finished, submitted, loopDelayMeanMs: ms(delay.mean), loopDelayMaxMs: ms(delay.max), top };
    windows.push(line);
    process.stderr.write(`[soak profile] ${JSON.stringify(line)}\n`);
    window = new Map();
    busyNs = 0;
    finished = 0;
    submitted = 0;
    delay.reset();
  }, WINDOW_MS);
  tick.unref();
  return {
    phase(name) {
      phase = name;
      process.stderr.write(`[soak profile] t=${elapsed()}s phase ${name}\n`);
    },
    stop() {
      clearInterval(tick);
      stopListening();
      delay.disable();
      const byShape = [...shapes]
        .sort((a, b) => b[1].ns - a[1].ns)
        .map(([shape, s]) => ({
          shape,
          n: s.n,
          totalMs: ms(s.ns),
          meanMs: Number((s.ns / s.n / 1e6).toFixed(2)),
          maxMs: ms(s.maxNs),
          meanMsByPhase: Object.fromEntries(Object.entries(s.byPhase).map(([k, v]) => [k, Number((v.ns / v.n / 1e6).toFixed(2))])),
        }));
      writeFileSync(file, JSON.stringify({ shapes: byShape, windows, calls: p.stack.faults.callCounts() }, null, 1));
    },
  };
}
