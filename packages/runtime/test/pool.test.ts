import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  compilePlugin,
  createPool,
  type HostFunction,
  type HttpRequestRecord,
  PluginError,
  StateError,
  TimeoutError,
  TrapError,
} from '../src/index.js';
import { fixture, recordingLogger } from './fixtures.js';

const boom: HostFunction = { name: 'boom', call: () => {} };

describe('createPool', () => {
  it('runs calls in workers with the same outputs as in-thread, many in flight', async () => {
    await using pool = createPool({ size: 2 });
    const inputs = Array.from({ length: 500 }, (_, i) => `${'aeiou'.repeat(i % 7)}xyz`);
    const outputs = await Promise.all(inputs.map((input) => pool.call(fixture('count_vowels'), 'count_vowels', input)));
    assert.deepEqual(
      outputs.map((o) => o.json()),
      inputs.map((input) => ({ count: input.length - 3 })),
    );
  });

  it('remembers a source: a path is compiled once per pool, and read again only by a new pool', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tenon-pool-'));
    try {
      const path = join(dir, 'plugin.wasm');
      await writeFile(path, fixture('count_vowels'));
      await using pool = createPool({ size: 1 });
      assert.deepEqual((await pool.call(path, 'count_vowels', 'aaa')).json(), { count: 3 });
      // another module at the same path, then none: the pool still runs what it compiled the first time
      await writeFile(path, fixture('echo'));
      assert.deepEqual((await pool.call(path, 'count_vowels', 'aaaa')).json(), { count: 4 });
      await rm(path);
      assert.deepEqual((await pool.call(path, 'count_vowels', 'a')).json(), { count: 1 });
      // a new pool reads the path afresh
      await writeFile(path, fixture('echo'));
      await using other = createPool({ size: 1 });
      assert.equal((await other.call(path, 'echo', 'aaa')).text(), 'aaa');
      await assert.rejects(other.call(path, 'count_vowels', 'a'), { name: 'FunctionNotFoundError', code: 'FUNCTION_NOT_FOUND' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a CompiledPlugin keeps its own limits in a pool', async () => {
    await using pool = createPool({ size: 1 });
    const compiled = await compilePlugin(fixture('hostile'), { functions: [boom], fuel: 10_000, logLevel: 'off' });
    await assert.rejects(pool.call(compiled, 'spin'), { name: 'FuelExhaustedError', code: 'FUEL_EXHAUSTED', message: /used \d+ of 10000/ });
    assert.equal((await pool.call(compiled, 'ok')).length, 0);
  });

  it('rebuilds errors from workers as the same classes, with their fields', async () => {
    await using pool = createPool({ size: 1, plugin: { logLevel: 'off' } });
    const failed = await pool.call(fixture('fail'), 'fail', 'bad input').catch((error: unknown) => error);
    assert.ok(failed instanceof PluginError, String(failed));
    assert.equal(failed.code, 'PLUGIN_FAILED');
    assert.equal(failed.pluginMessage, 'bad input');
    const trapped = await pool.call(fixture('traps'), 'unreachable').catch((error: unknown) => error);
    assert.ok(trapped instanceof TrapError && trapped.kind === 'unreachable', String(trapped));
    await assert.rejects(pool.call(fixture('fail'), 'nope'), { name: 'FunctionNotFoundError', code: 'FUNCTION_NOT_FOUND' });
    await assert.rejects(pool.call(new Uint8Array([1, 2, 3]), 'x'), { name: 'LoadError', code: 'LOAD_FAILED' });
  });

  it('runs host functions in the pool thread, async ones included, with the call hostContext', async () => {
    const database = new Map([['hello', { greeting: 'bonjour' }]]);
    const reflect: HostFunction = {
      name: 'reflect',
      params: ['ptr'],
      results: ['ptr'],
      call: async (context, offset: bigint) => {
        await sleep(2); // a database lookup
        const row = database.get(context.text(offset) ?? '');
        return context.writeJson({ row, tenant: context.hostContext });
      },
    };
    const add: HostFunction = { name: 'add_i64', params: ['i64', 'i64'], results: ['i64'], call: (_c, a: bigint, b: bigint) => a + b };
    await using pool = createPool({ size: 2, plugin: { functions: [reflect, add] } });
    const outputs = await Promise.all(
      ['hello', 'other'].map((key, i) => pool.call(fixture('host_call'), 'reflect', key, { hostContext: `tenant-${i}` })),
    );
    assert.deepEqual(
      outputs.map((o) => o.json()),
      [{ row: { greeting: 'bonjour' }, tenant: 'tenant-0' }, { tenant: 'tenant-1' }],
    );
    assert.equal(Buffer.from((await pool.call(fixture('host_call'), 'add')).bytes()).readBigUInt64LE(0), 42n);
  });

  it('fails a call whose async host function rejects with HOST_FUNCTION_FAILED, naming its message', async () => {
    const reflect: HostFunction = { name: 'reflect', call: async () => Promise.reject(new Error('database is down')) };
    await using pool = createPool({ size: 1, plugin: { functions: [reflect, { name: 'add_i64', call: () => 0n }] } });
    await assert.rejects(pool.call(fixture('host_call'), 'reflect', 'x'), {
      name: 'HostFunctionError',
      code: 'HOST_FUNCTION_FAILED',
      message: /database is down/,
    });
  });

  it('times out a call whose host function never answers, and the worker goes on', async () => {
    const reflect: HostFunction = { name: 'reflect', call: () => new Promise(() => {}) };
    await using pool = createPool({
      size: 1,
      plugin: { functions: [reflect, { name: 'add_i64', results: ['i64'], call: () => 1n }], timeoutMs: 100 },
    });
    await assert.rejects(pool.call(fixture('host_call'), 'reflect', 'x'), { name: 'TimeoutError', code: 'TIMEOUT' });
    assert.equal((await pool.call(fixture('host_call'), 'add')).length, 8);
  });

  it('terminates a worker past the hard timeout, fails that call with TIMEOUT, and loses no other call', async () => {
    await using pool = createPool({ size: 1, hardTimeoutMs: 200, plugin: { functions: [boom] } });
    const spin = pool.call(fixture('hostile'), 'spin').catch((error: unknown) => error);
    const after = Array.from({ length: 20 }, () => pool.call(fixture('count_vowels'), 'count_vowels', 'aaa'));
    const error = await spin;
    assert.ok(error instanceof TimeoutError, String(error));
    assert.match(error.message, /hard 200 ms limit: its worker was terminated/);
    assert.deepEqual(
      (await Promise.all(after)).map((o) => o.text()),
      Array.from({ length: 20 }, () => '{"count":3}'),
    );
  });

  it('lets pooled plug-ins make HTTP requests to allowed hosts, and reports each to onHttpRequest here', async () => {
    const server = createServer((_request, response) => response.end('from the server'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const records: HttpRequestRecord[] = [];
    try {
      await using pool = createPool({ size: 1, plugin: { allowedHosts: ['127.0.0.1'], onHttpRequest: (record) => records.push(record) } });
      const request = (to: string) => JSON.stringify({ method: 'GET', url: to, headers: {} });
      assert.equal((await pool.call(fixture('http_request'), 'request', request(url))).text(), 'from the server');
      await assert.rejects(pool.call(fixture('http_request'), 'request', request('http://elsewhere.example/')), {
        code: 'CAPABILITY_DENIED',
      });
      assert.deepEqual(
        records.map((r) => `${r.outcome} ${r.host} ${r.status}`),
        ['ok 127.0.0.1 200', 'denied elsewhere.example undefined'],
      );
    } finally {
      server.close();
    }
  });

  it('passes plug-in logs from the workers to the logger', async () => {
    const logger = recordingLogger();
    await using pool = createPool({ size: 1, plugin: { logger, logLevel: 'warn' } });
    await pool.call(fixture('logging'), 'log_all', 'from a worker');
    assert.deepEqual(logger.lines, ['warn: [plugin] from a worker', 'error: [plugin] from a worker']);
  });

  it('close() finishes the calls made before it; later calls, and destroy()ed ones, fail with CLOSED', async () => {
    const pool = createPool({ size: 2 });
    const before = Array.from({ length: 50 }, () => pool.call(fixture('count_vowels'), 'count_vowels', 'a'));
    const closed = pool.close();
    await assert.rejects(pool.call(fixture('count_vowels'), 'count_vowels', 'a'), { name: 'StateError', code: 'CLOSED' });
    assert.equal((await Promise.all(before)).length, 50);
    await closed;

    const destroyed = createPool({ size: 1, plugin: { functions: [boom] } });
    const pending = destroyed.call(fixture('hostile'), 'spin').catch((error: unknown) => error);
    await sleep(50);
    await destroyed.destroy();
    assert.deepEqual(await pending, new StateError('CLOSED', 'The pool was destroyed'));
  });
});
