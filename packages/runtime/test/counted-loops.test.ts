import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { instrument } from '../src/limits/instrument.js';
import { assemble, callMetered, load, loops } from './fixtures.js';

/** Bounded in CI; `npm run fuzz` raises it. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

/** A counted loop's shape: counter width, step, how the back edge compares, and with what. */
interface Shape {
  wide: boolean;
  step: number;
  compare: string;
  /** Counter first (`counter < bound`) or second (`bound > counter`). */
  swapped: boolean;
  /** The stepped counter as a local.tee in the comparison, or a local.set before it. */
  tee: boolean;
  bound: 'local' | number;
  /** The loop in a function only `run` calls, which takes the counter as a parameter, beside a scaled instruction. */
  internal: boolean;
}

/**
 * `run(counter, bound)`: a loop that sums a function of the counter, with work after it, so the
 * fuel a call needs is not just the loop's.
 */
function loopModule(shape: Shape): Uint8Array {
  const t = shape.wide ? 'i64' : 'i32';
  const stepped = `(${t}.add (local.get $c) (${t}.const ${shape.step}))`;
  const counter = shape.tee ? `(local.tee $c ${stepped})` : '(local.get $c)';
  const bound = shape.bound === 'local' ? '(local.get $b)' : `(${t}.const ${shape.bound})`;
  const test =
    shape.compare === 'nez'
      ? shape.wide
        ? `(i32.eqz (i64.eqz ${counter}))`
        : counter
      : shape.swapped
        ? `(${t}.${mirror(shape.compare)} ${bound} ${counter})`
        : `(${t}.${shape.compare} ${counter} ${bound})`;
  const name = shape.internal ? '$loop' : '(export "run")';
  return assemble(`(module
    (memory 1)
    ${shape.internal ? `(func (export "run") (param ${t} ${t}) (result i64) (call $loop (local.get 0) (local.get 1)))` : ''}
    (func ${name} (param $c ${t}) (param $b ${t}) (result i64) (local $acc i64)
      ${shape.internal ? '(memory.fill (i32.const 0) (i32.const 0) (i32.const 64))' : ''}
      (loop $l
        (local.set $acc (i64.add (i64.mul (local.get $acc) (i64.const 31)) (${shape.wide ? 'local.get $c' : 'i64.extend_i32_u (local.get $c)'})))
        ${shape.tee ? '' : `(local.set $c ${stepped})`}
        (br_if $l ${test}))
      (i64.add (local.get $acc) (i64.const 1))))`);
}

function mirror(compare: string): string {
  const [kind, sign] = compare.split('_') as [string, string | undefined];
  const mirrored = { lt: 'gt', gt: 'lt', le: 'ge', ge: 'le', ne: 'ne' }[kind]!;
  return sign ? `${mirrored}_${sign}` : mirrored;
}

/** Call `run` on a metered build under a fuel limit, its arguments as i64s or i32s. */
const call = (bytes: Uint8Array, args: [bigint, bigint], wide: boolean, fuel: number) =>
  callMetered(bytes, 'run', wide ? args : args.map((a) => Number(BigInt.asIntN(32, a))), fuel);

const builds = (shape: Shape) => {
  const source = loopModule(shape);
  return {
    versioned: instrument(source, { meter: true }),
    checked: instrument(source, { meter: true, countedLoops: false }),
  };
};

// shapes LLVM emits: up to a bound with <, <=, !=; down to one with >, >=, != (or to zero)
const shape: fc.Arbitrary<Shape> = fc
  .record({
    wide: fc.boolean(),
    magnitude: fc.constantFrom(1, 2, 4, 8, 1 << 20),
    up: fc.boolean(),
    kind: fc.constantFrom('strict', 'inclusive', 'ne', 'nez'),
    signed: fc.boolean(),
    swapped: fc.boolean(),
    tee: fc.boolean(),
    bound: fc.oneof(fc.constant<'local'>('local'), fc.integer({ min: -40, max: 40 })),
    internal: fc.boolean(),
  })
  .map(({ wide, magnitude, up, kind, signed, swapped, tee, bound, internal }) => {
    const sign = signed ? '_s' : '_u';
    const compare =
      kind === 'ne' || kind === 'nez' ? kind : `${up ? (kind === 'strict' ? 'lt' : 'le') : kind === 'strict' ? 'gt' : 'ge'}${sign}`;
    return { wide, step: up ? magnitude : -magnitude, compare, swapped, tee, bound: kind === 'nez' ? 0 : bound, internal };
  });

// counters and bounds near zero and near each end of the range, where a step may wrap
const edge = (wide: boolean) => {
  const bits = wide ? 64n : 32n;
  const near = (base: bigint) => fc.bigInt({ min: base - 64n, max: base + 64n });
  return fc.oneof(near(0n), near(1n << (bits - 1n)), near(1n << bits), fc.bigInt({ min: 0n, max: (1n << bits) - 1n }));
};

// a checked loop is wrapped in two loop instructions; a versioned one adds its unchecked copy
describe('counted loops', () => {
  test('a versioned loop charges the same fuel and computes the same as the checked loop, for any start, bound and limit', () => {
    fc.assert(
      fc.property(
        shape.chain((s) => fc.tuple(fc.constant(s), edge(s.wide), edge(s.wide), fc.integer({ min: 1, max: 3000 }))),
        ([s, counter, bound, fuel]) => {
          const { versioned, checked } = builds(s);
          const args: [bigint, bigint] = [counter, bound];
          assert.deepEqual(call(versioned, args, s.wide, fuel), call(checked, args, s.wide, fuel));
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('at the guard boundary, fuel exactly enough, one unit short and one over behave alike on both paths', () => {
    fc.assert(
      fc.property(
        shape.chain((s) => fc.tuple(fc.constant(s), fc.bigInt({ min: -30n, max: 30n }), fc.bigInt({ min: -30n, max: 30n }))),
        ([s, counter, bound]) => {
          const { versioned, checked } = builds(s);
          const args: [bigint, bigint] = [counter, bound];
          const full = call(checked, args, s.wide, 1_000_000);
          fc.pre(full.code === undefined); // runs to its end: it needs `full.used` fuel
          for (const fuel of [full.used - 1, full.used, full.used + 1]) {
            const outcome = call(versioned, args, s.wide, fuel);
            assert.deepEqual(outcome, call(checked, args, s.wide, fuel), `fuel ${fuel}`);
            assert.equal(outcome.code, fuel < full.used ? 'FUEL_EXHAUSTED' : undefined);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('every shape the generator makes with a bound in a local is versioned: an unchecked copy beside the checked loop', () => {
    fc.assert(
      fc.property(shape, (s) => {
        // a constant bound may be one the counter could wrap past (see the next tests), and an
        // i32 counter's step may not exceed an iteration's cost (14 here)
        fc.pre(s.bound === 'local' && (s.wide || Math.abs(s.step) <= 8) && !s.internal);
        const { versioned, checked } = builds(s);
        assert.equal(loops(checked), 2);
        assert.equal(loops(versioned), 3);
      }),
      { numRuns: 50 },
    );
  });

  const unversioned: [string, string][] = [
    [
      'the counter written twice in the body',
      `(local.set $c (i32.add (local.get $c) (i32.const 1)))
       (local.set $c (i32.add (local.get $c) (i32.const 1)))
       (br_if $l (i32.lt_u (local.get $c) (local.get $b)))`,
    ],
    [
      'the counter written inside a block',
      `(if (local.get $b) (then (local.set $c (i32.add (local.get $c) (i32.const 1)))))
       (br_if $l (i32.lt_u (local.get $c) (local.get $b)))`,
    ],
    [
      'a bound the loop changes',
      `(local.set $b (i32.add (local.get $b) (i32.const 1)))
       (local.set $c (i32.add (local.get $c) (i32.const 2)))
       (br_if $l (i32.lt_u (local.get $c) (local.get $b)))`,
    ],
    [
      'a call to a function that charges fuel',
      `(drop (call $metered))
       (local.set $c (i32.add (local.get $c) (i32.const 1)))
       (br_if $l (i32.lt_u (local.get $c) (local.get $b)))`,
    ],
    [
      'a way out other than the back edge',
      `(br_if 1 (i32.eq (local.get $c) (i32.const 7)))
       (local.set $c (i32.add (local.get $c) (i32.const 1)))
       (br_if $l (i32.lt_u (local.get $c) (local.get $b)))`,
    ],
    [
      'a step that is not a power of two',
      `(local.set $c (i32.add (local.get $c) (i32.const 3)))
       (br_if $l (i32.lt_u (local.get $c) (local.get $b)))`,
    ],
    [
      'a counter moving away from its bound',
      `(local.set $c (i32.sub (local.get $c) (i32.const 1)))
       (br_if $l (i32.lt_u (local.get $c) (local.get $b)))`,
    ],
    [
      'an == test',
      `(local.set $c (i32.add (local.get $c) (i32.const 1)))
       (br_if $l (i32.eq (local.get $c) (local.get $b)))`,
    ],
    [
      'a step of 2 up to a constant bound it may wrap past (<= 0xfffffffe)',
      `(local.set $c (i32.add (local.get $c) (i32.const 2)))
       (br_if $l (i32.le_u (local.get $c) (i32.const -2)))`,
    ],
    [
      'a test that always holds (>= 0, unsigned)',
      `(local.set $c (i32.sub (local.get $c) (i32.const 1)))
       (br_if $l (i32.ge_u (local.get $c) (i32.const 0)))`,
    ],
    [
      'an i32 counter stepping further than an iteration costs',
      `(local.set $c (i32.add (local.get $c) (i32.const 64)))
       (br_if $l (i32.lt_u (local.get $c) (local.get $b)))`,
    ],
  ];
  for (const [what, body] of unversioned) {
    test(`a loop with ${what} keeps only its checked form`, () => {
      const source = assemble(`(module
        (func $metered (export "metered") (result i32) (i32.const 1))
        (func (export "run") (param $c i32) (param $b i32) (result i32)
          (block (loop $l ${body}))
          (local.get $c)))`);
      const metered = instrument(source, { meter: true });
      assert.equal(loops(metered), 2);
      assert.deepEqual(metered, instrument(source, { meter: true, countedLoops: false }));
    });
  }

  // a copy loop as C's count vowels has: a kernel call per iteration
  const callingLoop = (module: string, name: string) =>
    assemble(`(module
      (import "${module}" "${name}" (func $k (param i64) (result i32)))
      (memory 1)
      (func (export "run") (param $c i32) (param $b i32) (result i32)
        (loop $l
          (i32.store8 (local.get $c) (call $k (i64.extend_i32_u (local.get $c))))
          (br_if $l (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 1))) (local.get $b))))
        (i32.load (i32.const 8))))`);

  test('a loop calling a kernel import that never leaves WebAssembly is versioned, charged and computing as when checked', () => {
    const source = callingLoop('extism:host/env', 'input_load_u8');
    const versioned = instrument(source, { meter: true });
    const checked = instrument(source, { meter: true, countedLoops: false });
    assert.equal(loops(versioned), 3);
    // a store past the memory's end traps at the same iteration on both paths
    const kernel = { 'extism:host/env': { input_load_u8: (k: bigint) => Number((k * 7n) & 0xffn) } };
    const run = (bytes: Uint8Array, args: [number, number], fuel: number) => callMetered(bytes, 'run', args, fuel, kernel);
    for (const args of [
      [0, 12],
      [5, 6],
      [9, 3],
      [0, 1000],
      [65530, 65540],
    ] as [number, number][]) {
      for (const fuel of [20, 100, 1_000, 20_000, 100_000])
        assert.deepEqual(run(versioned, args, fuel), run(checked, args, fuel), `${args} under ${fuel}`);
    }
  });

  for (const [module, name, what] of [
    ['extism:host/env', 'var_get', 'a kernel import that calls out to JavaScript'],
    ['extism:host/env', 'log_info', 'a kernel log call'],
    ['extism:host/user', 'lookup', 'a host function'],
  ] as const) {
    test(`a loop calling ${what} keeps only its checked form`, () => {
      const source = callingLoop(module, name);
      const metered = instrument(source, { meter: true });
      assert.equal(loops(metered), 2);
      assert.deepEqual(metered, instrument(source, { meter: true, countedLoops: false }));
    });
  }

  test('an i32 and an i64 loop in one function that takes the counter, each versioned, each charged as when checked', () => {
    const source = assemble(`(module
      (func (export "run") (param i32 i64) (result i64) (call $both (local.get 0) (local.get 1)))
      (func $both (param $n i32) (param $m i64) (result i64) (local $i i32) (local $j i64) (local $acc i64)
        (loop $a
          (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $i))))
          (br_if $a (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
        (loop $b
          (local.set $acc (i64.xor (local.get $acc) (local.get $m)))
          (br_if $b (i32.eqz (i64.eqz (local.tee $m (i64.add (local.get $m) (i64.const -4)))))))
        (local.get $acc)))`);
    const versioned = instrument(source, { meter: true });
    const checked = instrument(source, { meter: true, countedLoops: false });
    assert.equal(loops(versioned), 6);
    for (const args of [
      [10n, 40n],
      [0n, 4n],
      [-5n, 8n],
      [1000n, 4000n],
      [3n, 6n], // 6 is no multiple of 4: the second loop runs until the limit stops it
    ] as [bigint, bigint][]) {
      for (const fuel of [50, 200, 20_000]) {
        const run = (bytes: Uint8Array) => callMetered(bytes, 'run', [Number(args[0]), args[1]], fuel);
        assert.deepEqual(run(versioned), run(checked), `${args} under ${fuel}`);
      }
    }
  });

  test('the C count-vowels fixture is charged what it was before loops were versioned', async () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(1457).slice(0, 65536);
    for (const [input, fuel] of [
      [text, 3_474_061],
      ['Hello World', 935],
      ['', 306],
    ] as const) {
      using plugin = await load('count_vowels_c', { meter: true });
      plugin.call('count_vowels', input);
      assert.equal(plugin.stats.fuel, fuel, `${input.length} bytes`);
    }
  });
});
