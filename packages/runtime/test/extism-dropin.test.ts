import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import rc13 from '@extism/extism';
import extism, * as dropIn from '../src/extism.js';
import { createPlugin } from '../src/index.js';
import { fixture } from './fixtures.js';

// The drop-in must fail where @extism/extism 2.0.0-rc13 fails, with the same message, while keeping
// Tenon's error classes and codes: where rc13 can run the case, both run it side by side.

type Output = { text(): string } | null;
type AnyPlugin = {
  call(name: string, input?: string | Uint8Array, hostContext?: unknown): Promise<Output>;
  getExports(): Promise<WebAssembly.ModuleExportDescriptor[]>;
  getImports(): Promise<WebAssembly.ModuleImportDescriptor[]>;
  close(): Promise<void>;
};
type Create = (manifest: unknown, options?: unknown) => Promise<AnyPlugin>;
const hosts: [string, Create][] = [
  ['@extism/extism', rc13 as unknown as Create],
  ['the drop-in', dropIn.createPlugin as unknown as Create],
];

/** The message a promise rejects with (fails the test when it resolves). */
async function messageOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  return assert.fail('expected a rejection');
}

/** Runs `fn` on a plug-in and closes it. */
async function using<T>(plugin: Promise<AnyPlugin>, fn: (p: AnyPlugin) => Promise<T>): Promise<T> {
  const p = await plugin;
  try {
    return await fn(p);
  } finally {
    await p.close();
  }
}

/** Module bytes in an ArrayBuffer of their own (rc13 hashes the whole buffer of a view). */
const own = (name: string): Uint8Array => new Uint8Array(fixture(name));
const noop = { 'extism:host/user': { boom() {} } };

describe('the drop-in fails with @extism/extism’s messages and Tenon’s codes', () => {
  test('an import nothing provides fails createPlugin with LINK_FAILED and rc13’s message', async () => {
    const manifest = { wasm: [{ data: fixture('missing_import') }] };
    const theirs = await messageOf(rc13(manifest as never));
    await assert.rejects(dropIn.createPlugin(manifest), { name: 'LinkError', code: 'LINK_FAILED', message: theirs });
    assert.equal(
      theirs,
      'from module "main": cannot resolve import "extism:host/user" "not_provided": not provided by host imports nor linked manifest items',
    );
  });

  test('an import missing one module away names the chain of modules that leads to it, as rc13 does', async () => {
    const manifest = {
      wasm: [
        { name: 'math', data: fixture('math_lib_needy') },
        { name: 'main', data: fixture('math_app') },
      ],
    };
    const theirs = await messageOf(rc13(manifest as never));
    await assert.rejects(dropIn.createPlugin(manifest), {
      name: 'LinkError',
      code: 'LINK_FAILED',
      unresolved: [{ module: 'extism:host/user', name: 'scale', kind: 'function', path: ['main', 'math'] }],
      message: theirs,
    });
    assert.match(theirs, /^from module "main"\/"math": cannot resolve import "extism:host\/user" "scale"/);
  });

  test('an error set by the plug-in fails the call with PLUGIN_FAILED and "Plugin-originated error: ..."', async () => {
    const [theirs, ours] = await Promise.all(
      hosts.map(([, create]) => messageOf(using(create({ wasm: [{ data: fixture('fail') }] }), (p) => p.call('fail', 'broken')))),
    );
    assert.equal(ours, theirs);
    await assert.rejects(
      using(dropIn.createPlugin({ wasm: [{ data: fixture('fail') }] }) as Promise<AnyPlugin>, (p) => p.call('fail', 'broken')),
      { name: 'PluginError', code: 'PLUGIN_FAILED', pluginMessage: 'broken', message: 'Plugin-originated error: broken' },
    );
  });

  test('an unknown function fails with FUNCTION_NOT_FOUND and "Plugin error: function ... does not exist"', async () => {
    const [theirs, ours] = await Promise.all(
      hosts.map(([, create]) => messageOf(using(create({ wasm: [{ data: fixture('fail') }] }), (p) => p.call('nope')))),
    );
    assert.equal(ours, theirs);
    assert.equal(ours, 'Plugin error: function "nope" does not exist');
  });

  test('a var past maxVarBytes fails with VAR_LIMIT and rc13’s "var memory limit exceeded" message', async () => {
    const manifest = { wasm: [{ data: fixture('config_var') }], memory: { maxVarBytes: 100 } };
    const silent = { logger: { debug() {}, info() {}, warn() {}, error() {} } };
    const theirs = await messageOf(
      using(rc13(manifest as never, silent as never) as never, (p) => p.call('var_store_input', 'x'.repeat(101))),
    );
    const plugin = dropIn.createPlugin(manifest);
    await assert.rejects(
      using(plugin as Promise<AnyPlugin>, (p) => p.call('var_store_input', 'x'.repeat(101))),
      { name: 'LimitError', code: 'VAR_LIMIT', message: theirs },
    );
    assert.equal(theirs, 'Plugin-originated error: var memory limit exceeded: 101 bytes requested, 100 allowed');
  });

  test('a host function’s setVariable past maxVarBytes throws rc13’s message, with VAR_LIMIT', async () => {
    const functions = {
      'extism:host/user': {
        swap(cx: dropIn.CallContext) {
          cx.setVariable('h', 'x'.repeat(101));
        },
      },
    };
    const call = using(
      dropIn.createPlugin({ wasm: [{ data: fixture('host_vars') }], memory: { maxVarBytes: 100 } }, { functions }) as Promise<AnyPlugin>,
      (p) => p.call('run'),
    );
    // the plug-in's own var "k" holds one byte
    await assert.rejects(call, {
      name: 'LimitError',
      code: 'VAR_LIMIT',
      message: 'var memory limit exceeded: 102 bytes requested, 100 allowed',
    });
  });

  test('an HTTP host outside allowedHosts is refused with CAPABILITY_DENIED and rc13’s message, in-thread and in a worker', async () => {
    const request = JSON.stringify({ url: 'http://127.0.0.1:9/denied?x=1' });
    const manifest = { wasm: [{ data: fixture('http_request') }] };
    const options = { allowedHosts: ['*.example.com'], runInWorker: true };
    const theirs = await messageOf(using(rc13(manifest as never, options as never) as never, (p) => p.call('request', request)));
    assert.equal(theirs, 'Call error: HTTP request to "http://127.0.0.1:9/denied?x=1" is not allowed (no allowedHosts match "127.0.0.1")');
    for (const runInWorker of [false, true]) {
      await assert.rejects(
        using(dropIn.createPlugin(manifest, { ...options, runInWorker }) as Promise<AnyPlugin>, (p) => p.call('request', request)),
        { name: 'CapabilityError', code: 'CAPABILITY_DENIED', resource: 'http://127.0.0.1:9/denied?x=1', message: theirs },
      );
    }
  });

  test('a module that does not match its hash fails with HASH_MISMATCH and rc13’s message', async () => {
    const manifest = { wasm: [{ data: own('fail'), hash: '0'.repeat(64) }] };
    const theirs = await messageOf(rc13(manifest as never));
    await assert.rejects(dropIn.createPlugin(manifest), { name: 'ManifestError', code: 'HASH_MISMATCH', message: theirs });
    assert.match(theirs, /^Plugin error: hash mismatch\. Expected: 0{64}\. Actual: [0-9a-f]{64}$/);
    await assert.rejects(dropIn.createPlugin({ wasm: [{ data: own('fail'), hash: 'not a hash' }] }), {
      code: 'MANIFEST_INVALID',
      message: /^Plugin error: hash mismatch: wasm\[0\]\.hash: must be 64 hex digits/,
    });
  });

  test('a hash on a compiled module is refused with rc13’s message', async () => {
    const manifest = { wasm: [{ module: new WebAssembly.Module(fixture('fail')), hash: 'anything' }] };
    const theirs = await messageOf(rc13(manifest as never));
    await assert.rejects(dropIn.createPlugin(manifest as never), { name: 'ManifestError', code: 'MANIFEST_INVALID', message: theirs });
  });

  test('a call past timeoutMs fails with TIMEOUT and "EXTISM: call canceled due to timeout", in-thread and in a worker', async () => {
    for (const runInWorker of [false, true]) {
      const plugin = dropIn.createPlugin({ wasm: [{ data: fixture('hostile') }] }, { functions: noop, timeoutMs: 200, runInWorker });
      await assert.rejects(
        using(plugin as Promise<AnyPlugin>, (p) => p.call('spin')),
        {
          name: 'TimeoutError',
          code: 'TIMEOUT',
          timeoutMs: 200,
          message: 'EXTISM: call canceled due to timeout',
        },
      );
    }
  });

  test('a start function past timeoutMs fails createPlugin with TIMEOUT and rc13’s message, in-thread and in a worker', async () => {
    const manifest = { wasm: [{ data: fixture('start_loop') }] };
    const theirs = await messageOf(rc13(manifest as never, { timeoutMs: 200, runInWorker: true } as never));
    for (const runInWorker of [false, true]) {
      await assert.rejects(dropIn.createPlugin(manifest, { timeoutMs: 200, runInWorker }), {
        name: 'TimeoutError',
        code: 'TIMEOUT',
        message: theirs,
      });
    }
    assert.equal(theirs, 'EXTISM: timed out while waiting for plugin to instantiate');
  });

  test('a host function’s own error rejects the call as thrown, in-thread and in a worker', async () => {
    class Refused extends Error {}
    for (const runInWorker of [false, true]) {
      const thrown = new Refused('the host said no');
      const functions = {
        'extism:host/user': {
          reflect: runInWorker
            ? async () => {
                await Promise.resolve();
                throw thrown;
              }
            : () => {
                throw thrown;
              },
          add_i64: () => 0n,
        },
      };
      const plugin = dropIn.createPlugin({ wasm: [{ data: fixture('host_call') }] }, { functions, runInWorker });
      await assert.rejects(
        using(plugin as Promise<AnyPlugin>, (p) => p.call('reflect', 'x')),
        (error) => error === thrown,
      );
    }
  });

  test('a read-only allowed path is refused with MANIFEST_INVALID and rc13’s message', async () => {
    const manifest = { wasm: [{ data: fixture('files') }], allowedPaths: { '/mnt': 'ro:/tmp' } };
    const theirs = await messageOf(rc13(manifest as never, { useWasi: true } as never));
    await assert.rejects(dropIn.createPlugin(manifest, { useWasi: true }), {
      name: 'ManifestError',
      code: 'MANIFEST_INVALID',
      message: theirs,
    });
    assert.equal(theirs, 'Readonly dirs are not supported: ro:/tmp');
  });
});

describe('runInWorker runs the plug-in off the main thread', () => {
  let server: Server;
  let url: string;
  before(async () => {
    server = createServer((_request, response) => response.end('answered by the host thread'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => server.close());

  test('the main thread’s event loop runs while a worker plug-in spins, and not while an in-thread one does', async () => {
    for (const runInWorker of [false, true]) {
      const plugin = await dropIn.createPlugin({ wasm: [{ data: fixture('hostile') }] }, { functions: noop, timeoutMs: 300, runInWorker });
      const order: string[] = [];
      const call = plugin.call('spin').catch(() => order.push('call settled'));
      await new Promise<void>((resolve) => setImmediate(resolve));
      order.push('event loop ran');
      await call;
      await plugin.close();
      assert.deepEqual(order, runInWorker ? ['event loop ran', 'call settled'] : ['call settled', 'event loop ran']);
    }
  });

  test('host functions may be async, and see the call’s hostContext', async () => {
    const context = { tenant: 'a' };
    let seen: unknown;
    const functions = {
      'extism:host/user': {
        async reflect(cx: dropIn.CallContext, offset: bigint) {
          seen = cx.hostContext();
          const text = cx.read(offset)?.text() ?? '';
          await new Promise((resolve) => setTimeout(resolve, 10));
          return cx.store(text.toUpperCase());
        },
        add_i64: (_cx: dropIn.CallContext, a: bigint, b: bigint) => a + b,
      },
    };
    const plugin = await dropIn.createPlugin({ wasm: [{ data: fixture('host_call') }] }, { functions, runInWorker: true });
    try {
      assert.equal((await plugin.call('reflect', 'off the main thread', context))?.text(), 'OFF THE MAIN THREAD');
      assert.equal(seen, context);
    } finally {
      await plugin.close();
    }
  });

  test('guest and host functions share vars, as under @extism/extism', async () => {
    const functions = {
      'extism:host/user': {
        async swap(cx: dropIn.CallContext, key: bigint) {
          const name = cx.read(key)?.text() ?? '';
          cx.setVariable('h', `host saw ${name}=${cx.getVariable(name)?.text()}`);
        },
      },
    };
    const outputs = [];
    for (const [, create] of hosts) {
      outputs.push(
        await using(create({ wasm: [{ data: fixture('host_vars') }] }, { functions, runInWorker: true }), async (p) =>
          (await p.call('run'))?.text(),
        ),
      );
    }
    assert.deepEqual(outputs, ['host saw k=v', 'host saw k=v']);
  });

  test('a host function that calls its own plug-in again fails the call with REENTRANT_CALL', async () => {
    let plugin: dropIn.Plugin | undefined;
    const functions = {
      'extism:host/user': {
        async reflect(cx: dropIn.CallContext) {
          await plugin?.call('reflect', 'again');
          return cx.store('unreachable');
        },
        add_i64: () => 0n,
      },
    };
    plugin = await dropIn.createPlugin({ wasm: [{ data: fixture('host_call') }] }, { functions, runInWorker: true });
    try {
      await assert.rejects(plugin.call('reflect', 'x'), { name: 'StateError', code: 'REENTRANT_CALL', message: 'plugin is not reentrant' });
      assert.equal(plugin.isActive(), false);
    } finally {
      await plugin.close();
    }
  });

  test('an async host function in-thread fails the call with HOST_FUNCTION_FAILED, pointing at runInWorker', async () => {
    const functions = { 'extism:host/user': { reflect: async () => 0n, add_i64: () => 0n } };
    const plugin = await dropIn.createPlugin({ wasm: [{ data: fixture('host_call') }] }, { functions });
    try {
      await assert.rejects(plugin.call('reflect', 'x'), {
        name: 'HostFunctionError',
        code: 'HOST_FUNCTION_FAILED',
        message: /returned a Promise.*\(pass runInWorker: true for async host functions\)$/,
      });
    } finally {
      await plugin.close();
    }
  });

  test('an HTTP server in the host’s own thread answers a worker plug-in', async () => {
    const plugin = await dropIn.createPlugin(
      { wasm: [{ data: fixture('http_request') }] },
      { allowedHosts: ['127.0.0.1'], runInWorker: true },
    );
    try {
      assert.equal((await plugin.call('request', JSON.stringify({ url })))?.text(), 'answered by the host thread');
    } finally {
      await plugin.close();
    }
  });

  test('an in-thread HTTP request to a server in the same thread ends at the call’s deadline, not never', async () => {
    const plugin = await dropIn.createPlugin(
      { wasm: [{ data: fixture('http_request') }] },
      { allowedHosts: ['127.0.0.1'], timeoutMs: 300 },
    );
    try {
      await assert.rejects(plugin.call('request', JSON.stringify({ url })), {
        name: 'TimeoutError',
        code: 'TIMEOUT',
        message: 'EXTISM: call canceled due to timeout',
      });
    } finally {
      await plugin.close();
    }
    // the native API the same way, with its own message
    const native = await createPlugin(fixture('http_request'), { allowedHosts: ['127.0.0.1'], timeoutMs: 300, logLevel: 'off' });
    try {
      assert.throws(() => native.call('request', JSON.stringify({ url })), { name: 'TimeoutError', code: 'TIMEOUT', message: /300 ms/ });
    } finally {
      native.close();
    }
  });
});

describe('the drop-in follows @extism/extism where it differs from the Rust runtime', () => {
  let root: string;
  before(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'tenon-dropin-')));
    writeFileSync(join(root, 'note.txt'), 'from the host');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('the manifest’s allowedPaths map guest path to host path, as the options do', async () => {
    for (const [manifestPaths, optionPaths] of [
      [{ '/data': root }, undefined],
      [undefined, { '/data': root }],
    ]) {
      const plugin = await dropIn.createPlugin(
        { wasm: [{ data: fixture('files') }], ...(manifestPaths && { allowedPaths: manifestPaths }) },
        { useWasi: true, ...(optionPaths && { allowedPaths: optionPaths }) },
      );
      try {
        assert.equal((await plugin.call('read_file', '/data/note.txt'))?.text(), 'from the host');
      } finally {
        await plugin.close();
      }
    }
  });

  test('allowedPaths are ignored without useWasi, as in @extism/extism', async () => {
    const plugin = await dropIn.createPlugin({ wasm: [{ data: fixture('fail') }], allowedPaths: { '/data': root } });
    assert.equal(await plugin.call('no_output'), null);
    await plugin.close();
  });

  test('config in the options replaces the manifest’s instead of merging with it', async () => {
    const manifest = { wasm: [{ data: fixture('config_var') }], config: { greeting: 'from the manifest' } };
    const outputs = [];
    // (rc13 outputs a stray byte for a missing config value: what matters is that the manifest's is gone)
    for (const [, create] of hosts) {
      outputs.push(
        await using(create(manifest, { config: { other: 'x' } }), async (p) => [
          (await p.call('config', 'greeting'))?.text() === 'from the manifest',
          (await p.call('config', 'other'))?.text(),
        ]),
      );
    }
    assert.deepEqual(outputs, [
      [false, 'x'],
      [false, 'x'],
    ]);
    const native = await createPlugin(manifest, { config: { other: 'x' }, logLevel: 'off' });
    try {
      assert.equal(native.call('config', 'greeting').text(), 'from the manifest');
    } finally {
      native.close();
    }
  });

  test('maxVarBytes counts values, not keys (the native API counts both)', async () => {
    const manifest = { wasm: [{ data: fixture('config_var') }], memory: { maxVarBytes: 100 } };
    const outputs = [];
    for (const [, create] of hosts)
      outputs.push(await using(create(manifest), async (p) => (await p.call('var_store_input', 'x'.repeat(100))) ?? 'stored'));
    assert.deepEqual(outputs, ['stored', 'stored']);
    const native = await createPlugin(manifest, { logLevel: 'off' });
    try {
      assert.throws(() => native.call('var_store_input', 'x'.repeat(100)), { name: 'LimitError', code: 'VAR_LIMIT', message: /105 bytes/ });
    } finally {
      native.close();
    }
  });

  test('memory.maxPages bounds Extism memory, not the plug-in’s own (the native API refuses a memory that starts larger)', async () => {
    const pages = (n: number) => {
      const input = new Uint8Array(8);
      new DataView(input.buffer).setBigUint64(0, BigInt(n * 65536), true);
      return input;
    };
    for (const [host, create] of hosts) {
      // the plug-in's own memory starts at 17 pages: more than either cap, and it loads under both
      const capped = await create({ wasm: [{ data: fixture('big_memory') }], memory: { maxPages: 2 } });
      try {
        await assert.rejects(capped.call('alloc_n', pages(5)), undefined, `${host}: 5 pages of Extism memory under a 2-page cap`);
      } finally {
        await capped.close();
      }
      const roomy = await create({ wasm: [{ data: fixture('big_memory') }], memory: { maxPages: 6 } });
      try {
        assert.notEqual(await roomy.call('alloc_n', pages(5)), undefined, host);
      } finally {
        await roomy.close();
      }
    }
    await assert.rejects(createPlugin({ wasm: [{ data: fixture('big_memory') }], memory: { maxPages: 6 } }), {
      name: 'LimitError',
      code: 'MEMORY_LIMIT',
      message: /Memory 0 starts at 17 pages, more than memory\.maxPages \(6\)/,
    });
  });

  test('var_set leaves the key and value blocks to the plug-in (the native API frees them)', async () => {
    const outputs = [];
    for (const [, create] of hosts) {
      outputs.push(
        await using(create({ wasm: [{ data: fixture('var_keep') }] }), async (p) => [
          (await p.call('keep_value'))?.text(),
          (await p.call('keep_key'))?.text(),
        ]),
      );
    }
    assert.deepEqual(outputs, [
      ['xyz', 'k'],
      ['xyz', 'k'],
    ]);
    const native = await createPlugin(fixture('var_keep'), { logLevel: 'off' });
    try {
      assert.equal(native.call('keep_value').length, 0);
      assert.equal(native.call('keep_key').length, 0);
    } finally {
      native.close();
    }
  });

  test('WASI output is silent unless enableWasiOutput is set, then it goes to the process’s stdout and stderr', () => {
    const extismModule = fileURLToPath(new URL('../src/extism.ts', import.meta.url));
    const wasm = fileURLToPath(new URL('fixtures/build/hello_wasi.wasm', import.meta.url));
    const run = (enableWasiOutput: boolean): { stdout: string; stderr: string; logged: string } => {
      const script = `
        import { readFileSync } from 'node:fs';
        import createPlugin from ${JSON.stringify(extismModule)};
        const lines = [];
        const logger = { trace: (m) => lines.push(m), debug: (m) => lines.push(m), info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) };
        const plugin = await createPlugin({ wasm: [{ data: readFileSync(${JSON.stringify(wasm)}) }] }, { useWasi: true, logger, logLevel: 'trace', enableWasiOutput: ${enableWasiOutput} });
        await plugin.call('hello');
        await plugin.close();
        process.stdout.write('logged:' + JSON.stringify(lines));`;
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
        env: { ...process.env, EXTISM_ENABLE_WASI_OUTPUT: '' },
      });
      assert.equal(child.status, 0, child.stderr);
      const at = child.stdout.lastIndexOf('logged:');
      return { stdout: child.stdout.slice(0, at), stderr: child.stderr, logged: child.stdout.slice(at + 'logged:'.length) };
    };
    assert.deepEqual(run(false), { stdout: '', stderr: '', logged: '[]' });
    assert.deepEqual(run(true), { stdout: 'hello from wasi\n', stderr: 'a line on stderr\n', logged: '[]' });
  });
});

describe('the drop-in has @extism/extism’s API', () => {
  test('a default export, newPlugin and createPlugin are the same function', () => {
    assert.equal(extism, dropIn.createPlugin);
    assert.equal(dropIn.newPlugin, dropIn.createPlugin);
  });

  test('CAPABILITIES says what this host supports, under rc13’s names', async () => {
    const { CAPABILITIES: theirs } = await import('@extism/extism');
    assert.deepEqual(Object.keys(dropIn.CAPABILITIES).sort(), Object.keys(theirs).sort());
    assert.equal(dropIn.CAPABILITIES.hasWorkerCapability, true);
    assert.equal(dropIn.CAPABILITIES.supportsTimeouts, true);
    // in-thread host functions cannot suspend a plug-in: async ones need runInWorker
    assert.equal(dropIn.CAPABILITIES.supportsJSPromiseInterface, false);
  });

  test('getExports() and getImports() list the main module’s, as rc13 does, in-thread and in a worker', async () => {
    const functions = { 'extism:host/user': { reflect: () => 0n, add_i64: () => 0n } };
    const [theirs] = await Promise.all([
      using(rc13({ wasm: [{ data: fixture('host_call') }] } as never, { functions } as never) as never, async (p: AnyPlugin) => [
        await p.getExports(),
        await p.getImports(),
      ]),
    ]);
    for (const runInWorker of [false, true]) {
      // fuel metering (timeoutMs) adds an import of Tenon's own to the module: it is not listed
      const ours = await using(
        dropIn.createPlugin({ wasm: [{ data: fixture('host_call') }] }, { functions, runInWorker, timeoutMs: 1000 }) as Promise<AnyPlugin>,
        async (p) => [await p.getExports(), await p.getImports()],
      );
      assert.deepEqual(ours, theirs);
    }
  });

  test('sharedArrayBufferSize is accepted, and large host-function results still arrive whole', async () => {
    const value = 'a block larger than the buffer '.repeat(600);
    const functions = { 'extism:host/user': { reflect: async (cx: dropIn.CallContext) => cx.store(value), add_i64: () => 0n } };
    const plugin = await dropIn.createPlugin(
      { wasm: [{ data: fixture('host_call') }] },
      { functions, runInWorker: true, sharedArrayBufferSize: 64 },
    );
    try {
      for (let i = 0; i < 3; i++) assert.equal((await plugin.call('reflect', 'x'))?.text(), value);
    } finally {
      await plugin.close();
    }
  });
});
