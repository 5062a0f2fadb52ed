import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { compilePlugin, createPool, FuelExhaustedError, isTenonError, type PluginOptions, TimeoutError } from '../src/index.js';
import { assemble, fixture, load, u64 } from './fixtures.js';

// Plug-ins whose single instructions do a lot of work: bulk memory and table operations and
// memory.grow. Each is charged for its work before it runs, so a fuel budget stops it before the
// work and a deadline within one instruction of it. The bounds asserted here are generous on
// purpose (seconds, where these plug-ins used to run for minutes); the precise figures are in
// `npm run bench:sandbox`.

/** Generous: the deadline, plus one instruction's work, plus a loaded shared machine. */
const SLACK_MS = 3000;

/** Runs `fn` and returns what it threw and how long it took, in milliseconds. */
function timed(fn: () => unknown): { error: unknown; ms: number } {
  const start = performance.now();
  try {
    fn();
  } catch (error) {
    return { error, ms: performance.now() - start };
  }
  return { error: undefined, ms: performance.now() - start };
}

describe('hostile bulk instructions', () => {
  const loops = ['fill_loop', 'copy_loop', 'init_loop', 'table_fill_loop', 'table_copy_loop', 'table_init_loop'];

  for (const fn of loops) {
    test(`${fn} under timeoutMs 200 fails with TIMEOUT within the bound, and the instance serves the next call`, async () => {
      using plugin = await load('bulk', { timeoutMs: 200 });
      const { error, ms } = timed(() => plugin.call(fn));
      assert.ok(error instanceof TimeoutError, String(error));
      assert.match(error.message, new RegExp(`^Plug-in function "${fn}" ran past its 200 ms deadline`));
      assert.ok(ms < 200 + SLACK_MS, `stopped after ${ms.toFixed(0)} ms`);
      assert.equal(u64(plugin.call('fill_once', new Uint8Array([4])).bytes()), 7);
    });
  }

  test('a loop of 64 MiB memory.fill under fuel 100,000 stops before its first fill, with the same fuel on every run', async () => {
    using plugin = await load('bulk', { fuel: 100_000 });
    const used: number[] = [];
    for (let run = 0; run < 2; run++) {
      const { error } = timed(() => plugin.call('fill_loop'));
      assert.ok(error instanceof FuelExhaustedError, String(error));
      assert.match(error.message, /^Plug-in function "fill_loop" ran out of fuel: used \d+ of 100000$/);
      used.push(error.fuelUsed);
      // the fill of 2^26 bytes was charged 2^24 before it ran, so nothing of it was done
      assert.ok(error.fuelUsed > 1 << 24 && error.fuelUsed < (1 << 24) + 100, String(error.fuelUsed));
    }
    assert.equal(used[0], used[1]);
  });

  test('a loop of memory.grow 1 under timeoutMs 200 with a cap of 60,000 pages fails with TIMEOUT within the bound', async () => {
    using plugin = await load('bulk', { timeoutMs: 200, memory: { maxPages: 60_000 } });
    const { error, ms } = timed(() => plugin.call('grow_loop'));
    assert.ok(error instanceof TimeoutError, String(error));
    assert.match(error.message, /^Plug-in function "grow_loop" ran past its 200 ms deadline/);
    assert.ok(ms < 200 + SLACK_MS, `stopped after ${ms.toFixed(0)} ms`);
  });

  test('a loop of table.grow 1 under timeoutMs 200 fails with TIMEOUT within the bound', async () => {
    using plugin = await load('bulk', { timeoutMs: 200 });
    const { error, ms } = timed(() => plugin.call('table_grow_loop'));
    assert.ok(error instanceof TimeoutError, String(error));
    assert.ok(ms < 200 + SLACK_MS, `stopped after ${ms.toFixed(0)} ms`);
  });

  test('a fill costs one unit per 4 bytes, a grow 16,384 units per page: fuel grows with the work', async () => {
    using plugin = await load('bulk', { meter: true });
    const fuel = (fn: string, log2: number) => {
      plugin.call(fn, new Uint8Array([log2]));
      return plugin.stats.fuel as number;
    };
    assert.equal(fuel('fill_once', 20) - fuel('fill_once', 10), ((1 << 20) - (1 << 10)) / 4);
    assert.equal(fuel('fill_once', 26) - fuel('fill_once', 10), ((1 << 26) - (1 << 10)) / 4);
    // grow_loop by 2^k pages from its 1024 until the cap (1024 + 2^k): both make two grows (one that fits, one that fails)
    using capped = await load('bulk', { meter: true, memory: { maxPages: 1024 + 64 } });
    capped.call('grow_loop', new Uint8Array([6]));
    const big = capped.stats.fuel as number;
    using capped2 = await load('bulk', { meter: true, memory: { maxPages: 1024 + 32 } });
    capped2.call('grow_loop', new Uint8Array([5]));
    assert.equal(big - (capped2.stats.fuel as number), 2 * (64 - 32) * 16_384);
  });

  test('the fill loop in a pool with hardTimeoutMs fails with TIMEOUT without waiting for its worker, and the pool goes on', async () => {
    // Unmetered, so only the hard timeout stops it. V8 takes about 16 s to terminate a worker in a
    // loop of 16 MiB fills here (over 100 s for 64 MiB: that case is in the bench), which is what
    // the call no longer waits for; the test process still waits for the thread at exit.
    await using pool = createPool({ size: 1, hardTimeoutMs: 1000 });
    await pool.call(fixture('bulk'), 'fill_once', new Uint8Array([4])); // the worker is up
    const start = performance.now();
    const error = await pool.call(fixture('bulk'), 'fill_loop', new Uint8Array([24])).catch((e: unknown) => e);
    const ms = performance.now() - start;
    assert.ok(error instanceof TimeoutError, String(error));
    assert.match(error.message, /^Plug-in function "fill_loop" ran past the pool's hard 1000 ms limit: its worker was terminated$/);
    assert.ok(ms < 1000 + SLACK_MS, `failed after ${ms.toFixed(0)} ms`);
    assert.equal(u64((await pool.call(fixture('bulk'), 'fill_once', new Uint8Array([4]))).bytes()), 7);
  });
});

describe('random mixes of bulk instructions, grows and loops under a deadline', () => {
  // Operands stay in bounds (16 MiB of memory, 4,096 table elements), so every mix runs until stopped.
  const op = fc.oneof(
    fc.integer({ min: 0, max: 1 << 24 }).map((n) => `(memory.fill (i32.const 0) (i32.const 1) (i32.const ${n}))`),
    fc.integer({ min: 0, max: 1 << 23 }).map((n) => `(memory.copy (i32.const ${n}) (i32.const 0) (i32.const ${n}))`),
    fc.integer({ min: 0, max: 64 }).map((n) => `(memory.init $d (i32.const 0) (i32.const 0) (i32.const ${n}))`),
    fc.integer({ min: 0, max: 4096 }).map((n) => `(table.fill $t (i32.const 0) (ref.func $nop) (i32.const ${n}))`),
    fc.integer({ min: 0, max: 4096 }).map((n) => `(table.copy $u $t (i32.const 0) (i32.const 0) (i32.const ${n}))`),
    fc.integer({ min: 0, max: 16 }).map((n) => `(table.init $t $e (i32.const 0) (i32.const 0) (i32.const ${n}))`),
    fc.integer({ min: 0, max: 64 }).map((n) => `(drop (table.grow $g (ref.null func) (i32.const ${n})))`),
    fc.integer({ min: 0, max: 16 }).map((n) => `(drop (memory.grow (i32.const ${n})))`),
    fc
      .integer({ min: 1, max: 100_000 })
      .map(
        (n) =>
          `(local.set $i (i32.const 0)) (loop $in (br_if $in (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const ${n}))))`,
      ),
  );
  const program = (ops: string[]) =>
    assemble(`(module
      (memory (export "memory") 256)
      (table $t 4096 funcref) (table $u 4096 funcref) (table $g 0 funcref)
      (data $d "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
      (elem $e func $nop $nop $nop $nop $nop $nop $nop $nop $nop $nop $nop $nop $nop $nop $nop $nop)
      (func $nop)
      (func (export "run") (result i32) (local $i i32)
        (loop $forever ${ops.join(' ')} (br $forever))
        (i32.const 0)))`);
  const options: PluginOptions = { timeoutMs: 50, memory: { maxPages: 512 }, limits: { maxTableElements: 100_000 }, logLevel: 'off' };

  test('always end with TIMEOUT within the bound', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 8 }), async (ops) => {
        using plugin = (await compilePlugin(program(ops), options)).instantiate();
        const { error, ms } = timed(() => plugin.call('run'));
        assert.ok(isTenonError(error) && error.code === 'TIMEOUT', String(error));
        assert.ok(ms < 50 + SLACK_MS, `stopped after ${ms.toFixed(0)} ms`);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 25) },
    );
  });
});

describe('large memory.fill and memory.copy, split into pieces with a deadline check between them', () => {
  // Fills 4 MiB with a pattern, runs one memory.copy(d, s, n) and one memory.fill(fd, 0x5a, fn)
  // from the input (u64 LE each), and outputs a hash of the memory: metered and unmetered must agree.
  const module = assemble(`(module
    (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
    (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
    (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
    (import "extism:host/env" "input_load_u64" (func $in (param i64) (result i64)))
    (memory (export "memory") 64)
    (func $hash (result i64) (local $i i32) (local $h i64)
      (local.set $h (i64.const 0xcbf29ce484222325))
      (loop $l
        (local.set $h (i64.mul (i64.xor (local.get $h) (i64.load (local.get $i))) (i64.const 0x100000001b3)))
        (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 8))) (i32.const 0x400000))))
      (local.get $h))
    (func (export "run") (result i32) (local $i i32) (local $p i64)
      (loop $l
        (i32.store (local.get $i) (i32.mul (local.get $i) (i32.const 2654435761)))
        (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 4))) (i32.const 0x400000))))
      (memory.copy (i32.wrap_i64 (call $in (i64.const 0))) (i32.wrap_i64 (call $in (i64.const 8))) (i32.wrap_i64 (call $in (i64.const 16))))
      (memory.fill (i32.wrap_i64 (call $in (i64.const 24))) (i32.const 0x5a) (i32.wrap_i64 (call $in (i64.const 32))))
      (local.set $p (call $alloc (i64.const 8)))
      (call $store_u64 (local.get $p) (call $hash))
      (call $output_set (local.get $p) (i64.const 8))
      (i32.const 0)))`);

  test('give the same memory as the whole instructions, overlapping either way, and trap the same out of bounds', async () => {
    using metered = (await compilePlugin(module, { meter: true, logLevel: 'off' })).instantiate();
    using plain = (await compilePlugin(new WebAssembly.Module(module as Uint8Array<ArrayBuffer>), { logLevel: 'off' })).instantiate();
    const outcome = (plugin: typeof plain, input: Uint8Array) => {
      try {
        return Buffer.from(plugin.call('run', input).bytes()).toString('hex');
      } catch (error) {
        return isTenonError(error) ? error.code : String(error);
      }
    };
    const size = 0x400000;
    const offset = fc.oneof(fc.integer({ min: 0, max: size }), fc.integer({ min: size - 0x50000, max: size + 8 }));
    const length = fc.oneof(fc.integer({ min: 0, max: size }), fc.integer({ min: 0x3fff0, max: 0x80010 }), fc.constant(0x100000));
    fc.assert(
      fc.property(offset, offset, length, offset, length, (...values) => {
        const input = new Uint8Array(40);
        const view = new DataView(input.buffer);
        for (const [i, value] of values.entries()) view.setBigUint64(i * 8, BigInt(value), true);
        assert.equal(outcome(metered, input), outcome(plain, input));
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 60) },
    );
  });
});
