import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { createPlugin } from '../src/index.js';
import { instrument } from '../src/limits/instrument.js';

const capMemories = (bytes: Uint8Array, maxPages: number): Uint8Array => instrument(bytes, { meter: false, maxPages });

import { fixture, load, u64 } from './fixtures.js';

describe('memory limits', () => {
  test('memory.grow inside the plug-in fails past maxPages, initial pages included, and the plug-in carries on', async () => {
    using plugin = await load('traps', { memory: { maxPages: 10 } });
    assert.equal(u64(plugin.call('grow', new Uint8Array([3])).bytes()), 10, '1 initial page + 9 in steps of 3');
    assert.equal(u64(plugin.call('grow', new Uint8Array([1])).bytes()), 10, 'the 10 pages are the cap: not one more');
  });

  test('a plug-in capped at 16 pages never holds a 17th, whatever steps it grows in', async () => {
    for (const step of [1, 2, 5, 16]) {
      using plugin = await load('traps', { memory: { maxPages: 16 } });
      const pages = u64(plugin.call('grow', new Uint8Array([step])).bytes());
      assert.ok(pages <= 16, `grew to ${pages} pages in steps of ${step}`);
      assert.equal(pages, 1 + Math.floor(15 / step) * step);
    }
  });

  test('a module whose initial memory is larger than maxPages fails to load with MEMORY_LIMIT', async () => {
    // (module (memory (export "memory") 3))
    const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 3, 1, 0, 3, 7, 10, 1, 6, 109, 101, 109, 111, 114, 121, 2, 0]);
    await assert.rejects(createPlugin(bytes, { memory: { maxPages: 2 } }), {
      name: 'LimitError',
      code: 'MEMORY_LIMIT',
      message: /^Cannot load wasm\[0\]: Memory 0 starts at 3 pages, more than memory\.maxPages \(2\)$/,
    });
    using exact = await createPlugin(bytes, { memory: { maxPages: 3 } });
    assert.equal(exact.stats.memoryPages, 3);
  });

  test('without maxPages a memory grows to the WebAssembly limit', async () => {
    using plugin = await load('traps');
    assert.equal(u64(plugin.call('grow', new Uint8Array([255])).bytes()) > 10_000, true);
  });

  test('Extism memory (alloc) is capped too: an alloc bomb gets 0 back, then the call ends normally', async () => {
    using plugin = await load('wild', { memory: { maxPages: 64 } });
    const blocks = u64(plugin.call('alloc_bomb').bytes());
    assert.equal(blocks, 3, '64 pages hold three 1 MiB blocks with their headers, not four');
    assert.ok(plugin.kernel.memory.buffer.byteLength <= 64 * 65536);
  });

  test('an input larger than Extism memory may hold fails with MEMORY_LIMIT before the plug-in runs', async () => {
    using plugin = await load('echo', { memory: { maxPages: 2 } });
    assert.throws(() => plugin.call('echo', new Uint8Array(4 * 65536)), {
      name: 'LimitError',
      code: 'MEMORY_LIMIT',
      message: /an input of 262144 bytes does not fit in Extism memory \(memory\.maxPages 2\)/,
    });
    assert.equal(plugin.call('echo', 'small').text(), 'small');
  });

  test('a host function cannot hand the plug-in more than Extism memory holds', async () => {
    const { compilePlugin } = await import('../src/index.js');
    const compiled = await compilePlugin(fixture('host_call'), {
      memory: { maxPages: 1 },
      functions: [
        { name: 'reflect', params: ['ptr'], results: ['ptr'], call: (c) => c.write(new Uint8Array(1 << 20)) },
        { name: 'add_i64', params: ['i64', 'i64'], results: ['i64'], call: () => 0n },
      ],
    });
    using plugin = compiled.instantiate();
    assert.throws(() => plugin.call('reflect', 'x'), {
      name: 'LimitError',
      code: 'MEMORY_LIMIT',
      message:
        /^Cannot give the plug-in a host function block of 1048576 bytes: it does not fit in Extism memory \(\d+ bytes in use, memory\.maxPages 1\)$/,
    });
  });

  test('a config value or a var that does not fit in Extism memory fails the call with MEMORY_LIMIT and its size', async () => {
    const big = 'x'.repeat(200_000);
    using plugin = await load('config_var', { memory: { maxPages: 1 }, config: { big } });
    assert.throws(() => plugin.call('config', 'big'), {
      name: 'LimitError',
      code: 'MEMORY_LIMIT',
      message: /^Cannot give the plug-in a config value of 200000 bytes: it does not fit in Extism memory/,
    });
    plugin.setVar('count', new Uint8Array(200_000));
    assert.throws(() => plugin.call('counter'), {
      name: 'LimitError',
      code: 'MEMORY_LIMIT',
      message: /^Cannot give the plug-in a var of 200000 bytes: it does not fit in Extism memory/,
    });
    plugin.setVar('count', undefined);
    assert.equal(u64(plugin.call('counter').bytes()), 1);
  });

  test('maxPages is written into the memory section of modules that define their memory', () => {
    const capped = capMemories(fixture('traps'), 5);
    const module = new WebAssembly.Module(capped as Uint8Array<ArrayBuffer>);
    const instance = new WebAssembly.Instance(module, {
      'extism:host/env': { input_load_u8: () => 0, alloc: () => 0n, store_u64: () => {}, output_set: () => {} },
    });
    const memory = instance.exports.memory as WebAssembly.Memory;
    assert.throws(() => memory.grow(5), RangeError);
    memory.grow(4);
    assert.equal(memory.buffer.byteLength, 5 * 65536, 'the 1 initial page counts toward the 5');
  });

  test('a module without a memory section keeps its imports and exports', () => {
    const original = new WebAssembly.Module(fixture('globals') as Uint8Array<ArrayBuffer>);
    const capped = new WebAssembly.Module(capMemories(fixture('globals'), 3) as Uint8Array<ArrayBuffer>);
    assert.deepEqual(WebAssembly.Module.exports(capped), WebAssembly.Module.exports(original));
    assert.deepEqual(WebAssembly.Module.imports(capped), WebAssembly.Module.imports(original));
  });

  test('a declared maximum lower than the budget is kept', () => {
    // (module (memory 1 2))
    const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 4, 1, 1, 1, 2]);
    const capped = capMemories(bytes, 100);
    assert.deepEqual([...capped.subarray(8)], [5, 4, 1, 1, 1, 2]);
  });

  test('caps need the module bytes: a compiled WebAssembly.Module with maxPages is refused', async () => {
    const { createPlugin } = await import('../src/index.js');
    await assert.rejects(createPlugin(new WebAssembly.Module(fixture('echo') as Uint8Array<ArrayBuffer>), { memory: { maxPages: 4 } }), {
      name: 'ManifestError',
      field: 'wasm[0].module',
      message: /need the module bytes/,
    });
  });

  test('a budget above a declared maximum keeps the maximum; below it, lowers it', () => {
    // (module (memory 1 8))
    const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 4, 1, 1, 1, 8]);
    assert.deepEqual([...capMemories(bytes, 4).subarray(8)], [5, 4, 1, 1, 1, 4]);
    assert.deepEqual([...capMemories(bytes, 1).subarray(8)], [5, 4, 1, 1, 1, 1]);
  });

  test('a truncated memory section is a LoadError, not a crash', () => {
    const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 9, 1, 1]);
    assert.throws(() => capMemories(bytes, 1), { name: 'LoadError', code: 'LOAD_FAILED' });
  });
});

test('a host function whose block does not fit in Extism memory fails the call with MEMORY_LIMIT, as docs/errors.md says', async () => {
  const wasm = readFileSync(new URL('../../pdk/test/fixtures/build/everything.wasm', import.meta.url));
  using plugin = await createPlugin(wasm, {
    memory: { maxPages: 40 },
    functions: [{ name: 'reverse', params: ['ptr'], results: ['ptr'], call: (context) => context.write('x'.repeat(5_000_000)) }],
  });
  assert.throws(() => plugin.call('host_reverse', 'abc'), {
    name: 'LimitError',
    code: 'MEMORY_LIMIT',
    message:
      /^Cannot give the plug-in a host function block of 5000000 bytes: it does not fit in Extism memory \(\d+ bytes in use, memory\.maxPages 40\)$/,
  });
});
