import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { type CallStats, createPool, FuelExhaustedError, type HostFunction, PluginError } from '../src/index.js';
import { fixture, load } from './fixtures.js';

// What a pooled call cost, returned with its output so that a host can bill it: the same stats a
// plug-in gives after a call in-thread.

describe('pool.callWithStats', () => {
  it('reports the fuel a direct call of the same plug-in uses on the same input', async () => {
    const input = `${'aeiou'.repeat(300)}xyz`;
    const direct = await load('count_vowels', { meter: true });
    try {
      direct.call('count_vowels', input);
      await using pool = createPool({ size: 2, plugin: { meter: true } });
      const { output, stats } = await pool.callWithStats(fixture('count_vowels'), 'count_vowels', input);
      assert.deepEqual(output.json(), { count: 1500 });
      assert.equal(typeof stats.fuel, 'number');
      assert.ok((stats.fuel as number) > 1500);
      assert.equal(stats.fuel, direct.stats.fuel);
      // a call on a warm instance costs the same again, and each call reports its own
      const results = await Promise.all(
        [input, 'a'].map((text) => pool.callWithStats(fixture('count_vowels'), 'count_vowels', text, { fuel: 1_000_000 })),
      );
      assert.equal(results[0]?.stats.fuel, direct.stats.fuel);
      direct.call('count_vowels', 'a');
      assert.equal(results[1]?.stats.fuel, direct.stats.fuel);
      assert.ok((results[1]?.stats.fuel as number) < (stats.fuel as number));
      for (const result of [{ output, stats }, ...results]) {
        assert.equal(typeof result.stats.durationMs, 'number');
        assert.ok((result.stats.durationMs as number) >= 0);
        assert.ok(result.stats.memoryPages >= 1);
        assert.deepEqual(result.stats.httpRequests, []);
      }
    } finally {
      direct.close();
    }
  });

  it('gives an unmetered plug-in’s call no fuel but its time, measured in the worker', async () => {
    await using pool = createPool({ size: 1 });
    const { stats } = await pool.callWithStats(fixture('count_vowels'), 'count_vowels', 'ae');
    assert.equal(stats.fuel, undefined);
    assert.equal(typeof stats.durationMs, 'number');
    // call() still gives the output alone
    assert.deepEqual((await pool.call(fixture('count_vowels'), 'count_vowels', 'ae')).json(), { count: 2 });
  });

  it('lists the HTTP requests of that call, and only of that call', async () => {
    const server = createServer((_request, response) => response.end('from the server'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      await using pool = createPool({ size: 1, plugin: { allowedHosts: ['127.0.0.1'], logLevel: 'off' } });
      const request = JSON.stringify({ method: 'GET', url, headers: {} });
      const first = await pool.callWithStats(fixture('http_request'), 'request', request);
      assert.equal(first.output.text(), 'from the server');
      assert.deepEqual(
        first.stats.httpRequests.map((r) => `${r.outcome} ${r.method} ${r.host} ${r.status}`),
        ['ok GET 127.0.0.1 200'],
      );
      const none = await pool.callWithStats(fixture('count_vowels'), 'count_vowels', 'a');
      assert.deepEqual(none.stats.httpRequests, []);
    } finally {
      server.close();
    }
  });

  it('rejects with the error as call() does, carrying the stats of a call that ran, so it can be billed too', async () => {
    const boom: HostFunction = { name: 'boom', call: () => {} };
    await using pool = createPool({ size: 1, plugin: { meter: true, functions: [boom], logLevel: 'off' } });
    const exhausted = await pool
      .callWithStats(fixture('hostile'), 'spin', undefined, { fuel: 50_000 })
      .catch((error: unknown) => error as FuelExhaustedError & { stats?: CallStats });
    assert.ok(exhausted instanceof FuelExhaustedError, String(exhausted));
    assert.equal(exhausted.stats?.fuel, exhausted.fuelUsed);
    assert.ok(exhausted.fuelUsed >= 50_000);
    assert.equal(typeof exhausted.stats?.durationMs, 'number');
    // not a field of the error's JSON (what crosses to a client), and call() adds none
    assert.equal('stats' in JSON.parse(JSON.stringify(exhausted)), false);
    const plain = await pool.call(fixture('hostile'), 'spin', undefined, { fuel: 50_000 }).catch((error: unknown) => error as object);
    assert.equal('stats' in plain, false);
    const failed = await pool
      .callWithStats(fixture('fail'), 'fail', 'bad input')
      .catch((error: unknown) => error as PluginError & { stats?: CallStats });
    assert.ok(failed instanceof PluginError && failed.pluginMessage === 'bad input', String(failed));
    assert.ok((failed.stats?.fuel ?? 0) > 0);
  });
});
