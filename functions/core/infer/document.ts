/**
 * `forklift init`, part 4: the config file, written with the `yaml` Document API so that
 * every guess carries its evidence as a comment. Tables whose content could not be sampled
 * (bzip2/zstd without a decoder, unknown formats) are written as comments, not guessed.
 */
import { Document, isMap, isNode, isScalar, isSeq, type YAMLMap } from 'yaml';
import { isoSecond } from '../dates';
import type { TableGuess } from './columns';
import type { TableLayout } from './layout';

/** What was learnt about one table's files. */
export interface FormatGuess {
  type: 'json' | 'csv' | 'parquet';
  delimiter?: string;
  header?: boolean;
  compression: 'none' | 'gzip' | 'bzip2' | 'zstd';
  evidence: string;
}

/** A table, ready to write, or the reason it cannot be. */
export interface TableDraft {
  layout: TableLayout;
  format?: FormatGuess;
  guess?: TableGuess;
  /** Set when the table cannot be configured from the sample (written commented out). */
  unsampled?: string;
  /** How many objects and bytes were sampled. */
  sampledObjects: number;
  sampledBytes: number;
}

/** Everything the config file says. */
export interface InitDocument {
  source: string;
  bucketName: string;
  existingBucket: boolean;
  tables: TableDraft[];
  aggregate?: 'hour' | 'day';
  now: Date;
}

/** The partition summary line of a table: keys matched, not matched, the date range. */
export function layoutSummary(layout: TableLayout): string {
  const total = layout.matched.length + layout.unmatched.length;
  const range = layout.first && layout.last ? `, ${isoSecond(layout.first)} .. ${isoSecond(layout.last)}` : '';
  const partitions = layout.kind === 'object' ? `${layout.partitions.toLocaleString('en-US')} partition${layout.partitions === 1 ? '' : 's'} of one object each` : `${layout.partitions.toLocaleString('en-US')} ${layout.granularity === 'day' ? 'daily' : `${layout.granularity}ly`} partition${layout.partitions === 1 ? '' : 's'}`;
  return `${layout.matched.length.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} keys under ${layout.prefix} match ${layout.partition} (${layout.unmatched.length.toLocaleString('en-US')} do not): ${partitions}${range}`;
}

/** The map under `key` (the document is built from plain objects, so it is one). */
function mapAt(map: YAMLMap, key: string): YAMLMap {
  const node = map.get(key, true);
  if (!isMap(node)) throw new Error(`config document: '${key}' is not a map`);
  return node;
}

function commentKey(map: YAMLMap, key: string, comment: string): void {
  const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
  if (pair && isScalar(pair.key)) pair.key.commentBefore = comment.split('\n').map((l) => ` ${l}`).join('\n');
}

function commentValue(map: YAMLMap, key: string, comment: string): void {
  const node = map.get(key, true);
  if (isNode(node)) node.comment = ` ${comment}`;
}

/** The aggregate proposed for a table, as config (count by the data-date column, low-cardinality text as dimensions). */
export function proposedAggregate(draft: TableDraft, grain: 'hour' | 'day'): { name: string; value: Record<string, unknown>; evidence: string } | undefined {
  const guess = draft.guess;
  if (!guess?.dataDateColumn || guess.primaryKey) return undefined;
  const dims = guess.columns.filter((c) => c.distinct !== undefined).map((c) => c.name);
  return {
    name: `${draft.layout.name}_${grain === 'hour' ? 'hourly' : 'daily'}`,
    value: { schema: 'public', source: draft.layout.name, timeColumn: guess.dataDateColumn, grain, dimensions: dims, measures: { rows: { fn: 'count' } } },
    evidence: dims.length
      ? `dimensions: text columns with few distinct values in the sample (${guess.columns.filter((c) => c.distinct !== undefined).map((c) => `${c.name}: ${c.distinct}`).join(', ')})`
      : 'no low-cardinality text column in the sample: no dimensions',
  };
}

/** Render the config file. */
export function renderInitConfig(input: InitDocument): string {
  const ready = input.tables.filter((t) => t.guess && t.format && t.guess.dataDateColumn && t.guess.columns.length > 0);
  const tables: Record<string, unknown> = {};
  for (const t of ready) {
    const g = t.guess!;
    const f = t.format!;
    const format = f.type === 'csv' ? { type: 'csv', header: f.header, delimiter: f.delimiter } : f.type === 'json' ? { type: 'json', jsonpaths: g.jsonpaths } : { type: 'parquet' };
    const snapshot = g.primaryKey !== undefined;
    tables[t.layout.name] = {
      schema: 'public',
      prefix: t.layout.prefix,
      partition: t.layout.partition,
      format,
      compression: f.type === 'parquet' ? 'none' : f.compression,
      columns: Object.fromEntries(g.columns.map((c) => [c.name, { type: c.type, nullable: c.nullable }])),
      dataDateColumn: g.dataDateColumn,
      mode: snapshot ? 'truncate' : 'append',
      ...(snapshot ? { primaryKey: [g.primaryKey] } : {}),
      olderPartitions: snapshot ? 'skip' : 'load',
      completeness: t.layout.marker ? { marker: t.layout.marker } : { quietSeconds: 0 },
      ...(g.timeFormat !== 'auto' ? { timeFormat: g.timeFormat } : {}),
    };
  }
  const aggregates: Record<string, unknown> = {};
  const proposals = ready.map((t) => proposedAggregate(t, input.aggregate ?? 'hour')).filter((p) => p !== undefined);
  if (input.aggregate) for (const p of proposals) aggregates[p.name] = p.value;

  const doc = new Document({
    warehouse: { database: 'dev', workgroupName: 'default', copyRoleArn: 'arn:aws:iam::123456789012:role/forklift-copy' },
    landing: { bucketName: input.bucketName, ...(input.existingBucket ? { existing: true } : {}) },
    tables,
    ...(input.aggregate ? { aggregates } : {}),
  });
  doc.commentBefore = [
    ` Written by \`forklift init --from ${input.source}\` on ${isoSecond(input.now)}.`,
    ' Every guess says its evidence; review them (and the placeholders under warehouse), then run forklift validate.',
  ].join('\n');
  const root = doc.contents as YAMLMap;
  commentKey(root, 'warehouse', 'placeholders: your Redshift database, Serverless workgroup (or clusterIdentifier + dbUser) and the COPY role');
  commentKey(root, 'landing', input.existingBucket ? `the bucket the keys were listed in (existing: Forklift does not create it)` : `objects of ${input.source} are keys of this bucket (npm start -- --data puts them there)`);
  const tablesNode = mapAt(root, 'tables');
  for (const t of ready) {
    const g = t.guess!;
    const f = t.format!;
    const node = mapAt(tablesNode, t.layout.name);
    commentKey(tablesNode, t.layout.name, `${layoutSummary(t.layout)}\nsampled ${t.sampledObjects} object${t.sampledObjects === 1 ? '' : 's'} (${t.sampledBytes.toLocaleString('en-US')} bytes), ${g.rows.toLocaleString('en-US')} rows`);
    commentKey(node, 'schema', 'placeholder: the Redshift schema of the table');
    commentKey(node, 'partition', `the date in the keys; ${t.layout.unmatched.length ? `${t.layout.unmatched.length} keys do not match, e.g. ${t.layout.unmatched[0]!.key}` : 'every key under the prefix matches'}`);
    mapAt(node, 'format').flow = true;
    commentValue(node, 'format', f.evidence);
    if (f.type !== 'parquet') commentValue(node, 'compression', f.compression === 'none' ? 'no compression magic number in the sampled objects' : `magic number of ${f.compression} in the sampled objects`);
    else commentValue(node, 'compression', 'Parquet compresses inside the file');
    const columns = mapAt(node, 'columns');
    for (const c of g.columns) {
      const col = columns.get(c.name, true);
      if (isMap(col)) col.flow = true;
      commentKey(columns, c.name, `${c.source !== c.name ? `from '${c.source}': ` : ''}${c.evidence}`);
    }
    if (g.skipped.length) columns.comment = g.skipped.map((s) => ` not loaded: ${s.reason}`).join('\n');
    commentValue(node, 'dataDateColumn', g.dataDateEvidence);
    commentValue(node, 'mode', g.primaryKey ? `snapshot-like: ${g.snapshotEvidence}` : 'each partition adds new rows (no key repeats across sampled partitions)');
    const pk = node.get('primaryKey', true);
    if (isSeq(pk)) pk.flow = true;
    const completeness = node.get('completeness', true);
    if (isMap(completeness)) completeness.flow = true;
    if (g.primaryKey) commentValue(node, 'primaryKey', 'the likely key of the snapshot (used by merge mode)');
    commentValue(node, 'olderPartitions', g.primaryKey ? 'only the newest snapshot matters' : 'a late partition is new data: load it');
    commentValue(node, 'completeness', t.layout.marker ? `every partition folder has a ${t.layout.marker}` : 'load a partition as soon as a file lands');
    if (g.timeFormat !== 'auto') commentValue(node, 'timeFormat', g.timeFormatEvidence ?? '');
    if (f.type === 'json' && g.jsonpaths === 'auto ignorecase') {
      commentValue(mapAt(node, 'format'), 'jsonpaths', 'some keys are not lowercase');
    }
  }
  const trailer: string[] = [];
  for (const t of input.tables.filter((x) => !ready.includes(x))) {
    const why = t.unsampled ?? (t.guess && !t.guess.dataDateColumn ? t.guess.dataDateEvidence : 'no rows could be sampled');
    trailer.push(` table '${t.layout.name}' left out: ${why}`, `   ${layoutSummary(t.layout)}`);
    trailer.push(`   ${t.layout.name}:`, `     prefix: ${t.layout.prefix}`, `     partition: "${t.layout.partition}"`);
    if (t.format) trailer.push(`     format: { type: ${t.format.type} }`, `     compression: ${t.format.compression}`);
    trailer.push('     columns: {}   # fill in', '     dataDateColumn: ...   # fill in');
  }
  if (!input.aggregate && proposals.length) {
    trailer.push(' A proposed aggregate per table (forklift init --aggregate hour|day writes it); to use it, uncomment:', ' aggregates:');
    for (const p of proposals) {
      const text = new Document({ [p.name]: p.value }).toString().trimEnd().split('\n');
      trailer.push(`   # ${p.evidence}`, ...text.map((l) => `   ${l}`));
    }
  } else if (input.aggregate) {
    const aggregatesNode = mapAt(root, 'aggregates');
    for (const p of proposals) commentKey(aggregatesNode, p.name, `count by ${String(p.value['timeColumn'])} per ${input.aggregate}; ${p.evidence}`);
  }
  if (trailer.length) doc.comment = trailer.join('\n');
  const text = doc.toString({ lineWidth: 0 });
  return text.endsWith('\n') ? text : `${text}\n`;
}
