import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { instrument } from '../src/limits/instrument.js';
import { fixture, load, loops } from './fixtures.js';

// fixtures/fuel_model.wat: helpers charged at their call sites, at their entry, or through the
// counter they are passed; unbounded work through each; loops with parameters, rethrow and delegate.
const FINITE: [string, number][] = [
  ['exact', 22],
  ['params', 5050],
  ['rethrow', 15],
  ['delegate', 107],
];

describe('the fuel model', () => {
  test('a known module is charged exactly what docs/limits.md says: 88 units', () => {
    const [fn, expected] = FINITE[0]!;
    assert.equal(metered().exports[fn]!(), expected);
    // 10 instructions of its own, $leaf's 4 at the call site, $sum(4) 5 + 5 × 13, $in_table 4
    assert.equal(used(metered(), fn), 88);
  });

  test('every function computes what it computes unmetered, for the same fuel on every run and instance', () => {
    const plain = new WebAssembly.Instance(new WebAssembly.Module(fixture('fuel_model') as Uint8Array<ArrayBuffer>));
    for (const [fn, expected] of FINITE) {
      assert.equal((plain.exports[fn] as () => number)(), expected, fn);
      const runs: number[] = [];
      for (let instance = 0; instance < 2; instance++) {
        const m = metered();
        for (let call = 0; call < 2; call++) {
          counter.value = 1 << 30;
          assert.equal(m.exports[fn]!(), expected, fn);
          runs.push((1 << 30) - (counter.value as number));
        }
      }
      assert.ok(runs[0]! > 0, fn);
      assert.deepEqual(runs, [runs[0], runs[0], runs[0], runs[0]], fn);
    }
  });

  for (const [fn, what] of [
    ['spin_leaf', 'a loop-free helper called in an infinite loop, directly and through the table'],
    ['recurse_table', 'recursion through the table, with no loop anywhere'],
    ['recurse_direct', 'direct recursion, the counter passed along'],
    ['params_forever', 'an infinite loop that takes a parameter'],
    ['rethrow_forever', 'an infinite loop inside a catch that rethrows'],
    ['delegate_forever', 'an infinite loop around a try that delegates'],
  ] as const) {
    test(`${what} runs out of fuel`, async () => {
      using plugin = await load('fuel_model', { fuel: 10_000 });
      assert.throws(() => plugin.call(fn, ''), {
        name: 'FuelExhaustedError',
        code: 'FUEL_EXHAUSTED',
        message: new RegExp(`^Plug-in function "${fn}" ran out of fuel: used \\d+ of 10000$`),
      });
      assert.ok((plugin.stats.fuel as number) > 10_000);
    });
  }

  test('loops with parameters, rethrow or delegate get their refuel call moved out like any loop', () => {
    const original = fixture('fuel_model');
    // each loop becomes loop $retry around loop $l; a loop left alone would keep its refuel call inside
    assert.equal(loops(original), 8);
    assert.equal(loops(instrument(original, { meter: true })), 16);
  });
});

/** Functions exported by the metered fixture, instantiated with a counter read back by `used`. */
type Metered = { exports: Record<string, () => number> };
const counter = new WebAssembly.Global({ value: 'i32', mutable: true }, 1 << 30);
function metered(): Metered {
  const bytes = instrument(fixture('fuel_model'), { meter: true }) as Uint8Array<ArrayBuffer>;
  const refuel = () => {
    throw new Error('refuel: a slice of 2^30 should be plenty');
  };
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), { tenon: { fuel: counter, refuel } }) as unknown as Metered;
}
function used(m: Metered, fn: string): number {
  counter.value = 1 << 30;
  m.exports[fn]!();
  return (1 << 30) - (counter.value as number);
}
