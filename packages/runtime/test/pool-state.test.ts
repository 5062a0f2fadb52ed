import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePlugin, createPool, type HostFunction } from '../src/index.js';
import { fixture } from './fixtures.js';

// A pooled plug-in's own state: instantiated ahead of its first call, and vars that host functions
// (running in the pool's thread) read and write as they would in-thread.

describe('a pooled plug-in’s state', () => {
  it('host functions in the pool’s thread read the vars the plug-in set, and set vars it reads', async () => {
    const swap: HostFunction = {
      name: 'swap',
      call: async (context, key: bigint) => {
        const name = context.text(key) ?? '';
        await Promise.resolve();
        context.setVar('h', `host saw ${name}=${Buffer.from(context.getVar(name) ?? []).toString()}`);
      },
    };
    await using pool = createPool({ size: 1 });
    const compiled = await compilePlugin(fixture('host_vars'), { functions: [swap], logLevel: 'off' });
    assert.equal((await pool.call(compiled, 'run')).text(), 'host saw k=v');
  });

  it('a host function’s var past maxVarBytes fails the call with VAR_LIMIT inside HOST_FUNCTION_FAILED', async () => {
    const swap: HostFunction = { name: 'swap', call: (context) => context.setVar('h', 'x'.repeat(64)) };
    await using pool = createPool({ size: 1 });
    const compiled = await compilePlugin(fixture('host_vars'), { functions: [swap], memory: { maxVarBytes: 32 }, logLevel: 'off' });
    await assert.rejects(pool.call(compiled, 'run'), {
      name: 'HostFunctionError',
      code: 'HOST_FUNCTION_FAILED',
      message: /maxVarBytes 32/,
    });
  });

  it('prepare() instantiates ahead of the first call: an endless start function fails it with TIMEOUT', async () => {
    await using pool = createPool({ size: 1 });
    const endless = await compilePlugin(fixture('start_loop'), { timeoutMs: 200, logLevel: 'off' });
    await assert.rejects(pool.prepare(endless), { name: 'TimeoutError', code: 'TIMEOUT', message: /200 ms/ });
    const fine = await compilePlugin(fixture('config_var'), { logLevel: 'off' });
    await pool.prepare(fine);
    assert.equal((await pool.call(fine, 'counter')).bytes()[0], 1);
  });
});
