import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { load } from './fixtures.js';

// Fuel is deterministic: the same module and input cost the same fuel on every run and machine.
// These numbers pin the cost model of our WAT fixtures (no bulk-memory instructions in them): a
// deliberate change of the model changes them here, in one place. The limit must bite exactly
// there: a budget of what a call needs lets it finish, one unit less stops it.
const CASES: { fixture: string; fn: string; input: string; fuel: number; output: string }[] = [
  { fixture: 'count_vowels', fn: 'count_vowels', input: '', fuel: 300, output: '{"count":0}' },
  { fixture: 'count_vowels', fn: 'count_vowels', input: 'Hello, World!', fuel: 881, output: '{"count":3}' },
  { fixture: 'count_vowels', fn: 'count_vowels', input: 'a'.repeat(1000), fuel: 48_066, output: '{"count":1000}' },
  { fixture: 'echo', fn: 'echo', input: 'x'.repeat(100), fuel: 330, output: 'x'.repeat(100) },
];

describe('fuel is exact and the limit bites at the limit', () => {
  for (const c of CASES) {
    const what = `${c.fn}(${c.input.length} bytes)`;

    test(`${what} uses exactly ${c.fuel} fuel, on a new instance and on a reused one`, async () => {
      for (let instance = 0; instance < 2; instance++) {
        using plugin = await load(c.fixture, { meter: true });
        for (let call = 0; call < 2; call++) {
          assert.equal(plugin.call(c.fn, c.input).text(), c.output);
          assert.equal(plugin.stats.fuel, c.fuel);
        }
      }
    });

    test(`${what} finishes with a limit of exactly ${c.fuel} and runs out with ${c.fuel - 1}`, async () => {
      using plugin = await load(c.fixture, { meter: true });
      assert.equal(plugin.call(c.fn, c.input, { fuel: c.fuel }).text(), c.output);
      assert.equal(plugin.stats.fuel, c.fuel);

      const limit = c.fuel - 1;
      assert.throws(() => plugin.call(c.fn, c.input, { fuel: limit }), {
        name: 'FuelExhaustedError',
        code: 'FUEL_EXHAUSTED',
        fuelLimit: limit,
        message: new RegExp(`^Plug-in function "${c.fn}" ran out of fuel: used \\d+ of ${limit}$`),
      });
      // it stopped at the charge that crossed the limit, not later
      const used = plugin.stats.fuel ?? Number.NaN;
      assert.ok(used > limit && used <= c.fuel, `stopped after ${used} fuel with a limit of ${limit}`);
      // and the instance goes on: the exact budget still suffices
      assert.equal(plugin.call(c.fn, c.input, { fuel: c.fuel }).text(), c.output);
    });
  }

  test('the plug-in’s own fuel option bites at the same place as a per-call limit', async () => {
    const c = CASES[2]!;
    using enough = await load(c.fixture, { fuel: c.fuel });
    assert.equal(enough.call(c.fn, c.input).text(), c.output);
    using short = await load(c.fixture, { fuel: c.fuel - 1 });
    assert.throws(() => short.call(c.fn, c.input), {
      name: 'FuelExhaustedError',
      code: 'FUEL_EXHAUSTED',
      fuelLimit: c.fuel - 1,
      message: new RegExp(`ran out of fuel: used \\d+ of ${c.fuel - 1}$`),
    });
    assert.ok(short.stats.fuel! > c.fuel - 1);
  });
});
