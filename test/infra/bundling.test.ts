/**
 * The function bundles' esbuild settings (infra/bundling.ts, used by the CDK stack and
 * `npm run build`): ES builds of the SDK, and only the environment's credentials.
 */
import { execFile } from 'node:child_process';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { functionBuildOptions } from '../../infra/bundling';

const ROOT = resolve(__dirname, '..', '..');

describe('function bundles', () => {
  test('discover bundles neither the browser user-agent parser nor the credential chain beyond the environment', async () => {
    const result = await build({ ...functionBuildOptions('discover', 'discover.js'), write: false, metafile: true, sourcemap: false, logLevel: 'silent' });
    // What ends up in the bundle (metafile.inputs also lists modules that tree shaking dropped).
    const output = Object.values(result.metafile.outputs)[0]!;
    const inputs = Object.entries(output.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([path]) => path);
    expect(inputs.filter((p) => /node_modules\/bowser\//.test(p))).toEqual([]);
    expect(inputs.filter((p) => /util-user-agent-browser/.test(p))).toEqual([]);
    expect(inputs.filter((p) => /credential-provider-(node|sso|ini|process|web-identity)\/|nested-clients\//.test(p))).toEqual([]);
    expect(inputs.some((p) => p.endsWith('functions/runtime/lambdaCredentials.ts'))).toBe(true);
    // ES builds: no CommonJS build of an SDK package is left.
    expect(inputs.filter((p) => /node_modules\/@(aws-sdk|smithy)\/.*\/dist-cjs\//.test(p))).toEqual([]);
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
      const run = (env: Record<string, string>) =>
        new Promise<string>((res, rej) => {
          const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
          execFile(process.execPath, ['--no-warnings', outfile], { env: { ...clean, ENDPOINT: `http://127.0.0.1:${port}`, ...env } }, (err, out) =>
            err ? rej(err) : res(out.trim()),
          );
        });
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
