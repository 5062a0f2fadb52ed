import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compilePlugin, createPlugin, FuelExhaustedError, type HostFunction, LimitError, TimeoutError } from '../src/index.js';
import { fixture, load } from './fixtures.js';

const boom: HostFunction = {
  name: 'boom',
  params: [],
  results: [],
  call: () => {
    throw new Error('boom');
  },
};

describe('fuel', () => {
  test('every call reports the fuel it used, the same on every run', async () => {
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) {
      using plugin = await load('count_vowels', { meter: true });
      plugin.call('count_vowels', 'Hello, World!');
      plugin.call('count_vowels', 'Hello, World!');
      runs.push(plugin.stats.fuel!);
    }
    assert.ok(runs[0]! > 0);
    assert.deepEqual(runs, [runs[0], runs[0], runs[0]]);
  });

  test('more work costs more fuel', async () => {
    using plugin = await load('count_vowels', { meter: true });
    plugin.call('count_vowels', 'a'.repeat(10));
    const small = plugin.stats.fuel!;
    plugin.call('count_vowels', 'a'.repeat(1000));
    assert.ok(plugin.stats.fuel! > small * 10);
  });

  test('a call that needs more than its fuel fails with FUEL_EXHAUSTED, and the next call works', async () => {
    using plugin = await load('count_vowels', { fuel: 5_000 });
    assert.throws(
      () => plugin.call('count_vowels', 'a'.repeat(100_000)),
      (error) => {
        assert.ok(error instanceof FuelExhaustedError);
        assert.equal(error.code, 'FUEL_EXHAUSTED');
        assert.equal(error.fuelLimit, 5000);
        assert.ok(error.fuelUsed > 5000);
        assert.match(error.message, /^Plug-in function "count_vowels" ran out of fuel: used \d+ of 5000$/);
        return true;
      },
    );
    assert.deepEqual(plugin.call('count_vowels', 'aaa').json(), { count: 3 });
  });

  test('without metering there is no fuel to report, and a per-call limit is refused', async () => {
    using plugin = await load('count_vowels');
    plugin.call('count_vowels', 'a');
    assert.equal(plugin.stats.fuel, undefined);
    assert.throws(() => plugin.call('count_vowels', 'a', { fuel: 100 }), { code: 'UNSUPPORTED', message: /meter: true/ });
  });

  test('a per-call fuel limit overrides the plug-in’s', async () => {
    using plugin = await load('count_vowels', { meter: true });
    assert.throws(() => plugin.call('count_vowels', 'a'.repeat(1000), { fuel: 100 }), { code: 'FUEL_EXHAUSTED' });
    assert.deepEqual(plugin.call('count_vowels', 'a'.repeat(1000)).json(), { count: 1000 });
    assert.throws(() => plugin.call('count_vowels', 'a', { fuel: 0 }), { name: 'RangeError' });
  });

  for (const fn of ['spin', 'spin_calls', 'tail_forever', 'ping_pong']) {
    test(`an endless "${fn}" is stopped by fuel`, async () => {
      using plugin = await load('hostile', { fuel: 1_000_000, functions: [boom] });
      assert.throws(() => plugin.call(fn), { code: 'FUEL_EXHAUSTED' });
      assert.equal(plugin.call('ok').length, 0);
    });
  }

  test('a plug-in that catches every exception still runs out of fuel, and the first failure is reported', async () => {
    using plugin = await load('hostile', { fuel: 50_000, functions: [boom] });
    assert.throws(() => plugin.call('catch_spin'), { code: 'HOST_FUNCTION_FAILED', message: /boom/ });
    assert.equal(plugin.call('ok').length, 0);
  });

  test('a start function that loops is stopped by fuel at instantiation', async () => {
    await assert.rejects(createPlugin(fixture('start_loop'), { fuel: 100_000 }), {
      name: 'FuelExhaustedError',
      code: 'FUEL_EXHAUSTED',
      message: /^Instantiation ran out of fuel/,
    });
  });

  test('fuel and timeouts need module bytes, not a compiled WebAssembly.Module', async () => {
    await assert.rejects(createPlugin(new WebAssembly.Module(fixture('count_vowels')), { fuel: 10 }), { code: 'UNSUPPORTED' });
  });
});

describe('deadlines', () => {
  test('a plug-in that catches the host’s exceptions in an endless loop is stopped at timeoutMs', async () => {
    using plugin = await load('hostile', { timeoutMs: 30, functions: [boom] });
    assert.throws(() => plugin.call('catch_spin'), { code: 'HOST_FUNCTION_FAILED' });
    assert.equal(plugin.call('ok').length, 0);
  });

  for (const fn of ['spin', 'spin_calls', 'tail_forever', 'ping_pong']) {
    test(`an endless "${fn}" is stopped at timeoutMs, and the next call works`, async () => {
      using plugin = await load('hostile', { timeoutMs: 30, functions: [boom] });
      assert.throws(
        () => plugin.call(fn),
        (error) => {
          assert.ok(error instanceof TimeoutError && error instanceof LimitError);
          assert.equal(error.code, 'TIMEOUT');
          assert.equal(error.timeoutMs, 30);
          assert.match(error.message, new RegExp(`^Plug-in function "${fn}" ran past its 30 ms deadline`));
          return true;
        },
      );
      assert.equal(plugin.call('ok').length, 0);
    });
  }

  test('the manifest’s timeout_ms applies', async () => {
    using plugin = await createPlugin({ wasm: [{ data: fixture('hostile') }], timeout_ms: 20 } as never, { functions: [boom] });
    assert.throws(() => plugin.call('spin'), { code: 'TIMEOUT', message: /20 ms/ });
  });

  test('time spent in host functions counts against the deadline', async () => {
    const slow: HostFunction = {
      name: 'boom',
      params: [],
      results: [],
      call: () => {
        const until = performance.now() + 15;
        while (performance.now() < until) {
          // a host function that takes its time
        }
      },
    };
    using plugin = await load('hostile', { timeoutMs: 40, functions: [slow] });
    assert.throws(() => plugin.call('catch_spin'), { code: 'TIMEOUT', message: /40 ms deadline/ });
  });

  test('a start function that loops is stopped at timeoutMs', async () => {
    await assert.rejects(createPlugin(fixture('start_loop'), { timeoutMs: 20 }), {
      code: 'TIMEOUT',
      message: /^Instantiation ran past its 20 ms deadline/,
    });
  });

  test('timeoutMs must be positive', async () => {
    await assert.rejects(compilePlugin(fixture('count_vowels'), { timeoutMs: -1 }), { name: 'RangeError' });
  });
});

describe('instance isolation', () => {
  test('instance: fresh gives each call a new instance: no globals or vars carried over', async () => {
    using fresh = await load('config_var', { instance: 'fresh' });
    for (let i = 0; i < 3; i++) assert.equal(Buffer.from(fresh.call('counter').bytes()).readBigUInt64LE(0), 1n);
    using globals = await load('globals', { instance: 'fresh' });
    for (let i = 0; i < 3; i++) assert.equal(Buffer.from(globals.call('count').bytes()).readBigUInt64LE(0), 1n);
  });

  test('instance: reuse (the default) keeps state, as Extism does', async () => {
    using plugin = await load('globals');
    plugin.call('count');
    assert.equal(Buffer.from(plugin.call('count').bytes()).readBigUInt64LE(0), 2n);
  });
});

describe('size limits', () => {
  test('an input over maxInputBytes fails with INPUT_LIMIT before the plug-in runs', async () => {
    using plugin = await load('echo', { limits: { maxInputBytes: 10 } });
    assert.equal(plugin.call('echo', '0123456789').text(), '0123456789');
    assert.throws(() => plugin.call('echo', '01234567890'), {
      name: 'LimitError',
      code: 'INPUT_LIMIT',
      message: /11 bytes is over limits\.maxInputBytes \(10\)/,
    });
    assert.throws(() => plugin.call('echo', new Uint8Array(11)), { code: 'INPUT_LIMIT' });
  });

  test('an output over maxOutputBytes fails with OUTPUT_LIMIT', async () => {
    using plugin = await load('echo', { limits: { maxOutputBytes: 4 } });
    assert.equal(plugin.call('echo', 'four').text(), 'four');
    assert.throws(() => plugin.call('echo', 'five!'), {
      code: 'OUTPUT_LIMIT',
      message: /returned 5 bytes, over limits\.maxOutputBytes \(4\)/,
    });
  });

  test('a log flood past maxLogBytes fails the call with LOG_LIMIT, and the next call logs again', async () => {
    const lines: string[] = [];
    const logger = { trace() {}, debug() {}, info: (l: string) => lines.push(l), warn() {}, error() {} };
    using plugin = await load('logging', { logger, logLevel: 'info', limits: { maxLogBytes: 1000 } });
    assert.throws(() => plugin.call('log_flood', 'x'.repeat(10)), { code: 'LOG_LIMIT', message: /1000 bytes/ });
    assert.equal(lines.length, 100);
    plugin.call('log_all', 'fine');
    assert.equal(lines.at(-1), '[plugin] fine');
  });

  test('WASI output counts against maxLogBytes too', async () => {
    using plugin = await load('hello_wasi', {
      wasi: true,
      logLevel: 'info',
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {} },
      limits: { maxLogBytes: 5 },
    });
    assert.throws(() => plugin.call('hello'), { code: 'LOG_LIMIT' });
  });

  test('maxInstances bounds the live instances of one compiled plug-in', async () => {
    const compiled = await compilePlugin(fixture('count_vowels'), { limits: { maxInstances: 2 } });
    const a = compiled.instantiate();
    const b = compiled.instantiate();
    assert.throws(() => compiled.instantiate(), { code: 'INSTANCE_LIMIT', message: /2 instances are open, the limit is 2/ });
    a.close();
    a.close();
    using c = compiled.instantiate();
    assert.deepEqual(c.call('count_vowels', 'io').json(), { count: 2 });
    b.close();
  });

  test('limits must be non-negative integers', async () => {
    await assert.rejects(compilePlugin(fixture('echo'), { limits: { maxOutputBytes: -1 } }), {
      name: 'RangeError',
      message: /limits\.maxOutputBytes/,
    });
  });
});

describe('table limits', () => {
  test('table.grow past maxTableElements returns -1 inside the plug-in', async () => {
    using plugin = await load('hostile', { functions: [boom], limits: { maxTableElements: 5000 } });
    assert.equal(Buffer.from(plugin.call('table_bomb').bytes()).readBigUInt64LE(0), 4002n);
  });

  test('a table that starts larger than maxTableElements is refused at load', async () => {
    await assert.rejects(compilePlugin(fixture('hostile'), { functions: [boom], limits: { maxTableElements: 1 } }), {
      name: 'LimitError',
      code: 'MEMORY_LIMIT',
      message: /^Cannot load wasm\[0\]: Table 0 starts with 2 elements, more than limits\.maxTableElements \(1\)$/,
    });
  });
});
