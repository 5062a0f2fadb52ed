import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { tenon } from './run-tenon.js';

const PG_SKIP = process.env.TENON_PG_URL === undefined ? 'TENON_PG_URL is not set: PostgreSQL skipped' : false;
const BIN = fileURLToPath(new URL('../bin/tenon.js', import.meta.url));
const fixture = (name: string): string => fileURLToPath(new URL(`../../runtime/test/fixtures/build/${name}.wasm`, import.meta.url));

interface Served {
  child: ChildProcess;
  url: string;
  /** The operator key, when this start generated and printed it. */
  printedKey: string | undefined;
  stdout: () => string;
}

/** `tenon serve --port 0` in a child process, until it prints the address it listens on. */
async function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], {
    env: { ...process.env, TENON_OPERATOR_KEY: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk;
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`tenon serve exited ${code}: ${err}`)));
  });
  return { child, url, printedKey: /operator key \(shown once[^)]*\): (\S+)/.exec(out)?.[1], stdout: () => out };
}

async function stop(served: Served): Promise<number | null> {
  const exited = once(served.child, 'exit');
  served.child.kill('SIGTERM');
  const [code] = await exited;
  return code as number | null;
}

async function api(url: string, key: string, method: string, path: string, body?: unknown): Promise<Record<string, string>> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${await response.clone().text()}`);
  return (await response.json()) as Record<string, string>;
}

const VOWELS = {
  name: 'text.vowels',
  function: 'count_vowels',
  input: { type: 'string' },
  output: { type: 'object', properties: { count: { type: 'integer' } }, required: ['count'] },
  limits: { fuel: 1_000_000, timeoutMs: 1000, maxPages: 16, maxOutputBytes: 4096, maxModuleBytes: 65_536 },
  simulations: [{ name: 'greeting', input: 'Hello, World!', expect: { output: { count: 3 } } }],
};

describe('tenon serve and tenon push', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tenon-serve-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('serve prints a generated operator key once; push uploads, prints the report, exits 0 validated and 1 rejected', async () => {
    const data = join(dir, 'data');
    const first = await serve(['--data', data]);
    let plugin: string;
    let partnerKey: string;
    try {
      assert.match(first.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(first.printedKey !== undefined, first.stdout());
      await api(first.url, first.printedKey, 'POST', '/v1/extension-points', VOWELS);
      const partner = await api(first.url, first.printedKey, 'POST', '/v1/partners', { name: 'alice' });
      partnerKey = partner.key!;
      plugin = (await api(first.url, partnerKey, 'POST', '/v1/plugins', { name: 'vowels', extensionPoint: 'text.vowels' })).id!;

      const validated = await tenon(['push', fixture('count_vowels'), '--plugin', plugin, '--server', first.url, '--key', partnerKey]);
      assert.equal(validated.status, 0, validated.stderr);
      assert.match(validated.stdout, /^version \S+ validated \(sha256 [0-9a-f]{64}, \d+ bytes/);
      assert.match(validated.stdout, /ok {3}greeting: fuel \d+ of 1000000 \(\d+\.\d%\)/);

      const rejected = await tenon(['push', fixture('missing_import'), '--plugin', plugin, '--server', first.url, '--key', partnerKey]);
      assert.equal(rejected.status, 1, rejected.stderr);
      assert.match(rejected.stdout, /rejected/);
      assert.match(rejected.stdout, /FAIL imports: /);
    } finally {
      assert.equal(await stop(first), 0);
    }

    // Restarted on the same data: the key is not printed again, and the stored one still works.
    const second = await serve(['--data', data]);
    try {
      assert.equal(second.printedKey, undefined, second.stdout());
      const versions = await fetch(`${second.url}/v1/plugins/${plugin}/versions`, {
        headers: { authorization: `Bearer ${first.printedKey}` },
      });
      assert.equal(((await versions.json()) as unknown[]).length, 2);
    } finally {
      await stop(second);
    }
  });

  test('TENON_OPERATOR_KEY is the operator key and nothing is printed; push reads TENON_SERVER and TENON_KEY', async () => {
    const key = 'tok_from_the_environment_0123456789';
    const served = await serve(['--data', join(dir, 'env')], { TENON_OPERATOR_KEY: key });
    const saved = { server: process.env.TENON_SERVER, key: process.env.TENON_KEY };
    try {
      assert.equal(served.printedKey, undefined);
      await api(served.url, key, 'POST', '/v1/extension-points', VOWELS);
      const partner = await api(served.url, key, 'POST', '/v1/partners', { name: 'bob' });
      const plugin = await api(served.url, partner.key!, 'POST', '/v1/plugins', { name: 'vowels', extensionPoint: 'text.vowels' });
      process.env.TENON_SERVER = served.url;
      process.env.TENON_KEY = partner.key;
      const pushed = await tenon(['push', fixture('count_vowels'), '--plugin', plugin.id!, '--json']);
      assert.equal(pushed.status, 0, pushed.stderr);
      assert.equal(JSON.parse(pushed.stdout).status, 'validated');
    } finally {
      process.env.TENON_SERVER = saved.server;
      process.env.TENON_KEY = saved.key;
      if (saved.server === undefined) delete process.env.TENON_SERVER;
      if (saved.key === undefined) delete process.env.TENON_KEY;
      await stop(served);
    }
  });

  test('push refusals exit 2 with the server code: a bad key, another plug-in, a module past the cap, no server', async () => {
    const served = await serve(['--data', join(dir, 'refusals')], { TENON_OPERATOR_KEY: 'tok_refusals_0123456789abcdef' });
    try {
      const badKey = await tenon(['push', fixture('count_vowels'), '--plugin', 'pl_x', '--server', served.url, '--key', 'nope']);
      assert.equal(badKey.status, 2);
      assert.match(badKey.stderr, /upload refused \(401 UNAUTHORIZED\): the API key is not valid/);
      const unknown = await tenon([
        'push',
        fixture('count_vowels'),
        '--plugin',
        'pl_x',
        '--server',
        served.url,
        '--key',
        'tok_refusals_0123456789abcdef',
      ]);
      assert.equal(unknown.status, 2);
      assert.match(unknown.stderr, /404 NOT_FOUND/);
      // The operator can create a plug-in line for a partner; its point caps modules at 64 KiB.
      const op = 'tok_refusals_0123456789abcdef';
      await api(served.url, op, 'POST', '/v1/extension-points', VOWELS);
      const partner = await api(served.url, op, 'POST', '/v1/partners', { name: 'carol' });
      const plugin = await api(served.url, partner.key!, 'POST', '/v1/plugins', { name: 'vowels', extensionPoint: 'text.vowels' });
      const big = join(dir, 'big.wasm');
      await writeFile(big, Buffer.alloc(70_000));
      const tooLarge = await tenon(['push', big, '--plugin', plugin.id!, '--server', served.url, '--key', partner.key!]);
      assert.equal(tooLarge.status, 2);
      assert.match(tooLarge.stderr, /413 MODULE_TOO_LARGE\): module is 70000 bytes, past the extension point's maxModuleBytes \(65536\)/);
      const missing = await tenon(['push', join(dir, 'nothing.wasm'), '--plugin', 'pl_x', '--server', served.url, '--key', 'k']);
      assert.equal(missing.status, 2);
      assert.match(missing.stderr, /cannot read/);
    } finally {
      await stop(served);
    }
    const down = await tenon(['push', fixture('count_vowels'), '--plugin', 'pl_x', '--server', served.url, '--key', 'k']);
    assert.equal(down.status, 2);
    assert.match(down.stderr, /cannot reach/);
  });

  /** Serves on `store`: a key is printed, and the new store has no extension points. */
  async function servesEmptyStore(store: string): Promise<void> {
    const served = await serve(['--store', store]);
    try {
      assert.ok(served.printedKey !== undefined);
      const points = await fetch(`${served.url}/v1/extension-points`, { headers: { authorization: `Bearer ${served.printedKey}` } });
      assert.deepEqual(await points.json(), []);
    } finally {
      assert.equal(await stop(served), 0);
    }
  }

  test('serve --store takes a store URL', async () => {
    await servesEmptyStore(`sqlite:${join(dir, 'store.db')}`);
  });

  test('serve --store takes a PostgreSQL URL (skipped without TENON_PG_URL)', { skip: PG_SKIP }, async () => {
    const schema = `t_cli_${process.pid}`;
    try {
      await servesEmptyStore(`${process.env.TENON_PG_URL}?schema=${schema}`);
    } finally {
      const client = new pg.Client({ connectionString: process.env.TENON_PG_URL });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    }
  });

  test('serve refuses --data with --store, and a bad --port, as usage errors', async () => {
    const both = await tenon(['serve', '--data', dir, '--store', 'sqlite::memory:']);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /not both/);
    const port = await tenon(['serve', '--port', '70000']);
    assert.equal(port.status, 2);
    assert.match(port.stderr, /expected a port from 0 to 65535, got "70000"/);
  });
});
