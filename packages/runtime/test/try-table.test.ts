import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import binaryen from 'binaryen';
import { instrument } from '../src/limits/instrument.js';
import { assemble, callMetered, loops, type MeteredOutcome } from './fixtures.js';

// try_table (the exception-handling proposal's exnref form) names labels in its catch clauses, and
// an exception caught lands there with the counter as the thrower left it. Node 20's V8 cannot run
// try_table, so each case runs twice: in V8 as its twin, the same module with `block` for
// `try_table` and a branch for the throw (the same instructions in every loop, so the same fuel by
// docs/limits.md's cost model), and metered in binaryen's interpreter (`wasm-shell`) as written.
// Both must give the same result and use the same fuel, with and without running out.

const wasmShell = join(dirname(createRequire(import.meta.url).resolve('binaryen')), 'bin', 'wasm-shell');

/**
 * The module, `twin` for V8. `$g(n)` runs a loop n times, then throws n (the twin returns it).
 * - `caught_in_loop(k, n)`: a loop calls $g k times, each inside a try_table whose catch lands
 *   after a block: all of $g's work must be charged though $g never returns.
 * - `caught_at_loop(k, n)`: the catch names a loop, so it lands at the loop's start with the value.
 * - `caught_at_function(k, n)`: calls $h, which passes the counter (internal, called directly) and
 *   whose catch names its own function label.
 * - `thrown_out_of_loop(k)`: a throw in a try_table inside a loop, caught outside the loop (the
 *   catch label crosses the loop the rewriter wraps).
 * - `caught_all(k, n)`: as caught_in_loop with catch_all, which lands with no value (the twin's
 *   block ends as $g returns).
 */
function source(twin: boolean): string {
  const TRY = (label: string) => (twin ? 'block' : `try_table (catch $e ${label})`);
  const LAND = (label: string) => (twin ? `br ${label}` : 'drop');
  const THROW = (label: string) => (twin ? `br ${label}` : 'throw $e');
  return `(module
    (tag $e (param i32))
    (func $g (param $n i32) (result i32) (local $i i32)
      (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
      (${twin ? 'return' : 'throw $e'} (local.get $i)))
    (func (export "caught_in_loop") (param $k i32) (param $n i32) (result i32) (local $j i32) (local $acc i32)
      (loop $outer
        (local.set $acc (i32.add (local.get $acc)
          (block $h (result i32)
            (${TRY('$h')} (${LAND('$h')} (call $g (local.get $n))))
            (i32.const 0))))
        (br_if $outer (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $k))))
      (local.get $acc))
    (func (export "caught_at_loop") (param $k i32) (param $n i32) (result i32) (local $j i32) (local $acc i32)
      (i32.const 0)
      (loop $again (param i32)
        (local.set $acc (i32.add (local.get $acc)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (if (i32.lt_u (local.get $j) (local.get $k))
          (then (${TRY('$again')} (${LAND('$again')} (call $g (local.get $n)))))))
      (local.get $acc))
    (func $h (param $n i32) (result i32)
      (${TRY('0')} (${LAND('1')} (call $g (local.get $n))))
      (i32.const -1))
    (func (export "caught_at_function") (param $k i32) (param $n i32) (result i32) (local $j i32) (local $acc i32)
      (loop $outer
        (local.set $acc (i32.add (local.get $acc) (call $h (local.get $n))))
        (br_if $outer (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $k))))
      (local.get $acc))
    (func (export "thrown_out_of_loop") (param $k i32) (param $n i32) (result i32) (local $j i32)
      (block $out (result i32)
        (loop $l
          (${TRY('$out')}
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (if (i32.ge_u (local.get $j) (local.get $k)) (then (${THROW('$out')} (local.get $j)))))
          (br $l))
        (i32.const -1)))
    (func (export "caught_all") (param $k i32) (param $n i32) (result i32) (local $j i32)
      (loop $outer
        (block $h
          (${twin ? 'block' : 'try_table (catch_all $h)'} (drop (call $g (local.get $n)))))
        (br_if $outer (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $k))))
      (local.get $j)))`;
}

/** The Meter's protocol in WebAssembly, for wasm-shell: the same slices and the same stop. */
const METER = `(module $tenon
  (global $fuel (export "fuel") (mut i32) (i32.const 0))
  (global $granted (mut i32) (i32.const 0))
  (global $spent (mut i64) (i64.const 0))
  (global $limit (mut i64) (i64.const 0))
  (global $stopped (mut i32) (i32.const 0))
  (func $grant (local $left i64)
    (local.set $left (i64.sub (global.get $limit) (global.get $spent)))
    (if (i64.lt_s (local.get $left) (i64.const 0)) (then (local.set $left (i64.const 0))))
    (if (i64.gt_s (local.get $left) (i64.const 0x3fffffff)) (then (local.set $left (i64.const 0x3fffffff))))
    (global.set $granted (i32.wrap_i64 (local.get $left)))
    (global.set $fuel (global.get $granted)))
  (func (export "start") (param $limit i64)
    (global.set $limit (local.get $limit))
    (global.set $spent (i64.const 0))
    (global.set $stopped (i32.const 0))
    (call $grant))
  (func (export "refuel")
    (global.set $spent (i64.add (global.get $spent) (i64.extend_i32_s (i32.sub (global.get $granted) (global.get $fuel)))))
    (global.set $granted (i32.const 0))
    (if (i64.gt_s (global.get $spent) (global.get $limit))
      (then (global.set $stopped (i32.const 1)) (global.set $fuel (i32.const -0x40000000)))
      (else (call $grant))))
  (func (export "used") (result i64)
    (if (result i64) (global.get $stopped)
      (then (global.get $spent))
      (else (i64.add (global.get $spent) (i64.extend_i32_s (i32.sub (global.get $granted) (global.get $fuel))))))))
(register "tenon" $tenon)`;

/** The twin in V8, metered by the runtime's own Meter under a fuel limit: it computes, or runs out of fuel. */
function inV8(bytes: Uint8Array, fn: string, args: number[], fuel: number): MeteredOutcome {
  const outcome = callMetered(bytes, fn, args, fuel);
  assert.ok(outcome.code === undefined || outcome.code === 'FUEL_EXHAUSTED', `${fn}: ${outcome.code}`);
  return outcome;
}

const scratch = mkdtempSync(join(tmpdir(), 'tenon-try-table-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Run the metered module in wasm-shell, asserting each call's outcome there; fails with its output. */
function inInterpreter(bytes: Uint8Array, calls: { fn: string; args: number[]; fuel: number; expected: MeteredOutcome }[]): void {
  const module = binaryen.readBinary(bytes);
  module.setFeatures(binaryen.Features.All);
  assert.ok(module.validate(), 'binaryen validates the rewritten module');
  const text = module.emitText().replace(/^\(module/, '(module $m');
  module.dispose();
  const script = [METER, text];
  for (const { fn, args, fuel, expected } of calls) {
    const invoke = `(invoke $m "${fn}" ${args.map((a) => `(i32.const ${a})`).join(' ')})`;
    script.push(`(invoke $tenon "start" (i64.const ${fuel}))`);
    script.push(
      expected.result === undefined ? `(assert_trap ${invoke} "unreachable")` : `(assert_return ${invoke} (i32.const ${expected.result}))`,
    );
    script.push(`(assert_return (invoke $tenon "used") (i64.const ${expected.used}))`);
  }
  const file = join(scratch, 'case.wast');
  writeFileSync(file, script.join('\n'));
  const run = spawnSync(process.execPath, [wasmShell, file], { encoding: 'utf8' });
  assert.ok(run.status === 0 && run.stderr.includes('all checks passed'), `wasm-shell: ${run.stdout}${run.stderr}`);
}

describe('try_table', () => {
  const twin = instrument(assemble(source(true)), { meter: true });
  const metered = instrument(assemble(source(false)), { meter: true });

  test('the twins compute what they should in V8, so the fuel compared is that of real work', () => {
    assert.deepEqual(inV8(twin, 'caught_in_loop', [3, 1000], 1e9).result, 3000);
    assert.deepEqual(inV8(twin, 'caught_at_loop', [4, 500], 1e9).result, 1500);
    assert.deepEqual(inV8(twin, 'caught_at_function', [3, 200], 1e9).result, 600);
    assert.deepEqual(inV8(twin, 'thrown_out_of_loop', [40, 0], 1e9).result, 40);
    assert.deepEqual(inV8(twin, 'caught_all', [5, 300], 1e9).result, 5);
  });

  test("work in a function that throws is charged where try_table catches it, for the twin's fuel and result", () => {
    const calls = (
      [
        ['caught_in_loop', [3, 1000]],
        ['caught_in_loop', [200, 3]],
        ['caught_at_loop', [4, 500]],
        ['caught_at_function', [3, 200]],
        ['thrown_out_of_loop', [40, 0]],
        ['caught_all', [5, 300]],
      ] as const
    ).map(([fn, args]) => ({ fn, args: [...args], fuel: 1e9, expected: inV8(twin, fn, [...args], 1e9) }));
    inInterpreter(metered, calls);
  });

  test('a loop that catches what a busy function throws runs out of fuel where its twin does', () => {
    // each call of $g does 2,000 iterations' work and throws: before the catch re-read the
    // counter, the caller's stale copy handed that work back and only its own loop was charged
    const args = [300, 2000];
    const needed = inV8(twin, 'caught_in_loop', args, 1e9).used;
    const calls = [50_000, Math.floor(needed / 2), needed - 1].map((fuel) => ({
      fn: 'caught_in_loop',
      args,
      fuel,
      expected: inV8(twin, 'caught_in_loop', args, fuel),
    }));
    for (const { expected, fuel } of calls) assert.ok(expected.result === undefined && expected.used > fuel, `stopped under ${fuel}`);
    calls.push({ fn: 'caught_in_loop', args, fuel: needed, expected: { result: 600_000, used: needed } });
    inInterpreter(metered, calls);
  });

  test('loops in functions with try_table get their refuel call moved out like any loop', () => {
    const original = assemble(source(false));
    assert.equal(loops(original), 6);
    // each wrapped in a retry loop, and $g's counted loop copied unchecked too (left inside, the
    // refuel call would leave 6 loops and the copy)
    assert.equal(loops(metered), 13);
  });
});
