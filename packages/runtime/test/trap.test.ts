import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isTenonError, TrapError } from '../src/index.js';
import { load, u64 } from './fixtures.js';

describe('traps', () => {
  const cases = [
    ['unreachable', 'unreachable', /unreachable instruction/],
    ['oob', 'memory_out_of_bounds', /memory out of bounds/],
    ['recurse', 'stack_overflow', /overflowed the call stack/],
    ['div0', 'divide_by_zero', /divided an integer by zero/],
    ['int_overflow', 'integer_overflow', /overflowed an integer division/],
    ['bad_cast', 'invalid_conversion', /converted a float/],
    ['indirect_null', 'indirect_call_mismatch', /indirect call/],
  ] as const;

  for (const [fn, kind, message] of cases) {
    test(`"${fn}" fails with TRAP of kind ${kind}, and the next call works`, async () => {
      using plugin = await load('traps');
      assert.throws(
        () => plugin.call(fn),
        (error) => {
          assert.ok(error instanceof TrapError);
          assert.ok(isTenonError(error));
          assert.equal(error.code, 'TRAP');
          assert.equal(error.kind, kind);
          assert.match(error.message, message);
          assert.match(error.message, new RegExp(`"${fn}"`));
          assert.ok(error.cause instanceof Error, 'the engine error is kept as the cause');
          return true;
        },
      );
      assert.equal(plugin.call('state').length, 16);
    });
  }

  test('a trap rebuilds the instance: its own state starts over, nothing half-done survives', async () => {
    using plugin = await load('globals');
    plugin.call('count');
    plugin.call('count');
    assert.throws(() => plugin.call('trap'), { code: 'TRAP' });
    assert.equal(u64(plugin.call('count').bytes()), 1);
  });

  test('1,000 stack overflows in a row leave the host healthy', async () => {
    using plugin = await load('traps');
    for (let i = 0; i < 1000; i++) assert.throws(() => plugin.call('recurse'), { kind: 'stack_overflow' });
    assert.equal(plugin.call('state').length, 16);
  });
});
