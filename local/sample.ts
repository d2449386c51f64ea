/**
 * Realistic sample data for the example config: visits of visitors to
 * campaigns, hourly partitions of several gzipped JSON files each (with a few
 * late events that belong to an earlier hour), and a daily CSV snapshot of
 * the campaigns dimension. Deterministic for a given clock and seed, so a
 * second `npm start` in the same hour re-sends the same objects (and is
 * skipped), and a later one adds only the new hours.
 */
import { gzipSync } from 'node:zlib';

/** One object to put into the landing bucket. */
export interface SampleObject {
  key: string;
  body: Buffer;
}

/** What to generate. */
export interface SampleOptions {
  /** The newest complete hour is the one before `now`. */
  now: Date;
  days: number;
  filesPerPartition: number;
  visitsPerHour: number;
  campaigns: number;
  seed?: number;
}

export const DEFAULT_SAMPLE: Omit<SampleOptions, 'now'> = {
  days: 3,
  filesPerPartition: 3,
  visitsPerHour: 120,
  campaigns: 8,
};

/** mulberry32: a tiny deterministic PRNG, so samples are reproducible. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOUR = 3_600_000;
const pad = (n: number) => String(n).padStart(2, '0');
const hourKey = (d: Date) =>
  `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}`;
const uuidish = (rnd: () => number) =>
  Array.from({ length: 32 }, () => Math.floor(rnd() * 16).toString(16)).join('').replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');

/** Generate the objects (visits partitions, then one campaigns snapshot per day). */
export function generateSample(options: SampleOptions): SampleObject[] {
  const lastHour = Math.floor(options.now.getTime() / HOUR) * HOUR - HOUR;
  const firstHour = lastHour - (options.days * 24 - 1) * HOUR;
  const visitors = Array.from({ length: Math.max(10, options.visitsPerHour * 2) }, (_, i) => {
    const r = random((options.seed ?? 7) * 1000 + i);
    return uuidish(r);
  });
  const objects: SampleObject[] = [];
  for (let hour = firstHour; hour <= lastHour; hour += HOUR) {
    // Seeded by the hour, so an hour's partition is the same whenever it is generated.
    const rnd = random((options.seed ?? 7) ^ (hour / HOUR));
    const lines: string[][] = Array.from({ length: options.filesPerPartition }, () => []);
    for (let i = 0; i < options.visitsPerHour; i++) {
      const late = i % 50 === 49 && hour > firstHour; // ~2% of events arrive an hour late
      const at = new Date(hour - (late ? HOUR : 0) + Math.floor(rnd() * HOUR));
      const campaign = 1 + Math.floor(rnd() * rnd() * options.campaigns);
      const row = {
        visit_id: uuidish(rnd),
        visitor_id: visitors[Math.floor(rnd() * rnd() * visitors.length)],
        campaign_id: campaign,
        visited_at: at.toISOString(),
        duration_ms: Math.floor(rnd() * 120_000),
        revenue: rnd() < 0.1 ? Number((rnd() * 200).toFixed(2)) : null,
      };
      lines[i % options.filesPerPartition]!.push(JSON.stringify(row));
    }
    lines.forEach((file, n) => {
      objects.push({
        key: `events/visits/${hourKey(new Date(hour))}/part-${String(n).padStart(4, '0')}.json.gz`,
        body: gzipSync(file.join('\n') + '\n'),
      });
    });
  }
  const channels = ['search', 'social', 'email', 'display'];
  for (let day = Math.floor(firstHour / (24 * HOUR)); day <= Math.floor(lastHour / (24 * HOUR)); day++) {
    const at = new Date(day * 24 * HOUR);
    const rows = ['campaign_id,name,channel,updated_at'];
    for (let c = 1; c <= options.campaigns; c++) {
      rows.push(`${c},"Campaign ${c}, ${channels[c % channels.length]}",${channels[c % channels.length]},${at.toISOString()}`);
    }
    objects.push({ key: `dims/campaigns/campaigns_${at.toISOString().slice(0, 19)}Z.csv`, body: Buffer.from(rows.join('\n') + '\n') });
  }
  return objects;
}
