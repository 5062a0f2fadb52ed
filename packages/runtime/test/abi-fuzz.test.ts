import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isTenonError } from '../src/index.js';
import { load } from './fixtures.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

/** One kernel call of the abi_fuzz plug-in's script: op, a, b (see fixtures/abi_fuzz.wat). */
const record = fc.tuple(
  fc.integer({ min: 0, max: 0xff }),
  fc.oneof(
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    fc.constantFrom(0n, 1n, 255n, 256n, 272n, 2n ** 32n, 2n ** 63n, 2n ** 64n - 1n),
    fc.bigInt({ min: 0n, max: 4095n }),
  ),
  fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 255n })),
);

function script(records: [number, bigint, bigint][]): Uint8Array {
  const bytes = Buffer.alloc(records.length * 17);
  records.forEach(([op, a, b], i) => {
    bytes[i * 17] = op;
    bytes.writeBigUInt64LE(a, i * 17 + 1);
    bytes.writeBigUInt64LE(b, i * 17 + 9);
  });
  return bytes;
}

describe('random sequences of kernel calls (fast-check)', () => {
  test('never crash the host: each call returns or fails with a TenonError, and the instance goes on serving', async () => {
    using plugin = await load('abi_fuzz', { memory: { maxPages: 64, maxVarBytes: 4096 }, config: { a: 'b' }, fuel: 10_000_000 });
    fc.assert(
      fc.property(fc.array(record, { maxLength: 64 }), (records) => {
        try {
          const output = plugin.call('run', script(records));
          assert.ok(output.length >= 0);
          output.bytes();
        } catch (error) {
          if (!isTenonError(error)) throw error;
        }
        assert.equal(plugin.call('ok').length, 0);
      }),
      { numRuns: RUNS },
    );
  });
});
