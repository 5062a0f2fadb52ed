import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { createPlugin, type HostFunction } from '@tenon/runtime';
import { type Call, failure, type Outcome, onExtism, onTenon } from './both-hosts.js';

// Plug-ins built with @tenon/pdk are Extism plug-ins: each call below runs the same compiled
// module on Tenon and on @extism/extism 2.0.0-rc13 and must give the same bytes.

const fixture = (name: string): Uint8Array => readFileSync(new URL(`fixtures/build/${name}.wasm`, import.meta.url));
const everything = fixture('everything');
const text = (outcome: Outcome): string => ('output' in outcome ? new TextDecoder().decode(outcome.output) : `error: ${outcome.error}`);

const reverse: HostFunction = {
  name: 'reverse',
  params: ['ptr'],
  results: ['ptr'],
  call: (context, offset: bigint) => context.write([...(context.text(offset) ?? '')].reverse().join('')),
};

// everything.wasm imports `reverse`, so every call links it
async function onBoth(call: Call): Promise<{ tenon: Outcome; extism: Outcome }> {
  const linked = { ...call, functions: [reverse] };
  const [tenon, extism] = [await onTenon(everything, linked), await onExtism(everything, linked)];
  return { tenon, extism };
}

async function sameOutput(call: Call): Promise<string> {
  const { tenon, extism } = await onBoth(call);
  assert.ok('output' in tenon, `Tenon failed: ${text(tenon)}`);
  assert.ok('output' in extism, `Extism failed: ${text(extism)}`);
  assert.deepEqual(Buffer.from(tenon.output), Buffer.from(extism.output));
  return text(tenon);
}

describe('a plug-in built with @tenon/pdk gives the same results on Tenon and @extism/extism', () => {
  test('bytes in and out, of every length around the 8-byte copy step', async () => {
    for (const length of [0, 1, 7, 8, 9, 15, 16, 17, 1000, 65536 + 3]) {
      const input = Uint8Array.from({ length }, (_, i) => (i * 37 + 11) & 0xff);
      const { tenon, extism } = await onBoth({ fn: 'echo_bytes', input });
      assert.deepEqual('output' in tenon && Buffer.from(tenon.output), Buffer.from(input), `length ${length} on Tenon`);
      assert.deepEqual('output' in extism && Buffer.from(extism.output), Buffer.from(input), `length ${length} on Extism`);
    }
  });

  test('text in and out keeps UTF-8 intact', async () => {
    const input = 'naïve café, 東京, 🚀 and a \u0000 byte';
    assert.equal(await sameOutput({ fn: 'echo_string', input }), input);
  });

  test('config values, present and absent', async () => {
    assert.equal(await sameOutput({ fn: 'config_value', input: 'region', config: { region: 'eu-west' } }), '=eu-west');
    assert.equal(await sameOutput({ fn: 'config_value', input: 'missing', config: { region: 'eu-west' } }), '<none>');
  });

  test('vars: text, numbers, bytes and removal', async () => {
    assert.equal(await sameOutput({ fn: 'vars_roundtrip', input: 'kept' }), 'kept|-42|true|7');
  });

  test('typed JSON: nested classes, arrays, null, escapes and non-ASCII text', async () => {
    const input = JSON.stringify({
      id: 9007199254740991,
      title: 'order "42" – straße',
      items: [{ name: 'a\\b\nc', price: 12.25, tags: ['x'] }],
      note: null,
      active: true,
    });
    const output = JSON.parse(await sameOutput({ fn: 'json_roundtrip', input }));
    assert.deepEqual(output, {
      id: 9007199254740991,
      title: 'ORDER "42" – STRASSE',
      items: [
        { name: 'a\\b\nc', price: 12.25, tags: ['x'] },
        { name: 'added', price: 0.5, tags: ['é', '"quoted"'] },
      ],
      note: null,
      active: false,
    });
  });

  test('a host function receives the argument block and its answer comes back', async () => {
    assert.equal(await sameOutput({ fn: 'host_reverse', input: 'stressed' }), 'desserts');
  });

  test('memory blocks: allocate, find, copy out, and the null block', async () => {
    assert.equal(await sameOutput({ fn: 'memory_blocks', input: 'twelve bytes' }), '12|true|0');
  });

  test('an error reported with fail() fails the call with its message on both hosts', async () => {
    const { tenon, extism } = await onBoth({ fn: 'fail_with', input: 'no discount for you' });
    assert.deepEqual(tenon, {
      error: 'Plug-in function "fail_with" failed: no discount for you',
      code: 'PLUGIN_FAILED',
      pluginMessage: 'no discount for you',
    });
    assert.equal(failure(extism), failure(tenon));
  });

  test('a thrown error fails the call on both hosts; Tenon reports its message and place', async () => {
    const { tenon, extism } = await onBoth({ fn: 'throws', input: 'boom' });
    assert.ok(
      'error' in tenon && tenon.code === 'TRAP' && /unreachable.*: thrown: boom at .*everything\.ts:\d+:\d+/.test(tenon.error),
      text(tenon),
    );
    // rc13 reports the trap alone, without the message set before it
    assert.equal(failure(extism), 'trap: unreachable');
    assert.equal(failure(tenon), 'trap: unreachable');
  });
});

describe('PDK logging', () => {
  test('lines below the host level are neither formatted nor sent, on either host', async () => {
    for (const [logLevel, enabled] of [
      ['trace', '11111'],
      ['warn', '00011'],
    ] as const) {
      const tenonLogs: string[] = [];
      const extismLogs: string[] = [];
      const tenon = await onTenon(everything, { fn: 'log_levels', input: '', logLevel, functions: [reverse] }, tenonLogs);
      const extism = await onExtism(everything, { fn: 'log_levels', input: '', logLevel, functions: [reverse] }, extismLogs);
      assert.equal(text(tenon), enabled);
      assert.equal(text(extism), enabled);
      const expected = ['trace', 'debug', 'info', 'warn', 'error'].filter((_, i) => enabled[i] === '1').map((l) => `${l} ${l} line`);
      assert.deepEqual(tenonLogs, expected);
      assert.deepEqual(extismLogs, expected);
    }
  });

  test('with logging off no level is enabled', async () => {
    const logs: string[] = [];
    assert.equal(text(await onTenon(everything, { fn: 'log_levels', input: '', logLevel: 'off', functions: [reverse] }, logs)), '00000');
    assert.deepEqual(logs, []);
  });
});

describe('PDK plug-ins stay small', () => {
  test('hello world is under 10 KB', () => {
    const size = fixture('hello').length;
    assert.ok(size < 10 * 1024, `hello.wasm is ${size} bytes`);
  });
});

describe('http.request from @tenon/pdk', () => {
  // The server has a thread of its own: a plug-in's request blocks this one until it is answered.
  let server: Worker;
  let base: string;
  before(async () => {
    server = new Worker(new URL('../../runtime/test/http-test-server.mjs', import.meta.url));
    [base] = (await once(server, 'message')).map((port) => `http://127.0.0.1:${port}`) as [string];
  });
  after(async () => {
    server.postMessage('stop');
    await once(server, 'exit');
  });

  test('sends the method and headers it builds, and reads the status and body', async () => {
    using plugin = await createPlugin(everything, { functions: [reverse], allowedHosts: ['127.0.0.1'], logLevel: 'off' });
    assert.equal(plugin.call('http_get', `${base}/echo`).text(), '200|GET yes ');
    assert.equal(plugin.call('http_get', `${base}/status?code=404`).text(), '404|status');
  });

  test('fails the call with CAPABILITY_DENIED for a host it was not granted', async () => {
    using plugin = await createPlugin(everything, { functions: [reverse], logLevel: 'off' });
    assert.throws(() => plugin.call('http_get', `${base}/echo`), { code: 'CAPABILITY_DENIED', message: /"127\.0\.0\.1"/ });
  });
});
