/**
 * COPY ... FORMAT PARQUET through hyparquet (pure JS). hyparquet is an ES module
 * and this code base is CommonJS (and runs under jest's CommonJS loader), so it
 * is read in a worker thread where Node's own loader imports it.
 */
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { RecordProblem, type SourceRecord } from './types';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const hp = await import(workerData.url);
  const file = workerData.buffer;
  const metadata = hp.parquetMetadata(file);
  const columns = hp.parquetSchema(metadata).children.map((c) => c.element.name);
  let rows = [];
  await hp.parquetRead({ file, metadata, rowFormat: 'array', onComplete: (r) => { rows = r; } });
  parentPort.postMessage({ columns, rows });
})().catch((e) => parentPort.postMessage({ error: String(e && e.message || e) }));
`;

/** Column names and rows (arrays, file column order) of a Parquet file. */
export async function readParquet(bytes: Uint8Array): Promise<{ columns: string[]; rows: unknown[][] }> {
  const url = pathToFileURL(require.resolve('hyparquet')).href;
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { url, buffer }, transferList: [buffer as ArrayBuffer] });
    worker.once('message', (msg: { columns: string[]; rows: unknown[][] } | { error: string }) => {
      void worker.terminate();
      if ('error' in msg) reject(new Error(`Invalid Parquet file: ${msg.error}`));
      else resolve(msg);
    });
    worker.once('error', reject);
  });
}

/**
 * Parquet rows mapped to the table's columns by position, as Redshift maps columnar files: the
 * table (not the COPY's column list) must have exactly as many columns as the file
 * (Database Developer Guide, "COPY from columnar data formats").
 */
export async function* parquetRecords(bytes: Uint8Array, tableColumns: number, table: string): AsyncGenerator<SourceRecord> {
  const { columns, rows } = await readParquet(bytes);
  if (columns.length !== tableColumns) {
    throw new RecordProblem(
      `Parquet file has ${columns.length} columns (${columns.join(', ')}) but table '${table}' has ${tableColumns}: a columnar COPY needs the table's column count to equal the file's`,
      1,
      '',
      1202,
    );
  }
  let line = 0;
  for (const row of rows) {
    line++;
    yield { line, raw: JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)), values: row };
  }
}
