/**
 * Output helpers: where text goes (injected writers, so tests capture it), plain
 * aligned tables (cli-table3 without borders or colors), durations, sizes and dates.
 */
import Table from 'cli-table3';
import { isoSecond } from '../functions/core/dates';

/** Where the CLI writes. `stderrIsTTY` enables the progress bar. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** stdout is a terminal (colors/tables could be fancier; we stay plain either way). */
  stdoutIsTTY?: boolean;
  /** stderr is a terminal: progress bars are drawn only then. */
  stderrIsTTY?: boolean;
  /** The stream progress bars draw on (process.stderr in the real CLI). */
  progressStream?: NodeJS.WritableStream;
}

/** Write a line (adds the newline). */
export function println(write: (text: string) => void, line = ''): void {
  write(`${line}\n`);
}

const PLAIN_CHARS = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '',
  right: '', 'right-mid': '', middle: '  ',
};

/** A plain table: a header row, aligned columns separated by two spaces, no borders or colors. */
export function renderTable(head: string[], rows: Array<Array<string | number>>): string {
  const table = new Table({
    head,
    chars: PLAIN_CHARS,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
  });
  for (const row of rows) table.push(row.map((v) => (typeof v === 'number' ? String(v) : v)));
  return table
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
}

/** `0.8s`, `12s`, `3m05s`. */
export function formatSeconds(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const m = Math.floor(seconds / 60);
  return `${m}m${String(Math.round(seconds - m * 60)).padStart(2, '0')}s`;
}

/** `45m`, `3h20m`, `2d4h`. */
export function formatMinutes(minutes: number): string {
  if (minutes < 60) return `${minutes}m`;
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
  return `${Math.floor(minutes / 1440)}d${Math.floor((minutes % 1440) / 60)}h`;
}

/** `512 B`, `12.3 kB`, `4.0 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(1)} GB`;
}

/** A date as every message shows it (`2026-11-20T13:00:00Z`), or `-`. */
export function formatDate(date: Date | string | null | undefined): string {
  if (date === null || date === undefined || date === '') return '-';
  const d = typeof date === 'string' ? new Date(date) : date;
  return Number.isNaN(d.getTime()) ? String(date) : isoSecond(d);
}

/** One step of an execution's output: `('raw', 'visits', 2400, 0.8s)`. */
export function formatStep(step: { kind: string; name: string; rows: number; seconds: number }): string {
  return `('${step.kind}', '${step.name}', ${step.rows}, ${formatSeconds(step.seconds)})`;
}

/** Shorten one-line text for a table cell. */
export function truncate(text: string, max = 100): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}
