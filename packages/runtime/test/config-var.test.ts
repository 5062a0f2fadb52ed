import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compilePlugin, createPlugin } from '../src/index.js';
import { fixture, load, u64 } from './fixtures.js';

describe('config', () => {
  test('config_get returns the value for a key, from the manifest merged with the options', async () => {
    using plugin = await createPlugin(
      { wasm: [{ data: fixture('config_var') }], config: { region: 'eu', tier: 'gold' } },
      { config: { tier: 'platinum' }, logLevel: 'off' },
    );
    assert.equal(plugin.call('config', 'region').text(), 'eu');
    assert.equal(plugin.call('config', 'tier').text(), 'platinum');
  });

  test('a missing key and an empty value both come back as null (empty output)', async () => {
    using plugin = await load('config_var', { config: { empty: '' } });
    assert.equal(plugin.call('config', 'absent').length, 0);
    assert.equal(plugin.call('config', 'empty').length, 0);
  });

  test('config values must be strings', async () => {
    await assert.rejects(compilePlugin(fixture('config_var'), { config: { n: 1 as unknown as string } }), {
      name: 'ManifestError',
      code: 'MANIFEST_INVALID',
      message: /config\.n: must be a string/,
    });
  });

  test('a C plug-in reads config and counts its calls in a var', async () => {
    using plugin = await load('kv', { config: { greeting: 'bonjour' } });
    assert.equal(plugin.call('greet', 'Ada').text(), 'bonjour, Ada!');
    assert.equal(plugin.call('greet', 'Grace').text(), 'bonjour, Grace!');
    assert.equal(u64(plugin.call('calls').bytes()), 2);
  });
});

describe('vars', () => {
  test('vars persist across calls of one instance and not into another', async () => {
    const compiled = await compilePlugin(fixture('config_var'));
    using a = compiled.instantiate();
    using b = compiled.instantiate();
    assert.deepEqual(
      [1, 2, 3].map(() => u64(a.call('counter').bytes())),
      [1, 2, 3],
    );
    assert.equal(u64(b.call('counter').bytes()), 1);
  });

  test('var_set with a null value deletes the var', async () => {
    using plugin = await load('config_var');
    plugin.call('counter');
    plugin.call('var_delete');
    assert.equal(plugin.getVar('count'), undefined);
    assert.equal(u64(plugin.call('counter').bytes()), 1);
  });

  test('var_set may be given one block as both key and value', async () => {
    using plugin = await load('abi_fuzz');
    const record = (op: number, a: bigint, b: bigint): Buffer => {
      const bytes = Buffer.alloc(17);
      bytes[0] = op;
      bytes.writeBigUInt64LE(a, 1);
      bytes.writeBigUInt64LE(b, 9);
      return bytes;
    };
    // alloc(5); store "same!" into it (ops relative to the last block); var_set(block, block)
    const records = 1 + 5 + 1;
    const inputBlock = Math.ceil((records * 17) / 8) * 8;
    const block = BigInt(256 + 16 + inputBlock + 16); // the kernel's first block after the input
    const script = Buffer.concat([
      record(0, 5n, 0n),
      ...[...'same!'].map((c, i) => record(0x86, BigInt(i), BigInt(c.charCodeAt(0)))),
      record(0x8f, 0n, block), // op 15: var_set
    ]);
    plugin.call('run', script);
    assert.equal(Buffer.from(plugin.getVar('same!') ?? []).toString(), 'same!');
  });

  test('the host reads and writes vars between calls', async () => {
    using plugin = await load('config_var');
    const seven = new Uint8Array(8);
    seven[0] = 7;
    plugin.setVar('count', seven);
    assert.equal(u64(plugin.call('counter').bytes()), 8);
    assert.equal(u64(plugin.getVar('count')!), 8);
  });

  test('vars survive a trap that rebuilds the instance', async () => {
    using plugin = await load('config_var');
    plugin.call('counter');
    assert.throws(() => plugin.call('var_bomb'), { code: 'VAR_LIMIT' });
    assert.ok(plugin.getVar('count'));
  });

  test('a vars bomb stops at maxVarBytes with VAR_LIMIT and the host stays up', async () => {
    using plugin = await load('config_var', { memory: { maxVarBytes: 300_000 } });
    assert.throws(() => plugin.call('var_bomb'), {
      name: 'LimitError',
      code: 'VAR_LIMIT',
      message: /vars would take \d+ bytes, above memory\.maxVarBytes 300000/,
    });
    assert.equal(u64(plugin.call('counter').bytes()), 1, 'the next call works');
  });

  test('the default var budget is 1 MiB', async () => {
    using plugin = await load('config_var');
    assert.throws(() => plugin.call('var_bomb'), { code: 'VAR_LIMIT', message: /maxVarBytes 1048576/ });
  });

  test('maxVarBytes 0 disables vars', async () => {
    using plugin = await load('config_var', { memory: { maxVarBytes: 0 } });
    assert.throws(() => plugin.call('counter'), { code: 'VAR_LIMIT', message: /vars are disabled/ });
  });

  test('replacing a var counts only its new size', async () => {
    using plugin = await load('config_var', { memory: { maxVarBytes: 100 } });
    for (let i = 0; i < 50; i++) plugin.call('var_store_input', 'x'.repeat(90));
    assert.throws(() => plugin.call('var_store_input', 'x'.repeat(96)), { code: 'VAR_LIMIT' });
  });
});
