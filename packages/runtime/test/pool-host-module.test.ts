import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { compilePlugin, createPool, type HostFunction } from '../src/index.js';
import { fixture, u64 } from './fixtures.js';

// Host functions from a module the pool's workers import: they run beside the plug-in, in the
// worker's thread, while the pool's own host functions still run in the pool's thread.

const IN_WORKER = `
import { threadId } from 'node:worker_threads';
export const functions = [
  {
    name: 'reflect',
    params: ['ptr'],
    results: ['ptr'],
    call: (context, offset) => context.write(context.text(offset) + ' in thread ' + threadId),
  },
];
`;
const THROWS = `
export default [
  { name: 'reflect', params: ['ptr'], results: ['ptr'], call: () => { throw new Error('no such customer'); } },
];
`;
const ENDLESS = `
export const functions = [
  { name: 'reflect', params: ['ptr'], results: ['ptr'], call: () => { for (;;) {} } },
];
`;
const add: HostFunction = { name: 'add_i64', params: ['i64', 'i64'], results: ['i64'], call: (_c, a: bigint, b: bigint) => a + b };
const mainReflect: HostFunction = { name: 'reflect', params: ['ptr'], results: ['ptr'], call: (context) => context.write('main thread') };

describe('a pool’s hostFunctions module', () => {
  let dir: string;
  const file = (name: string) => join(dir, name);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tenon-pool-host-'));
    await writeFile(file('in-worker.mjs'), IN_WORKER);
    await writeFile(file('throws.mjs'), THROWS);
    await writeFile(file('endless.mjs'), ENDLESS);
    await writeFile(file('no-array.mjs'), 'export const functions = { reflect() {} };\n');
    await writeFile(file('broken.mjs'), 'export const functions = [;\n');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('runs its functions in the worker, beside the pool’s own host functions in this thread', async () => {
    await using pool = createPool({ size: 1, hostFunctions: file('in-worker.mjs'), plugin: { functions: [add] } });
    const output = (await pool.call(fixture('host_call'), 'reflect', 'hello')).text();
    const [, thread] = /^hello in thread (\d+)$/.exec(output) ?? [];
    assert.ok(thread !== undefined && Number(thread) > 0, `not in a worker: ${output}`);
    assert.equal(u64((await pool.call(fixture('host_call'), 'add')).bytes()), 42);
  });

  it('takes the place of a plug-in’s own function of the same name, compiled by the pool or not', async () => {
    await using pool = createPool({
      size: 1,
      hostFunctions: pathToFileURL(file('in-worker.mjs')),
      plugin: { functions: [mainReflect, add] },
    });
    assert.match((await pool.call(fixture('host_call'), 'reflect', 'a')).text(), /^a in thread \d+$/);
    const compiled = await compilePlugin(fixture('host_call'), { functions: [mainReflect, add] });
    assert.match((await pool.call(compiled, 'reflect', 'b')).text(), /^b in thread \d+$/);
  });

  it('a function of the module that throws fails the call with HOST_FUNCTION_FAILED, and the worker goes on', async () => {
    await using pool = createPool({ size: 1, hostFunctions: file('throws.mjs'), plugin: { functions: [add], logLevel: 'off' } });
    await assert.rejects(pool.call(fixture('host_call'), 'reflect', 'x'), {
      name: 'HostFunctionError',
      code: 'HOST_FUNCTION_FAILED',
      functionName: 'reflect',
      message: /no such customer/,
    });
    assert.equal(u64((await pool.call(fixture('host_call'), 'add')).bytes()), 42);
  });

  it('a module function that never returns is ended by the pool’s hard limit: the call’s timeoutMs plus 1 s', async () => {
    await using pool = createPool({ size: 1, hostFunctions: file('endless.mjs'), plugin: { meter: true, functions: [add] } });
    await pool.prepare(fixture('host_call'));
    // the deadline is kept in the worker's thread, which is busy in the host function: only the pool can end it
    await assert.rejects(pool.call(fixture('host_call'), 'reflect', 'x', { timeoutMs: 100 }), {
      name: 'TimeoutError',
      code: 'TIMEOUT',
      timeoutMs: 1100,
      message: /"reflect" ran past the pool's hard 1100 ms limit: its worker was terminated/,
    });
    assert.equal(u64((await pool.call(fixture('host_call'), 'add')).bytes()), 42);
  });

  it('a path that names no file fails createPool with LOAD_FAILED', () => {
    assert.throws(() => createPool({ size: 1, hostFunctions: file('missing.mjs') }), {
      name: 'LoadError',
      code: 'LOAD_FAILED',
      message: /Cannot load host functions from ".*missing\.mjs": ENOENT/,
    });
    assert.throws(() => createPool({ size: 1, hostFunctions: dir }), { name: 'LoadError', code: 'LOAD_FAILED', message: /not a file/ });
    assert.throws(() => createPool({ size: 1, hostFunctions: new URL('https://example.com/functions.mjs') }), {
      name: 'LoadError',
      code: 'LOAD_FAILED',
      message: /only file: and data: modules/,
    });
  });

  it('a module that does not import, or exports no array, fails each call with LOAD_FAILED', async () => {
    await using broken = createPool({ size: 1, hostFunctions: file('broken.mjs') });
    await assert.rejects(broken.call(fixture('count_vowels'), 'count_vowels', 'a'), {
      name: 'LoadError',
      code: 'LOAD_FAILED',
      message: /Cannot import host functions from ".*broken\.mjs": /,
    });
    await using shapeless = createPool({ size: 1, hostFunctions: file('no-array.mjs') });
    await assert.rejects(shapeless.prepare(fixture('count_vowels')), {
      name: 'LoadError',
      code: 'LOAD_FAILED',
      message: /must export its host functions as an array named `functions`/,
    });
  });
});
