import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CallContext } from '../src/index.js';
import { load } from './fixtures.js';

describe('var helpers: text and integers as Extism PDKs store them', () => {
  test('plugin.getVarText and getVarInt read a var the plug-in stored (u64 and u32 little-endian)', async () => {
    using plugin = await load('config_var');
    plugin.call('counter');
    plugin.call('counter');
    assert.equal(plugin.getVarInt('count'), 2n);
    plugin.call('var_store_input', new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    assert.equal(plugin.getVarInt('count'), 2n ** 64n - 1n);
    plugin.call('var_store_input', new Uint8Array([1, 2, 0, 0]));
    assert.equal(plugin.getVarInt('count'), 513n);
    plugin.call('var_store_input', 'grüße');
    assert.equal(plugin.getVarText('count'), 'grüße');
    assert.equal(plugin.getVarText('absent'), undefined);
    assert.equal(plugin.getVarInt('absent'), undefined);
  });

  test('getVarInt refuses a var that is not 4 or 8 bytes, naming it and its length', async () => {
    using plugin = await load('config_var');
    plugin.call('var_store_input', 'abc');
    assert.throws(() => plugin.getVarInt('count'), { name: 'RangeError', message: /var "count" is 3 bytes, not an integer/ });
  });

  test('a host function reads the var as text and answers with setVarInt, which the plug-in reads back', async () => {
    let seen: string | undefined;
    using plugin = await load('host_vars', {
      functions: [
        {
          name: 'swap',
          params: ['i64'],
          results: [],
          call: (context: CallContext) => {
            seen = context.getVarText('k');
            context.setVarInt('h', 0x0102n);
            assert.equal(context.getVarInt('h'), 258n);
            assert.throws(() => context.setVarInt('h', -1), { name: 'RangeError', message: /from 0 to 2\^64-1, got -1/ });
            assert.throws(() => context.setVarInt('h', 2 ** 64), { name: 'RangeError', message: /from 0 to 2\^64-1/ });
          },
        },
      ],
    });
    const output = plugin.call('run').bytes();
    assert.equal(seen, 'v');
    assert.deepEqual([...output], [2, 1, 0, 0, 0, 0, 0, 0]);
    assert.equal(plugin.getVarInt('h'), 258n);
  });
});
