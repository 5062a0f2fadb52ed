import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { AbortError, createPool, type HostFunction, isTenonError } from '../src/index.js';
import { fixture } from './fixtures.js';

// Per-call limits and cancellation of pooled calls: fuel and deadlines kept in the worker, and an
// AbortSignal that takes a call out of the queue, or out of its worker.

const boom: HostFunction = { name: 'boom', call: () => {} };
/**
 * Host functions for host_call.wat. `reflect` counts the calls that reached it (an aborted call that
 * never ran leaves the count alone); given "hang" it says so and never answers, so a test knows its
 * call is running in the worker.
 */
function counting(): { functions: HostFunction[]; calls: () => number; hanging: Promise<void> } {
  let calls = 0;
  let entered: () => void = () => {};
  const hanging = new Promise<void>((resolve) => {
    entered = resolve;
  });
  const reflect: HostFunction = {
    name: 'reflect',
    params: ['ptr'],
    results: ['ptr'],
    call: (context, offset: bigint) => {
      calls++;
      if (context.text(offset) === 'hang') {
        entered();
        return new Promise(() => {});
      }
      return context.write(context.read(offset) ?? new Uint8Array());
    },
  };
  const add: HostFunction = { name: 'add_i64', params: ['i64', 'i64'], results: ['i64'], call: (_c, a: bigint, b: bigint) => a + b };
  return { functions: [boom, reflect, add], calls: () => calls, hanging };
}

describe('per-call fuel and timeoutMs on a pool', () => {
  it('call() fails with FUEL_EXHAUSTED when a call passes its own fuel, and the next call has the plug-in’s', async () => {
    await using pool = createPool({ size: 1, plugin: { meter: true, functions: [boom], logLevel: 'off' } });
    await assert.rejects(pool.call(fixture('hostile'), 'spin', undefined, { fuel: 10_000 }), {
      name: 'FuelExhaustedError',
      code: 'FUEL_EXHAUSTED',
      message: /used \d+ of 10000/,
    });
    // the same instance, unlimited again
    assert.equal((await pool.call(fixture('hostile'), 'ok')).length, 0);
    const vowels = await pool.call(fixture('count_vowels'), 'count_vowels', 'aeiou'.repeat(100), { fuel: 1_000_000 });
    assert.deepEqual(vowels.json(), { count: 500 });
  });

  it('call() fails with TIMEOUT at its own timeoutMs, stopped in the worker rather than by the hard limit', async () => {
    await using pool = createPool({ size: 1, plugin: { meter: true, functions: [boom], logLevel: 'off' } });
    const started = Date.now();
    const failed = await pool.call(fixture('hostile'), 'spin', undefined, { timeoutMs: 100 }).catch((error: unknown) => error);
    assert.ok(isTenonError(failed) && failed.code === 'TIMEOUT', String(failed));
    // the meter's message, not the pool's "hard ... limit: its worker was terminated"
    assert.match(failed.message, /"spin" ran past its 100 ms deadline \(stopped after/);
    assert.equal(failed.timeoutMs, 100);
    assert.ok(Date.now() - started < 60_000);
    assert.deepEqual((await pool.call(fixture('count_vowels'), 'count_vowels', 'ai')).json(), { count: 2 });
  });

  it('per-call limits on a plug-in compiled without metering fail with UNSUPPORTED; bad values with RangeError', async () => {
    await using pool = createPool({ size: 1 });
    await assert.rejects(pool.call(fixture('count_vowels'), 'count_vowels', 'a', { fuel: 1000 }), {
      name: 'StateError',
      code: 'UNSUPPORTED',
      message: /1000 fuel: the plug-in was compiled without metering/,
    });
    await assert.rejects(pool.call(fixture('count_vowels'), 'count_vowels', 'a', { timeoutMs: 50 }), {
      name: 'StateError',
      code: 'UNSUPPORTED',
      message: /50 ms: the plug-in was compiled without metering/,
    });
    await assert.rejects(pool.call(fixture('count_vowels'), 'count_vowels', 'a', { fuel: -1 }), {
      name: 'RangeError',
      message: /fuel must be a positive integer, got -1/,
    });
    await assert.rejects(pool.call(fixture('count_vowels'), 'count_vowels', 'a', { timeoutMs: Number.NaN }), {
      name: 'RangeError',
      message: /timeoutMs must be a positive number/,
    });
  });
});

describe('aborting a pooled call', () => {
  it('a signal already aborted fails the call with ABORTED before it is queued, with the reason as cause', async () => {
    const { functions, calls } = counting();
    await using pool = createPool({ size: 1, plugin: { functions, logLevel: 'off' } });
    const reason = new Error('the user left');
    const failed = await pool
      .call(fixture('host_call'), 'reflect', 'x', { signal: AbortSignal.abort(reason) })
      .catch((error: unknown) => error);
    assert.ok(failed instanceof AbortError, String(failed));
    assert.equal(failed.code, 'ABORTED');
    assert.equal(failed.name, 'AbortError');
    assert.equal(failed.cause, reason);
    assert.equal(calls(), 0);
  });

  it('abort removes a call waiting in the pool’s queue; the calls before it still run', async () => {
    const { functions, calls } = counting();
    await using pool = createPool({ size: 1, plugin: { meter: true, functions, logLevel: 'off' } });
    await Promise.all([pool.prepare(fixture('hostile')), pool.prepare(fixture('host_call'))]);
    // two batches fill the worker (one running, one waiting there); the third call waits in the pool
    const first = pool.call(fixture('hostile'), 'spin', undefined, { timeoutMs: 300 });
    await tick();
    const second = pool.call(fixture('host_call'), 'reflect', 'second');
    await tick();
    const controller = new AbortController();
    const third = pool.call(fixture('host_call'), 'reflect', 'third', { signal: controller.signal });
    controller.abort();
    await assert.rejects(third, { name: 'AbortError', code: 'ABORTED', message: /"reflect" was aborted while queued$/ });
    await assert.rejects(first, { code: 'TIMEOUT' });
    assert.equal((await second).text(), 'second');
    assert.equal(calls(), 1);
  });

  it('abort of a call running in a worker fails it with ABORTED, replaces the worker, and loses no other call', async () => {
    const { functions, calls, hanging } = counting();
    await using pool = createPool({ size: 1, plugin: { functions, logLevel: 'off' } });
    const controller = new AbortController();
    await pool.prepare(fixture('host_call'));
    // one batch: the first call runs (its host function never answers, and it has no deadline), the others wait behind it
    const running = pool.call(fixture('host_call'), 'reflect', 'hang', { signal: controller.signal });
    const waiting = new AbortController();
    const skipped = pool.call(fixture('host_call'), 'reflect', 'skipped', { signal: waiting.signal });
    const after = pool.call(fixture('host_call'), 'reflect', 'after');
    await hanging;
    // aborted while it waits in the worker's batch: the worker would skip it, but it is replaced first
    waiting.abort();
    await assert.rejects(skipped, { name: 'AbortError', code: 'ABORTED', message: /aborted while queued in a worker/ });
    const reason = new Error('stop');
    controller.abort(reason);
    const failed = await running.catch((error: unknown) => error);
    assert.ok(failed instanceof AbortError, String(failed));
    assert.match(failed.message, /"reflect" was aborted while it ran: its worker was replaced/);
    assert.equal(failed.cause, reason);
    assert.equal((await after).text(), 'after');
    assert.deepEqual((await pool.call(fixture('count_vowels'), 'count_vowels', 'eio')).json(), { count: 3 });
    assert.equal(calls(), 2, 'the hanging call and "after"; the skipped call never reached its host function');
  });

  it('a worker skips a call aborted while it waits in the worker’s batch', async () => {
    const { functions, calls } = counting();
    await using pool = createPool({ size: 1, plugin: { meter: true, functions, logLevel: 'off' } });
    // compiled and in the worker already, so that the calls below go out together
    await Promise.all([pool.prepare(fixture('hostile')), pool.prepare(fixture('host_call'))]);
    // one batch: a spin the worker itself stops at 200 ms, then the call to abort, then one to keep
    const spin = pool.call(fixture('hostile'), 'spin', undefined, { timeoutMs: 200 });
    const controller = new AbortController();
    const skipped = pool.call(fixture('host_call'), 'reflect', 'skipped', { signal: controller.signal });
    const kept = pool.call(fixture('host_call'), 'reflect', 'kept');
    await tick();
    controller.abort();
    await assert.rejects(skipped, { name: 'AbortError', code: 'ABORTED', message: /aborted while queued in a worker/ });
    await assert.rejects(spin, { code: 'TIMEOUT', message: /ran past its 200 ms deadline/ });
    assert.equal((await kept).text(), 'kept');
    assert.equal(calls(), 1, 'the same worker ran the batch, without the aborted call');
  });

  it('abort after a call settled changes nothing, and the pool closes with nothing left over', async () => {
    const pool = createPool({ size: 1 });
    const controller = new AbortController();
    const output = await pool.call(fixture('count_vowels'), 'count_vowels', 'aa', { signal: controller.signal });
    controller.abort();
    assert.deepEqual(output.json(), { count: 2 });
    await pool.close();
  });
});
