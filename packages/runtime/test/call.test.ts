import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compilePlugin, createPlugin, PluginOutput } from '../src/index.js';
import { fixture, load } from './fixtures.js';

describe('calling a plug-in', () => {
  test('count_vowels returns its JSON output for text input', async () => {
    using plugin = await load('count_vowels');
    assert.deepEqual(plugin.call('count_vowels', 'Hello, World!').json(), { count: 3 });
  });

  test('the C build of count_vowels gives the same bytes as the WAT build', async () => {
    using wat = await load('count_vowels');
    using c = await load('count_vowels_c');
    for (const input of ['', 'a', 'Hello, World!', 'AEIOU aeiou xyz '.repeat(5000)]) {
      assert.deepEqual(c.call('count_vowels', input).bytes(), wat.call('count_vowels', input).bytes());
    }
  });

  test('input may be bytes, text, an ArrayBuffer or a JSON-able value', async () => {
    using plugin = await load('echo');
    assert.equal(plugin.call('echo', new Uint8Array([104, 105])).text(), 'hi');
    assert.equal(plugin.call('echo', new Uint8Array([104, 105]).buffer).text(), 'hi');
    assert.equal(plugin.call('echo', 'héllo ✓ — 𝄞').text(), 'héllo ✓ — 𝄞');
    assert.deepEqual(plugin.call('echo', { a: [1, 2], b: 'c' }).json(), { a: [1, 2], b: 'c' });
    assert.equal(plugin.call('echo', 42).text(), '42');
    assert.equal(plugin.call('echo').length, 0);
  });

  test('echo copies every input size exactly, whichever ABI calls it uses', async () => {
    using plugin = await load('echo');
    for (const size of [0, 1, 7, 8, 9, 63, 64, 65, 1000, 65536, 1 << 20]) {
      const input = new Uint8Array(size).map((_, i) => (i * 31 + 7) & 0xff);
      for (const fn of ['echo', 'echo_bytewise', 'echo_noop']) {
        assert.deepEqual(plugin.call(fn, input).bytes(), input, `${fn} of ${size} bytes`);
      }
    }
  });

  test('long text input takes the UTF-8 path', async () => {
    using plugin = await load('echo');
    const text = 'ünïcödé '.repeat(1000);
    assert.equal(plugin.call('echo', text).text(), text);
  });

  test('output is the caller’s to keep after the next call', async () => {
    using plugin = await load('echo');
    const first = plugin.call('echo', 'first').bytes();
    plugin.call('echo', 'second');
    assert.equal(Buffer.from(first).toString(), 'first');
  });

  test('an output read only after later calls, a reset or close still holds its own bytes', async () => {
    const plugin = await load('echo');
    const first = plugin.call('echo', 'first output');
    const big = plugin.call('echo', 'x'.repeat(100_000));
    plugin.call('echo', 'y'.repeat(300_000));
    assert.equal(first.text(), 'first output');
    assert.equal(big.text(), 'x'.repeat(100_000));
    const beforeReset = plugin.call('echo', 'before reset');
    plugin.reset();
    assert.equal(beforeReset.text(), 'before reset');
    const beforeClose = plugin.call('echo', { closing: true });
    plugin.close();
    assert.deepEqual(beforeClose.json(), { closing: true });
  });

  test('output stays readable when the plug-in frees its block after output_set', async () => {
    using plugin = await load('fail');
    assert.equal(plugin.call('output_then_free').text(), 'kept');
  });

  test('output may be shorter than its block', async () => {
    using plugin = await load('fail');
    assert.equal(plugin.call('short_output').text(), 'ke');
  });

  test('a function that sets no output returns empty output', async () => {
    using plugin = await load('fail');
    const output = plugin.call('no_output');
    assert.ok(output instanceof PluginOutput);
    assert.equal(output.length, 0);
    assert.equal(output.text(), '');
  });

  test('a function with no result counts as return code 0', async () => {
    using plugin = await load('fail');
    assert.equal(plugin.call('no_result').length, 0);
  });

  test('functionExists names exported functions only', async () => {
    using plugin = await load('count_vowels');
    assert.equal(plugin.functionExists('count_vowels'), true);
    assert.equal(plugin.functionExists('memory'), false);
    assert.equal(plugin.functionExists('nope'), false);
  });

  test('functionExists is false for exports that take parameters', async () => {
    using plugin = await load('fail');
    assert.equal(plugin.functionExists('fail'), true);
    assert.equal(plugin.functionExists('takes_args'), false);
  });

  test('calling a missing function fails with FUNCTION_NOT_FOUND and lists what exists', async () => {
    using plugin = await load('count_vowels');
    assert.throws(() => plugin.call('count_consonants'), {
      name: 'FunctionNotFoundError',
      code: 'FUNCTION_NOT_FOUND',
      message: /no exported function "count_consonants" \(it exports "count_vowels_raw", "count_vowels"\)/,
    });
  });

  test('a function that takes parameters cannot be called as a plug-in function', async () => {
    using plugin = await load('fail');
    assert.throws(() => plugin.call('takes_args'), { code: 'FUNCTION_NOT_FOUND', message: /takes 1 parameters/ });
  });

  test('a function returning i64 is refused as having the wrong result type', async () => {
    using plugin = await load('fail');
    assert.throws(() => plugin.call('returns_i64'), { code: 'TRAP', message: /return an i32 or nothing/ });
  });

  test('instance state (globals) persists across calls of one instance', async () => {
    using plugin = await load('globals');
    const counts = [1, 2, 3].map(() => Buffer.from(plugin.call('count').bytes()).readBigUInt64LE(0));
    assert.deepEqual(counts, [1n, 2n, 3n]);
  });

  test('instances of one compiled plug-in are independent', async () => {
    const compiled = await compilePlugin(fixture('globals'));
    using a = compiled.instantiate();
    using b = compiled.instantiate();
    a.call('count');
    a.call('count');
    assert.equal(Buffer.from(b.call('count').bytes()).readBigUInt64LE(0), 1n);
    assert.deepEqual(compiled.functions, ['count', 'trap']);
  });

  test('an instance created after another was closed starts clean (Extism memory is reused, nothing else)', async () => {
    const compiled = await compilePlugin(fixture('config_var'));
    const first = compiled.instantiate();
    first.call('counter');
    first.call('counter');
    const kept = first.call('config', 'x');
    first.close();
    using second = compiled.instantiate();
    assert.equal(Buffer.from(second.call('counter').bytes()).readBigUInt64LE(0), 1n);
    assert.equal(kept.length, 0);
    assert.throws(() => first.call('counter'), { code: 'CLOSED' });
  });

  test('_initialize runs once per instance, before the first call', async () => {
    using plugin = await load('init');
    assert.equal(Buffer.from(plugin.call('inits').bytes()).readBigUInt64LE(0), 1n);
    assert.equal(Buffer.from(plugin.call('inits').bytes()).readBigUInt64LE(0), 1n);
  });

  test('a closed plug-in refuses calls with CLOSED; close is idempotent', async () => {
    const plugin = await load('count_vowels');
    plugin.close();
    plugin.close();
    assert.throws(() => plugin.call('count_vowels', 'a'), { name: 'StateError', code: 'CLOSED', message: /closed/ });
  });

  test('reset() forgets Extism memory and the next call still works', async () => {
    using plugin = await load('count_vowels');
    plugin.call('count_vowels', 'aaa');
    plugin.reset();
    assert.deepEqual(plugin.call('count_vowels', 'aaa').json(), { count: 3 });
  });

  test('many calls on one instance do not grow Extism memory', async () => {
    using plugin = await load('echo');
    const input = new Uint8Array(4096);
    for (let i = 0; i < 10_000; i++) plugin.call('echo', input);
    assert.ok(plugin.kernel.memory.buffer.byteLength <= 4 * 65536);
  });

  test('createPlugin loads from a path, a file URL and a manifest', async () => {
    const path = new URL('fixtures/build/count_vowels.wasm', import.meta.url);
    for (const source of [path.pathname, path, { wasm: [{ path: path.pathname }] }]) {
      using plugin = await createPlugin(source, { logLevel: 'off' });
      assert.deepEqual(plugin.call('count_vowels', 'aei').json(), { count: 3 });
    }
  });

  test('a WebAssembly.Module source is used as is', async () => {
    using plugin = await createPlugin(new WebAssembly.Module(fixture('count_vowels')));
    assert.deepEqual(plugin.call('count_vowels', 'aei').json(), { count: 3 });
  });
});
