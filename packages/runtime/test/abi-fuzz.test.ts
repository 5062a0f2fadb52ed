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

/** What a script of plug-in calls may end in: the plug-in's own failure or a limit, never a host fault (INTERNAL). */
const PLUGIN_OUTCOMES = new Set(['PLUGIN_FAILED', 'TRAP', 'MEMORY_LIMIT', 'VAR_LIMIT', 'LOG_LIMIT', 'OUTPUT_LIMIT', 'FUEL_EXHAUSTED']);
const OUTPUT_SET = 10;

describe('random sequences of kernel calls (fast-check)', () => {
  test('never crash the host: each call returns or fails with a plug-in error, and the instance goes on serving', async () => {
    using plugin = await load('abi_fuzz', { memory: { maxPages: 64, maxVarBytes: 4096 }, config: { a: 'b' }, fuel: 10_000_000 });
    fc.assert(
      fc.property(fc.array(record, { maxLength: 64 }), (records) => {
        const input = script(records);
        try {
          const output = plugin.call('run', input);
          // a call that succeeds returns exactly the length its last output_set named (none: empty)
          const last = records.findLast(([op]) => (op & 0x1f) === OUTPUT_SET);
          assert.equal(output.length, last === undefined ? 0 : Number(last[2]));
          assert.equal(output.bytes().length, output.length);
        } catch (error) {
          if (!isTenonError(error)) throw error;
          assert.ok(PLUGIN_OUTCOMES.has(error.code), `${error.code}: ${error.message}\n${(error.cause as Error | undefined)?.stack ?? ''}`);
        }
        assert.equal(plugin.call('ok').length, 0);
      }),
      { numRuns: RUNS },
    );
  });
});
