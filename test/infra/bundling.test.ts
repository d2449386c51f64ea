/**
 * The function bundles' esbuild settings (infra/bundling.ts, used by the CDK stack and
 * `npm run build`): ES builds of the SDK, only the environment's credentials, no event-stream
 * codec, and only the schemas of the operations a function sends. The SDK calls the functions
 * make behave the same in a bundle with these settings as with esbuild's plain ones.
 */
import { execFile } from 'node:child_process';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { BUNDLE_TARGET, functionBuildOptions, literalSchemaKeys } from '../../infra/bundling';
import { startLocalS3 } from '../../local/s3';

const ROOT = resolve(__dirname, '..', '..');

/** The modules that end up in a function's bundle, and its code (metafile.inputs also lists modules that tree shaking dropped). */
async function bundled(name: string): Promise<{ inputs: string[]; code: string }> {
  const result = await build({ ...functionBuildOptions(name, `${name}.js`), write: false, metafile: true, sourcemap: false, logLevel: 'silent' });
  const output = Object.values(result.metafile.outputs)[0]!;
  return { inputs: Object.entries(output.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([path]) => path), code: result.outputFiles![0]!.text };
}

/** Runs `file` in a fresh node with only `env` as AWS settings; its stdout. */
function runNode(file: string, env: Record<string, string>): Promise<string> {
  return new Promise<string>((res, rej) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
    execFile(process.execPath, ['--no-warnings', file], { env: { ...clean, ...env } }, (err, out, stderr) => (err ? rej(new Error(`${err.message}\n${stderr}`)) : res(out.trim())));
  });
}

describe('function bundles', () => {
  test('discover bundles neither the browser user-agent parser nor the credential chain beyond the environment', async () => {
    const { inputs } = await bundled('discover');
    expect(inputs.filter((p) => /node_modules\/bowser\//.test(p))).toEqual([]);
    expect(inputs.filter((p) => /util-user-agent-browser/.test(p))).toEqual([]);
    expect(inputs.filter((p) => /credential-provider-(node|sso|ini|process|web-identity)\/|nested-clients\//.test(p))).toEqual([]);
    expect(inputs.some((p) => p.endsWith('functions/runtime/lambdaCredentials.ts'))).toBe(true);
    // ES builds: no CommonJS build of an SDK package is left.
    expect(inputs.filter((p) => /node_modules\/@(aws-sdk|smithy)\/.*\/dist-cjs\//.test(p))).toEqual([]);
  });

  test('prepare bundles neither the event-stream codec nor the schemas of S3 operations it never sends', async () => {
    const { inputs, code } = await bundled('prepare');
    expect(inputs.filter((p) => /@smithy\/core\/dist-es\/submodules\/event-streams\//.test(p))).toEqual([]);
    expect(inputs.some((p) => p.endsWith('functions/runtime/noEventStreams.ts'))).toBe(true);
    // The operations prepare sends keep their schemas; the rest of S3's API is gone.
    for (const kept of ['ListObjectsV2Request', 'HeadObjectOutput', 'PutObjectRequest']) expect(code).toContain(`"${kept}"`);
    for (const dropped of ['PutBucketLifecycleConfigurationRequest', 'SelectObjectContentRequest', 'ListBucketsOutput']) expect(code).not.toContain(`"${dropped}"`);
  });

  test('schema keys become the string literals their constants hold, in object position only', () => {
    const source = ['const _hH = "httpHeader";', 'const _x = "x-amz-\\"q\\"";', 'export var A$ = [3, n0, _A, { [_hH]: _x, [_other]: 1 }, [], [[0, { [_x]: 2 }]]];', 'const y = c ? [_hH]: 1;'].join('\n');
    expect(literalSchemaKeys(source).split('\n').slice(2)).toEqual([
      'export var A$ = [3, n0, _A, { "httpHeader": _x, [_other]: 1 }, [], [[0, { "x-amz-\\"q\\"": 2 }]]];',
      'const y = c ? [_hH]: 1;',
    ]);
  });

  test('the S3, Step Functions and Data API calls of the functions behave as with plain esbuild settings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forklift-bundling-'));
    const s3 = await startLocalS3({ buckets: ['forklift-bundle'] });
    const requests: Record<string, string[]> = { settings: [], plain: [] };
    let run: 'settings' | 'plain' = 'settings';
    const fake = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target']);
        requests[run]!.push(`${req.method} ${req.url} ${target} ${req.headers['content-type']} ${body}`);
        const json = (status: number, payload: unknown) => res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(payload));
        const input = JSON.parse(body || '{}') as Record<string, unknown>;
        if (target.endsWith('.StartExecution')) {
          if (input['name'] === 'taken') json(400, { __type: 'com.amazonaws.states#ExecutionAlreadyExists', message: 'taken' });
          else json(200, { executionArn: 'arn:aws:states:us-east-1:123456789012:execution:m:n1', startDate: 1_700_000_000.5 });
        } else if (target.endsWith('.ExecuteStatement')) {
          if (input['Sql'] === 'bad') json(400, { __type: 'ValidationException', message: 'bad sql' });
          else json(200, { Id: 'id-1', CreatedAt: 1_700_000_000, Database: 'dev', WorkgroupName: 'wg' });
        } else if (target.endsWith('.BatchExecuteStatement')) {
          json(200, { Id: 'id-2', CreatedAt: 1_700_000_000, Database: 'dev', WorkgroupName: 'wg' });
        } else if (target.endsWith('.DescribeStatement')) {
          json(200, { Id: 'id-2', Status: 'FAILED', Error: 'ERROR: boom', Duration: 1234, HasResultSet: false, CreatedAt: 1_700_000_000, UpdatedAt: 1_700_000_001,
            SubStatements: [{ Id: 'id-2:1', Status: 'FINISHED', Duration: 12, ResultRows: 3, HasResultSet: false }, { Id: 'id-2:2', Status: 'FAILED', Error: 'boom' }] });
        } else if (target.endsWith('.GetStatementResult')) {
          json(200, { Records: [[{ stringValue: 'a' }, { longValue: 2 }, { isNull: true }, { doubleValue: 1.5 }, { booleanValue: true }]], ColumnMetadata: [{ name: 'x', typeName: 'varchar' }], TotalNumRows: 1 });
        } else json(400, { __type: 'UnknownOperationException', message: target });
      });
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    try {
      const contents = `import { RedshiftDataClient, BatchExecuteStatementCommand, DescribeStatementCommand, ExecuteStatementCommand, GetStatementResultCommand } from '@aws-sdk/client-redshift-data';
        import { S3Client } from '@aws-sdk/client-s3';
        import { SFNClient } from '@aws-sdk/client-sfn';
        import { headObject, listObjects, putManifest } from './functions/adapters/s3';
        import { startExecution } from './functions/adapters/stepFunctions';
        const { S3, FAKE, BUCKET } = process.env;
        const strip = (o) => JSON.parse(JSON.stringify(o, (k, v) => (k === '$metadata' ? undefined : v)));
        const error = (e) => ({ name: e.name, message: e.message });
        (async () => {
          const region = 'us-east-1';
          const s3 = new S3Client({ region, endpoint: S3, forcePathStyle: true, maxAttempts: 1 });
          const out = {};
          out.put = await putManifest(s3, BUCKET, 'manifests/m.json', '{"entries":[]}');
          out.list = await listObjects(s3, BUCKET, 'manifests/');
          out.head = await headObject(s3, BUCKET, 'manifests/m.json');
          out.missing = (await headObject(s3, BUCKET, 'manifests/none.json')) ?? 'undefined';
          const sfn = new SFNClient({ region, endpoint: FAKE, maxAttempts: 1 });
          const arn = 'arn:aws:states:us-east-1:123456789012:stateMachine:m';
          out.started = await startExecution(sfn, arn, 'n1', { table: 'visits' });
          out.taken = await startExecution(sfn, arn, 'taken', { table: 'visits' });
          const rd = new RedshiftDataClient({ region, endpoint: FAKE, maxAttempts: 1 });
          const target = { WorkgroupName: 'wg', Database: 'dev' };
          out.exec = strip(await rd.send(new ExecuteStatementCommand({ ...target, Sql: 'select 1', StatementName: 's' })));
          out.bad = await rd.send(new ExecuteStatementCommand({ ...target, Sql: 'bad' })).then(() => 'no error', error);
          out.batch = strip(await rd.send(new BatchExecuteStatementCommand({ ...target, Sqls: ['begin', 'end'], StatementName: 'b' })));
          out.describe = strip(await rd.send(new DescribeStatementCommand({ Id: 'id-2' })));
          out.result = strip(await rd.send(new GetStatementResultCommand({ Id: 'id-1' })));
          console.log(JSON.stringify(out));
        })().catch((e) => console.log(JSON.stringify({ failed: error(e) })));`;
      const outputs: Record<string, Record<string, unknown>> = {};
      const plain: BuildOptions = { bundle: true, platform: 'node', target: BUNDLE_TARGET, format: 'cjs', minify: true };
      const builds: Record<'settings' | 'plain', BuildOptions> = { settings: { ...functionBuildOptions('prepare', ''), entryPoints: undefined, sourcemap: false }, plain };
      for (const key of ['settings', 'plain'] as const) {
        run = key;
        const outfile = join(dir, `${key}.js`);
        await build({ ...builds[key], outfile, logLevel: 'silent', stdin: { resolveDir: ROOT, loader: 'ts', contents } });
        const { port } = fake.address() as AddressInfo;
        const env = { S3: s3.endpoint, FAKE: `http://127.0.0.1:${port}`, BUCKET: 'forklift-bundle', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
        outputs[key] = JSON.parse(await runNode(outfile, env)) as Record<string, unknown>;
      }
      const settings = outputs['settings']!;
      // What the adapters make of the answers (the objects' modification times differ by run).
      const timeless = (o: Record<string, unknown>) => JSON.parse(JSON.stringify(o).replace(/"lastModified":"[^"]+"/g, '"lastModified":"T"')) as unknown;
      expect(settings['failed']).toBeUndefined();
      expect(settings).toMatchObject({
        put: 's3://forklift-bundle/manifests/m.json',
        head: { key: 'manifests/m.json', size: 14 },
        missing: 'undefined',
        started: { status: 'started', executionArn: 'arn:aws:states:us-east-1:123456789012:execution:m:n1' },
        taken: { status: 'already-exists' },
        bad: { name: 'ValidationException', message: 'bad sql' },
        describe: { Status: 'FAILED', Duration: 1234, SubStatements: [{ Id: 'id-2:1', ResultRows: 3 }, { Id: 'id-2:2', Error: 'boom' }] },
      });
      expect(timeless(settings)).toEqual(timeless(outputs['plain']!));
      // The same requests, byte for byte but the random idempotency token the SDK draws for each.
      const tokenless = (lines: string[]) => lines.map((l) => l.replace(/"ClientToken":"[0-9a-f-]{36}"/, '"ClientToken":"T"'));
      expect(requests['settings']!.length).toBe(7);
      expect(tokenless(requests['settings']!)).toEqual(tokenless(requests['plain']!));
    } finally {
      fake.close();
      await s3.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a bundled client signs with the credentials in the environment, and fails clearly without them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forklift-bundling-'));
    const headers: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      headers.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{"stateMachines":[]}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const outfile = join(dir, 'client.js');
      await build({
        ...functionBuildOptions('discover', outfile),
        entryPoints: undefined,
        sourcemap: false,
        logLevel: 'silent',
        stdin: {
          resolveDir: ROOT,
          loader: 'ts',
          contents: `import { SFNClient, ListStateMachinesCommand } from '@aws-sdk/client-sfn';
            new SFNClient({ region: 'eu-west-1', endpoint: process.env.ENDPOINT, maxAttempts: 1 })
              .send(new ListStateMachinesCommand({}))
              .then(() => console.log('ok'), (e) => console.log(e.name));`,
        },
      });
      const { port } = server.address() as AddressInfo;
      const run = (env: Record<string, string>) => runNode(outfile, { ENDPOINT: `http://127.0.0.1:${port}`, ...env });
      expect(await run({ AWS_ACCESS_KEY_ID: 'AKIDBUNDLETEST', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' })).toBe('ok');
      expect(headers).toHaveLength(1);
      expect(headers[0]!['authorization']).toContain('Credential=AKIDBUNDLETEST/');
      expect(headers[0]!['x-amz-security-token']).toBe('token');
      expect(await run({})).toBe('CredentialsProviderError');
      expect(headers).toHaveLength(1);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
