import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as dropIn from '../src/extism.js';
import { createPool } from '../src/index.js';
import { fixture, load } from './fixtures.js';

/** `length` bytes counting up from `seed`. */
const pattern = (length: number, seed: number): Uint8Array => new Uint8Array(length).map((_, i) => (seed + i) & 0xff);

describe('output bytes', () => {
  test('bytes() of small outputs may share an ArrayBuffer, each reading only its own bytes, unchanged by later calls', async () => {
    using plugin = await load('echo');
    const inputs = [pattern(100, 1), pattern(1024, 2), pattern(4096, 3), pattern(11, 4), pattern(5000, 5)];
    const outputs = inputs.map((input) => plugin.call('echo', input).bytes());
    plugin.call('echo', pattern(1024, 99)).bytes();
    assert.deepEqual(outputs, inputs);
    // two outputs of up to 4 KiB over 64 bytes were carved from one slab: callers read them by byteOffset and byteLength
    assert.equal(outputs[0]!.buffer, outputs[1]!.buffer);
    assert.ok(outputs[1]!.byteOffset >= outputs[0]!.byteOffset + 100);
    assert.equal(outputs[1]!.byteOffset % 8, 0);
    // larger and tiny outputs own their buffer
    assert.equal(outputs[4]!.buffer.byteLength, 5000);
    assert.equal(outputs[3]!.buffer.byteLength, 11);
  });

  test('the @extism/extism drop-in returns an output whose buffer holds exactly the output, as rc13 does', async () => {
    const plugin = await dropIn.createPlugin({ wasm: [{ data: fixture('echo') }] }, { useWasi: false });
    try {
      for (const input of [pattern(1024, 7), pattern(1024, 8)]) {
        const output = (await plugin.call('echo', input))!;
        assert.equal(output.buffer.byteLength, 1024);
        assert.deepEqual(new Uint8Array(output.arrayBuffer()), input);
      }
    } finally {
      await plugin.close();
    }
  });

  test('a pool call’s output owns its bytes: nothing of another call crosses from the worker', async () => {
    await using pool = createPool({ size: 1 });
    const input = pattern(1024, 9);
    const [first, second] = await Promise.all([
      pool.call(fixture('echo'), 'echo', input),
      pool.call(fixture('echo'), 'echo', pattern(1024, 10)),
    ]);
    assert.deepEqual(first.bytes(), input);
    assert.equal(first.bytes().buffer.byteLength, 1024);
    assert.equal(second.bytes().buffer.byteLength, 1024);
  });
});
