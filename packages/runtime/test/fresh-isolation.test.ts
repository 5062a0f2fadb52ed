import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setImmediate as idle } from 'node:timers/promises';
import { compilePlugin, type HostFunction, type Plugin } from '../src/index.js';
import { fixture, PRISTINE, probeLeftovers } from './fixtures.js';

/** What `probe` found of earlier calls (see fixtures/leftovers.wat). */
const probe = (plugin: Plugin): Record<string, bigint> => probeLeftovers(plugin);

async function leftovers(instance: 'fresh' | 'reuse', starts: { count: number }, meter = false) {
  const started: HostFunction = { name: 'started', call: () => void starts.count++ };
  const linked: HostFunction = { name: 'linked', call: () => {} };
  return (await compilePlugin(fixture('leftovers'), { logLevel: 'off', instance, functions: [started, linked], meter })).instantiate();
}

function assertPristine(found: Record<string, bigint>, what: string): void {
  assert.deepEqual(found, PRISTINE, what);
}

describe("instance: 'fresh'", () => {
  test('the probe finds what an earlier call left on a reused instance (it can see every piece of state)', async () => {
    using plugin = await leftovers('reuse', { count: 0 });
    assertPristine(probe(plugin), 'first call');
    const second = probe(plugin);
    assert.equal(second.mark, 0x5245564f54464c45n);
    assert.equal(second.pages, 3n);
    assert.equal(second.tableSize, 5n);
    assert.equal(second.slotNull, 0n);
    assert.ok(second.memoryWords >= 3n, `memory words ${second.memoryWords}`);
    assert.equal(second.dataIntact, 0n);
    assert.ok(second.kernelWords > 0n, `kernel words ${second.kernelWords}`);
    assert.equal(second.varAbsent, 0n);
  });

  test('calls back to back: no byte of memory, globals, tables, vars or Extism memory survives', async () => {
    const starts = { count: 0 };
    using plugin = await leftovers('fresh', starts);
    for (let i = 0; i < 4; i++) assertPristine(probe(plugin), `call ${i + 1}`);
    assert.equal(plugin.getVar('left')?.length, 8, 'the last call still sees its own var');
  });

  test('calls with idle time between them run on an instance prepared off the call path, as clean', async () => {
    const starts = { count: 0 };
    using plugin = await leftovers('fresh', starts, true);
    for (let i = 0; i < 4; i++) {
      assertPristine(probe(plugin), `call ${i + 1}`);
      const before = starts.count;
      await idle();
      assert.equal(starts.count, before + 1, 'a spare instance was initialised between calls');
    }
  });

  test('the fuel of a call is the same whether its instance was prepared ahead or in the call', async () => {
    using plugin = await leftovers('fresh', { count: 0 }, true);
    probe(plugin);
    const inCall = plugin.stats.fuel;
    await idle();
    probe(plugin);
    assert.equal(plugin.stats.fuel, inCall);
    probe(plugin);
    assert.equal(plugin.stats.fuel, inCall);
  });

  test('a kernel given back by a closed instance reaches the next instance zeroed', async () => {
    const compiled = await compilePlugin(fixture('leftovers'), {
      logLevel: 'off',
      functions: [
        { name: 'started', call: () => {} },
        { name: 'linked', call: () => {} },
      ],
    });
    const first = compiled.instantiate();
    probe(first);
    first.close();
    using second = compiled.instantiate();
    assertPristine(probe(second), 'a new instance on a pooled kernel');
  });

  test('a prepared instance whose start-up fails leaves the call to report it', async () => {
    let fail = false;
    const started: HostFunction = {
      name: 'started',
      call: () => {
        if (fail) throw new Error('no start-up today');
      },
    };
    using plugin = (
      await compilePlugin(fixture('leftovers'), {
        logLevel: 'off',
        instance: 'fresh',
        functions: [started, { name: 'linked', call: () => {} }],
      })
    ).instantiate();
    probe(plugin);
    fail = true;
    await idle();
    assert.throws(() => probe(plugin), { name: 'HostFunctionError', code: 'HOST_FUNCTION_FAILED', message: /no start-up today/ });
    fail = false;
    assertPristine(probe(plugin), 'after the failure');
  });
});
