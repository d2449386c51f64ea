/**
 * The thread the local Data API's PGlite runs on (started by database.ts). PGlite runs each
 * query synchronously inside WASM; here that stalls only this thread, so the main thread keeps
 * serving S3, Step Functions, the handlers and DescribeStatement while a COPY runs, as on AWS.
 *
 * Plain CommonJS on purpose: a worker thread is outside jest's sandbox and ts-jest's transform,
 * so a `.ts` worker would need a TypeScript loader registered in it (tsx), which costs start-up
 * time and differs between jest, tsx and node. This file runs as is under all three.
 *
 * Messages in: { id, op: 'query', sql, params, rowMode, textTypes, blob } | { id, op: 'exec', sql }
 * | { id, op: 'serve', port, host } | { id, op: 'close' }. Out: { id, ok: true, result } |
 * { id, ok: false, error }. One message is handled at a time, in arrival order.
 */
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require('@electric-sql/pglite');

const keepText = (v) => v;
/** Parsers that keep the given types as Postgres text (functions cannot cross threads; their type ids can). */
function textParsers(types) {
  if (!types) return undefined;
  const parsers = {};
  for (const oid of types) parsers[oid] = keepText;
  return parsers;
}

/** The error's own fields (message, code, detail, ...) in a form postMessage can clone. */
function plainError(e) {
  const out = { message: typeof e?.message === 'string' ? e.message : String(e) };
  if (e && typeof e === 'object') {
    for (const [k, v] of Object.entries(e)) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    }
    if (typeof e.name === 'string') out.name = e.name;
  }
  return out;
}

const ready = PGlite.create(workerData.dataDir ? { dataDir: workerData.dataDir } : {});
ready.catch(() => undefined); // reported to the first request (the server's INIT_SQL)
let socketServer;

async function handle(msg, db) {
  switch (msg.op) {
    case 'query': {
      const options = {};
      if (msg.rowMode) options.rowMode = msg.rowMode;
      const parsers = textParsers(msg.textTypes);
      if (parsers) options.parsers = parsers;
      if (msg.blob) options.blob = new Blob([msg.blob]);
      return db.query(msg.sql, msg.params ?? [], options);
    }
    case 'exec':
      return db.exec(msg.sql);
    case 'serve': {
      // psql into the same warehouse (`npm start -- --serve`): the socket server needs the PGlite itself.
      const { PGLiteSocketServer } = require('@electric-sql/pglite-socket');
      socketServer = new PGLiteSocketServer({ db, port: msg.port, host: msg.host });
      await socketServer.start();
      return undefined;
    }
    case 'unserve':
      if (socketServer) await socketServer.stop();
      socketServer = undefined;
      return undefined;
    case 'close':
      if (socketServer) await socketServer.stop();
      await db.close();
      return undefined;
    default:
      throw new Error(`unknown operation ${msg.op}`);
  }
}

let chain = Promise.resolve();
parentPort.on('message', (msg) => {
  chain = chain.then(async () => {
    try {
      const result = await handle(msg, await ready);
      parentPort.postMessage({ id: msg.id, ok: true, result });
    } catch (e) {
      parentPort.postMessage({ id: msg.id, ok: false, error: plainError(e) });
    }
  });
});
