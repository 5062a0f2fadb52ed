import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { fixture, tenon } from './run-tenon.js';

describe('tenon call', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tenon-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('writes the output bytes to stdout and exits 0', async () => {
    const result = await tenon(['call', fixture('count_vowels'), 'count_vowels', '--input', 'Hello, World!']);
    assert.deepEqual(result, { status: 0, stdout: '{"count":3}', stderr: '' });
  });

  test('--stdin reads the input from standard input', async () => {
    const result = await tenon(['call', fixture('echo'), 'echo', '--stdin'], 'from stdin');
    assert.equal(result.stdout, 'from stdin');
  });

  test('--input and --stdin together are a usage error (2)', async () => {
    const result = await tenon(['call', fixture('echo'), 'echo', '--stdin', '--input', 'x']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /one of --input, --input-file or --stdin/);
  });

  test('--config values reach config_get; a malformed one is a usage error', async () => {
    const ok = await tenon(['call', fixture('config_var'), 'config', '--input', 'region', '--config', 'region=eu-west', '-c', 'x=y=z']);
    assert.equal(ok.stdout, 'eu-west');
    const bad = await tenon(['call', fixture('config_var'), 'config', '--config', 'novalue']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /expected KEY=VALUE/);
  });

  test('a manifest file is accepted in place of a module', async () => {
    const manifest = join(dir, 'manifest.json');
    await writeFile(manifest, JSON.stringify({ wasm: [{ path: fixture('config_var') }], config: { region: 'from-manifest' } }));
    const result = await tenon(['call', manifest, 'config', '--input', 'region']);
    assert.equal(result.stdout, 'from-manifest');
  });

  test('--loop calls n times on one instance, prints the last output and timings', async () => {
    const result = await tenon(['call', fixture('globals'), 'count', '--loop', '5']);
    assert.equal(result.status, 0);
    assert.equal(Buffer.from(result.stdout, 'latin1').readBigUInt64LE(0), 5n);
    assert.match(result.stderr, /5 calls, median [\d.]+ µs, p99 [\d.]+ µs per call/);
  });

  test('plug-in logs go to stderr at the chosen level', async () => {
    const result = await tenon(['call', fixture('logging'), 'log_all', '--input', 'note', '--log-level', 'warn']);
    assert.equal(result.status, 0);
    assert.equal(result.stderr, '[warn] [logging] note\n[error] [logging] note\n');
  });

  test('--wasi runs a WASI plug-in, its stdout on stderr as logs', async () => {
    const result = await tenon(['call', fixture('hello_wasi'), 'open_file', '--wasi']);
    assert.equal(result.stdout, 'denied');
    const without = await tenon(['call', fixture('hello_wasi'), 'open_file']);
    assert.equal(without.status, 2);
    assert.match(without.stderr, /LINK_FAILED.*--wasi|wasi: true/s);
  });

  test('a plug-in error exits 1 with its message on stderr', async () => {
    const result = await tenon(['call', fixture('fail'), 'fail', '--input', 'card declined']);
    assert.equal(result.status, 1);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, 'tenon: PLUGIN_FAILED: Plug-in function "fail" failed: card declined\n');
  });

  test('a trap exits 3', async () => {
    const result = await tenon(['call', fixture('traps'), 'unreachable']);
    assert.equal(result.status, 3);
    assert.match(result.stderr, /^tenon: TRAP: /);
  });

  test('a resource limit exits 4', async () => {
    const result = await tenon(['call', fixture('echo'), 'echo', '--memory-max', '1', '--input', 'x'.repeat(200_000)]);
    assert.equal(result.status, 4);
    assert.match(result.stderr, /MEMORY_LIMIT/);
  });

  test('usage, manifest and load errors exit 2', async () => {
    const badManifest = join(dir, 'bad.json');
    await writeFile(badManifest, JSON.stringify({ wasm: [], memory: {} }));
    const cases: [string[], RegExp][] = [
      [['call', join(dir, 'missing.wasm'), 'f'], /LOAD_FAILED.*no such file/],
      [['call', badManifest, 'f'], /MANIFEST_INVALID: wasm: at least one module/],
      [['call', fixture('count_vowels'), 'nope'], /FUNCTION_NOT_FOUND/],
      [['call', fixture('missing_import'), 'run'], /LINK_FAILED/],
      [['call', fixture('count_vowels')], /missing required argument/],
      [['call', fixture('count_vowels'), 'count_vowels', '--bogus'], /unknown option/],
      [['call', fixture('count_vowels'), 'count_vowels', '--memory-max', 'lots'], /non-negative integer/],
      [['call', fixture('count_vowels'), 'count_vowels', '--timeout', '-1'], /non-negative integer/],
      [['call', fixture('count_vowels'), 'count_vowels', '--log-level', 'loud'], /Allowed choices/],
      [['nope'], /unknown command/],
    ];
    for (const [args, message] of cases) {
      const result = await tenon(args);
      assert.equal(result.status, 2, args.join(' '));
      assert.match(result.stderr, message);
    }
  });

  test('--allow-path maps a host directory (ro:HOST:GUEST read-only) and implies --wasi; a malformed one exits 2', async () => {
    await writeFile(join(dir, 'hello.txt'), 'hello from the host');
    const files = (fn: string, input: string, mapping: string) =>
      tenon(['call', fixture('files'), fn, '--input', input, '--allow-path', mapping]);
    const hello = { status: 0, stdout: 'hello from the host', stderr: '' };
    assert.deepEqual(await files('read_file', '/data/hello.txt', `${dir}:/data`), hello);
    const readOnly = await files('write_file', '/data/hello.txt\nchanged', `ro:${dir}:/data`);
    assert.equal(readOnly.status, 1);
    assert.match(readOnly.stderr, /PLUGIN_FAILED: .*open: errno=69/);
    assert.deepEqual(await files('read_file', '/data/hello.txt', `ro:${dir}:/data`), hello);
    for (const mapping of ['/tmp', 'ro:/tmp', '/tmp:']) {
      const result = await files('read_file', '/data/hello.txt', mapping);
      assert.equal(result.status, 2, mapping);
      assert.match(result.stderr, /expected HOST:GUEST or ro:HOST:GUEST/);
    }
    const missing = await files('read_file', '/m/x', `${join(dir, 'missing')}:/m`);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /MANIFEST_INVALID: allowed_paths: host directory ".*missing" does not exist/);
  });

  test('--allow-host lets a plug-in reach that host, --audit prints each request, and others are denied with exit 1', async () => {
    // The server runs in a thread of its own: tenon runs in this one, and blocks while a request is in flight.
    const server = new Worker(new URL('../../runtime/test/http-test-server.mjs', import.meta.url));
    const [port] = await once(server, 'message');
    const url = `http://127.0.0.1:${port}/hello`;
    try {
      const request = JSON.stringify({ method: 'GET', url, headers: {} });
      const ok = await tenon(['call', fixture('http_request'), 'request', '--input', request, '--allow-host', '127.0.0.*', '--audit']);
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(ok.stdout, 'hello');
      const audit = JSON.parse(ok.stderr.replace(/^tenon: http /, ''));
      assert.deepEqual(
        { ...audit, durationMs: 0 },
        { method: 'GET', url, host: '127.0.0.1', status: 200, bytesOut: 0, bytesIn: 5, durationMs: 0, outcome: 'ok' },
      );

      const denied = await tenon([
        'call',
        fixture('http_request'),
        'request',
        '--input',
        request,
        '--allow-host',
        'api.example.com',
        '--audit',
      ]);
      assert.equal(denied.status, 5, 'CAPABILITY_DENIED has its own exit code');
      assert.match(denied.stderr, /"outcome":"denied"/);
      assert.match(denied.stderr, /tenon: CAPABILITY_DENIED: .*"127\.0\.0\.1": it is not in allowedHosts \(allowed: api\.example\.com\)/);
    } finally {
      server.postMessage('stop');
      await once(server, 'exit');
    }
  });

  test('--fuel stops a plug-in that needs more with exit 4', async () => {
    const result = await tenon(['call', fixture('count_vowels'), 'count_vowels', '--input', 'x'.repeat(10_000), '--fuel', '500']);
    assert.equal(result.status, 4);
    assert.match(result.stderr, /^tenon: FUEL_EXHAUSTED: Plug-in function "count_vowels" ran out of fuel: used \d+ of 500\n$/);
  });

  test('--error-format json writes the failure as one JSON line with its code and fields', async () => {
    const result = await tenon([
      'call',
      fixture('count_vowels'),
      'count_vowels',
      '--input',
      'x'.repeat(10_000),
      '--fuel',
      '500',
      '--error-format',
      'json',
    ]);
    assert.equal(result.status, 4);
    const { error } = JSON.parse(result.stderr) as { error: { code: string; name: string; message: string; fuelLimit: number } };
    assert.equal(error.code, 'FUEL_EXHAUSTED');
    assert.equal(error.name, 'FuelExhaustedError');
    assert.equal(error.fuelLimit, 500);
    assert.match(error.message, /ran out of fuel: used \d+ of 500$/);
  });

  test('--input-file reads an input past the command line limit; two input flags exit 2', async () => {
    const big = 'ab'.repeat(150_000);
    await writeFile(join(dir, 'input.txt'), big);
    const result = await tenon(['call', fixture('echo'), 'echo', '--input-file', join(dir, 'input.txt')]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, big);
    const both = await tenon(['call', fixture('echo'), 'echo', '--input-file', join(dir, 'input.txt'), '--input', 'x']);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /^tenon: give the input with one of --input, --input-file or --stdin\n$/);
    const missing = await tenon(['call', fixture('echo'), 'echo', '--input-file', join(dir, 'nope.txt')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /ENOENT.*nope\.txt/);
  });

  test('--host-functions links the host functions a module exports, in the format of cases.json', async () => {
    const everything = fileURLToPath(new URL('../../pdk/test/fixtures/build/everything.wasm', import.meta.url));
    const module = join(dir, 'host.mjs');
    await writeFile(
      module,
      "export const functions = [{ name: 'reverse', params: ['ptr'], results: ['ptr'], call: (c, o) => c.write([...c.text(o)].reverse().join('')) }];\n",
    );
    const result = await tenon(['call', everything, 'host_reverse', '--input', 'tenon', '--host-functions', module]);
    assert.deepEqual(result, { status: 0, stdout: 'nonet', stderr: '' });
    const unlinked = await tenon(['call', everything, 'host_reverse', '--input', 'tenon']);
    assert.equal(unlinked.status, 2);
    assert.match(unlinked.stderr, /LINK_FAILED: [\s\S]*extism:host\/user reverse/);
    await writeFile(join(dir, 'bad.mjs'), 'export const nothing = 1;\n');
    const bad = await tenon(['call', everything, 'host_reverse', '--host-functions', join(dir, 'bad.mjs')]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /must export its host functions as an array named `functions`/);
  });

  test('--timeout stops an infinite loop with exit 4', async () => {
    const result = await tenon(['call', fixture('start_loop'), 'run', '--timeout', '50']);
    assert.equal(result.status, 4);
    assert.match(result.stderr, /TIMEOUT: .*50 ms deadline/);
  });

  test('--stats prints one JSON line per call, with the same fuel on every run', async () => {
    const runs = await Promise.all(
      [1, 2].map(() => tenon(['call', fixture('count_vowels'), 'count_vowels', '--input', 'Hello', '--stats', '--loop', '2'])),
    );
    const lines = runs.flatMap((r) =>
      r.stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l)),
    );
    assert.equal(lines.length, 4);
    for (const line of lines) {
      assert.deepEqual(Object.keys(line), ['fuel', 'durationMs', 'memoryPages', 'kernelBytes']);
      assert.equal(line.fuel, lines[0].fuel);
      assert.ok(line.fuel > 0);
    }
  });

  test('--instance fresh gives every call a new instance', async () => {
    const reuse = await tenon(['call', fixture('globals'), 'count', '--loop', '3']);
    const fresh = await tenon(['call', fixture('globals'), 'count', '--loop', '3', '--instance', 'fresh']);
    assert.equal(Buffer.from(reuse.stdout, 'latin1').readBigUInt64LE(0), 3n);
    assert.equal(Buffer.from(fresh.stdout, 'latin1').readBigUInt64LE(0), 1n);
  });

  test('--help lists the exit codes and the default limits', async () => {
    const result = await tenon(['call', '--help']);
    assert.equal(result.status, 0);
    assert.match(result.stdout, /Exit codes:\n {2}0 {2}success/);
    assert.match(
      result.stdout.replace(/\s+/g, ' '),
      /--memory-max <pages> .*\(default 4096, 256 MiB, unless the manifest sets memory\.max_pages\)/,
    );
    assert.match(
      result.stdout.replace(/\s+/g, ' '),
      /--timeout <ms> .*0 for no limit \(default 10000, unless the manifest sets timeout_ms\)/,
    );
  });

  test('by default each memory may hold 4096 pages, and a manifest or --memory-max sets another cap', async () => {
    // grow_loop grows by 2^(input byte) pages until memory.grow fails, then outputs the pages it has (1024 at the start)
    const pages = async (args: string[], source = fixture('bulk')) => {
      const result = await tenon(['call', source, 'grow_loop', '--input', '\n', ...args]);
      assert.equal(result.status, 0, result.stderr);
      return Buffer.from(result.stdout, 'latin1').readBigUInt64LE(0);
    };
    assert.equal(await pages([]), 4096n);
    assert.equal(await pages(['--memory-max', '2048']), 2048n);
    const manifest = join(dir, 'capped.json');
    await writeFile(manifest, JSON.stringify({ wasm: [{ path: fixture('bulk') }], memory: { max_pages: 1024 } }));
    assert.equal(await pages([], manifest), 1024n);
  });

  test('--memory-max 0 is taken as memory.maxPages 0 is: a plug-in with any memory fails to load (exit 4)', async () => {
    const result = await tenon(['call', fixture('echo'), 'echo', '--memory-max', '0', '--input', 'small']);
    assert.equal(result.status, 4);
    assert.match(result.stderr, /MEMORY_LIMIT: .*Memory 0 starts at 1 page, more than memory\.maxPages \(0\)/);
    const bulk = await tenon(['call', fixture('bulk'), 'grow_loop', '--memory-max', '1024']);
    assert.equal(bulk.status, 0, bulk.stderr);
    assert.equal(Buffer.from(bulk.stdout, 'latin1').readBigUInt64LE(0), 1024n);
  });

  test('with no --timeout an endless loop is stopped by the default 10 s limit (exit 4); a manifest timeout_ms wins over it', async () => {
    const result = await tenon(['call', fixture('start_loop'), 'run']);
    assert.equal(result.status, 4);
    assert.match(result.stderr, /TIMEOUT: .*10000 ms deadline/);
    const manifest = join(dir, 'timed.json');
    await writeFile(manifest, JSON.stringify({ wasm: [{ path: fixture('start_loop') }], timeout_ms: 50 }));
    const timed = await tenon(['call', manifest, 'run']);
    assert.equal(timed.status, 4);
    assert.match(timed.stderr, /TIMEOUT: .*50 ms deadline/);
  });

  test('--timeout 0 lifts the time limit: the plug-in runs unmetered', async () => {
    const result = await tenon(['call', fixture('count_vowels'), 'count_vowels', '--input', 'Hello', '--timeout', '0', '--stats']);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, '{"count":2}');
    const plain = await tenon(['call', fixture('count_vowels'), 'count_vowels', '--input', 'Hello', '--timeout', '0']);
    assert.deepEqual(plain, { status: 0, stdout: '{"count":2}', stderr: '' });
  });

  test('--allow-host refuses a pattern with a scheme, a port or a path (exit 2), saying what patterns match', async () => {
    for (const pattern of ['http://127.0.0.1', '127.0.0.1:8080', 'example.com/api', '']) {
      const result = await tenon(['call', fixture('http_request'), 'request', '--allow-host', pattern]);
      assert.equal(result.status, 2, pattern);
      assert.match(
        result.stderr,
        new RegExp(
          `"${pattern.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}" can never match: patterns match the host name alone \\(such as api\\.example\\.com, \\*\\.example\\.com or 127\\.0\\.0\\.1\\)`,
        ),
      );
    }
  });

  describe('hostile plug-ins exit 4 with a typed error, within their bounds', () => {
    test('a loop of 64 MiB memory.fill under --timeout 200: TIMEOUT', async () => {
      const result = await tenon(['call', fixture('bulk'), 'fill_loop', '--timeout', '200']);
      assert.equal(result.status, 4);
      assert.match(result.stderr, /^tenon: TIMEOUT: Plug-in function "fill_loop" ran past its 200 ms deadline/);
    });

    test('the same loop under --fuel 100000: FUEL_EXHAUSTED at the first fill, which is charged before it runs', async () => {
      const result = await tenon(['call', fixture('bulk'), 'fill_loop', '--fuel', '100000']);
      assert.equal(result.status, 4);
      assert.match(result.stderr, /^tenon: FUEL_EXHAUSTED: Plug-in function "fill_loop" ran out of fuel: used 167772\d\d of 100000\n$/);
    });

    test('a loop of memory.grow 1 under --timeout 200 --memory-max 60000: TIMEOUT', async () => {
      const result = await tenon(['call', fixture('bulk'), 'grow_loop', '--timeout', '200', '--memory-max', '60000']);
      assert.equal(result.status, 4);
      assert.match(result.stderr, /^tenon: TIMEOUT: Plug-in function "grow_loop" ran past its 200 ms deadline/);
    });

    test('a 5 MiB HTTP body for a plug-in capped at 16 pages: MEMORY_LIMIT with the sizes, and the audit says failed', async () => {
      const server = new Worker(new URL('../../runtime/test/http-test-server.mjs', import.meta.url));
      const [port] = await once(server, 'message');
      try {
        const url = `http://127.0.0.1:${port}/bytes?n=${5 * 1024 * 1024}`;
        const request = JSON.stringify({ method: 'GET', url, headers: {} });
        const result = await tenon([
          'call',
          fixture('http_request'),
          'request',
          '--input',
          request,
          '--allow-host',
          '127.0.0.1',
          '--memory-max',
          '16',
          '--audit',
        ]);
        assert.equal(result.status, 4);
        assert.match(
          result.stderr,
          /tenon: MEMORY_LIMIT: Cannot give the plug-in an HTTP response body of 5242880 bytes: it does not fit in Extism memory \(\d+ bytes in use, memory\.maxPages 16\)\n$/,
        );
        const audit = JSON.parse(result.stderr.split('\n')[0]!.replace(/^tenon: http /, ''));
        assert.deepEqual(
          { status: audit.status, bytesIn: audit.bytesIn, outcome: audit.outcome },
          { status: 200, bytesIn: 5242880, outcome: 'failed' },
        );
      } finally {
        server.postMessage('stop');
        await once(server, 'exit');
      }
    });
  });
});
