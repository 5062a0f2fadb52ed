import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createPlugin } from '../src/index.js';
import { fixture, load } from './fixtures.js';

type Hello = { seconds: number; random: number; home: unknown; environ: number };

describe('deterministic mode', () => {
  test('a plug-in reading the clock and random numbers twice gives the same outputs and fuel on every instance', async () => {
    const runs: string[] = [];
    for (let i = 0; i < 3; i++) {
      using plugin = await load('hello_wasi', { wasi: true, deterministic: true });
      const calls = [1, 2].map(() => ({ output: plugin.call('hello').text(), fuel: plugin.stats.fuel }));
      runs.push(JSON.stringify(calls));
    }
    assert.deepEqual(runs, [runs[0], runs[0], runs[0]]);
    const hello = JSON.parse(JSON.parse(runs[0]!)[0].output) as Hello;
    assert.equal(hello.seconds, 946_684_800, 'the clock starts at 2000-01-01');
    assert.equal(hello.home, null);
  });

  test('with fresh instances every call is the same, byte for byte and fuel for fuel', async () => {
    using plugin = await load('hello_wasi', { wasi: true, deterministic: true, instance: 'fresh' });
    const calls = [1, 2, 3].map(() => `${plugin.call('hello').text()} ${plugin.stats.fuel}`);
    assert.deepEqual(calls, [calls[0], calls[0], calls[0]]);
  });

  test('the seed changes the random numbers, and only them', async () => {
    using a = await load('hello_wasi', { wasi: true, deterministic: { seed: 1 } });
    using b = await load('hello_wasi', { wasi: true, deterministic: { seed: 2 } });
    const [ha, hb] = [a.call('hello').json<Hello>(), b.call('hello').json<Hello>()];
    assert.notEqual(ha.random, hb.random);
    assert.equal(ha.seconds, hb.seconds);
  });

  test('sleeping advances the virtual clock without waiting', async () => {
    using plugin = await load('hello_wasi', { wasi: true, deterministic: true, timeoutMs: 1000 });
    const elapsed = Number(plugin.call('nap', '5000').text());
    assert.ok(elapsed >= 5_000_000_000 && elapsed < 5_001_000_000, `${elapsed} ns`);
  });

  test('without deterministic mode the clocks are real', async () => {
    using plugin = await load('hello_wasi', { wasi: true });
    assert.ok(Math.abs(plugin.call('hello').json<Hello>().seconds - Date.now() / 1000) < 60);
    assert.ok(Number(plugin.call('nap', '5').text()) >= 5_000_000);
  });

  test('a sleep past the deadline stops the call with TIMEOUT instead of blocking', async () => {
    using plugin = await load('hello_wasi', { wasi: true, timeoutMs: 50 });
    assert.throws(() => plugin.call('nap', '60000'), { code: 'TIMEOUT', message: /50 ms deadline/ });
  });

  test('deterministic mode needs the module bytes', async () => {
    await assert.rejects(createPlugin(new WebAssembly.Module(fixture('count_vowels')), { deterministic: true }), { code: 'UNSUPPORTED' });
  });
});
