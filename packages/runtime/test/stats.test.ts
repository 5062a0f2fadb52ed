import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { load } from './fixtures.js';

describe('call stats', () => {
  test('durationMs is rounded to the microsecond', async () => {
    using plugin = await load('start_work', { meter: true });
    for (let i = 0; i < 20; i++) {
      plugin.call('run');
      const { durationMs } = plugin.stats;
      assert.ok(durationMs !== undefined && durationMs >= 0);
      assert.ok(Number.isInteger(durationMs * 1000), `at most 3 decimals, got ${durationMs}`);
    }
  });

  test('after FUNCTION_NOT_FOUND, stats.fuel is 0, not the start-up of the instance rebuilt after a trap', async () => {
    using plugin = await load('start_work', { meter: true });
    assert.throws(() => plugin.call('trap'), { name: 'TrapError', code: 'TRAP' });
    assert.throws(() => plugin.call('nope'), { name: 'FunctionNotFoundError', code: 'FUNCTION_NOT_FOUND', message: /nope/ });
    assert.equal(plugin.stats.fuel, 0);
    // the rebuilt instance serves the next call, which pays only for itself
    plugin.call('run');
    assert.ok(plugin.stats.fuel! < 10, `run costs a few units, got ${plugin.stats.fuel}`);
  });

  test('without a fuel limit, calls count on from where the last left the counter, and report the same fuel as limited ones', async () => {
    using plugin = await load('count_vowels', { meter: true });
    const fuelOf = (options?: { fuel?: number; timeoutMs?: number }): number => {
      plugin.call('count_vowels', 'Hello World, hello tenants', options);
      return plugin.stats.fuel!;
    };
    const first = fuelOf();
    assert.ok(first > 0);
    // free calls back to back (the counter is not reset between them), then limited ones in between
    const seen = [
      fuelOf(),
      fuelOf(),
      fuelOf({ fuel: 1_000_000 }),
      fuelOf(),
      fuelOf({ timeoutMs: 1000 }),
      fuelOf({ timeoutMs: 1000 }),
      fuelOf(),
      fuelOf({ timeoutMs: 1000 }),
      fuelOf({ fuel: 1_000_000, timeoutMs: 1000 }),
      fuelOf(),
    ];
    assert.deepEqual(seen, new Array(seen.length).fill(first));
    // a call stopped for fuel leaves the counter spent: the next free call still counts only itself
    assert.throws(() => plugin.call('count_vowels', 'Hello World, hello tenants', { fuel: 5 }), { code: 'FUEL_EXHAUSTED' });
    assert.deepEqual([fuelOf(), fuelOf()], [first, first]);
  });
});
