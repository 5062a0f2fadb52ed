import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createPlugin } from '../src/index.js';
import { fixture } from './fixtures.js';

const bytes = fixture('count_vowels');
const sha = createHash('sha256').update(bytes).digest('hex');

describe('loading plug-ins', () => {
  let server: Server;
  let base: string;
  let dir: string;
  const requests: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tenon-source-'));
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url} ${req.headers['x-token'] ?? ''}`.trim());
      if (req.url === '/plugin.wasm') res.end(bytes);
      else if (req.url === '/text') res.end('(module)');
      else {
        res.statusCode = 404;
        res.end('not found');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  test('from a URL, with the request headers given', async () => {
    using plugin = await createPlugin({ wasm: [{ url: `${base}/plugin.wasm`, headers: { 'x-token': 'secret' }, hash: sha }] });
    assert.deepEqual(plugin.call('count_vowels', 'aa').json(), { count: 2 });
    assert.ok(requests.includes('GET /plugin.wasm secret'));
  });

  test('a URL that answers 404 is a LOAD_FAILED error with the status', async () => {
    await assert.rejects(createPlugin(`${base}/missing.wasm`), { name: 'LoadError', code: 'LOAD_FAILED', message: /HTTP 404/ });
  });

  test('a hash that does not match is HASH_MISMATCH naming both hashes', async () => {
    await assert.rejects(createPlugin({ wasm: [{ url: `${base}/plugin.wasm`, hash: '0'.repeat(64) }] }), {
      name: 'ManifestError',
      code: 'HASH_MISMATCH',
      field: 'wasm[0].hash',
      message: new RegExp(`expected "${'0'.repeat(64)}", got "${sha}"`),
    });
  });

  test('base64 data in a manifest', async () => {
    using plugin = await createPlugin({ wasm: [{ data: Buffer.from(bytes).toString('base64'), hash: sha }] });
    assert.deepEqual(plugin.call('count_vowels', 'e').json(), { count: 1 });
  });

  test('a JSON manifest file resolves relative paths against its own folder', async () => {
    await writeFile(join(dir, 'cv.wasm'), bytes);
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ wasm: [{ path: 'cv.wasm' }], config: {} }));
    using plugin = await createPlugin(join(dir, 'manifest.json'));
    assert.deepEqual(plugin.call('count_vowels', 'io').json(), { count: 2 });
  });

  test('a missing file is a LOAD_FAILED error naming the path', async () => {
    await assert.rejects(createPlugin(join(dir, 'nope.wasm')), {
      code: 'LOAD_FAILED',
      message: /wasm\[0\]\.path ".*nope\.wasm": no such file/,
    });
  });

  test('WAT text, JSON, components and junk are recognised and refused by name', async () => {
    const cases: [Uint8Array, RegExp][] = [
      [Buffer.from('(module)'), /WAT text/],
      [Buffer.from('{"wasm": []}'), /JSON/],
      [new Uint8Array([0, 97, 115, 109, 0x0d, 0, 1, 0]), /component/],
      [new Uint8Array([1, 2, 3]), /no \\0asm magic/],
      [new Uint8Array(0), /empty/],
    ];
    for (const [data, message] of cases) {
      await assert.rejects(createPlugin(data), { code: 'LOAD_FAILED', message });
    }
    await assert.rejects(createPlugin(`${base}/text`), { code: 'LOAD_FAILED', message: /127\.0\.0\.1.*WAT text/ });
  });

  test('a JSON manifest given as text', async () => {
    using plugin = await createPlugin(JSON.stringify({ wasm: [{ data: Buffer.from(bytes).toString('base64') }] }));
    assert.ok(plugin.functionExists('count_vowels'));
  });
});
