import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { load, recordingLogger, u64 } from './fixtures.js';

// A hostile plug-in passes wild offsets and lengths to every kernel import. Each case must end in
// a result or a typed error, and leave the instance able to serve the next call.
describe('wild offsets and lengths', () => {
  test('reads at wild offsets return 0; only the one input position in range counts', async () => {
    using plugin = await load('wild');
    // of every read, only input_load_u8(1) is in range: "b"
    assert.equal(u64(plugin.call('wild_reads', 'abcdefgh').bytes()), 98);
    assert.equal(u64(plugin.call('wild_reads').bytes()), 0);
  });

  test('writes, frees, input_set and error_set at wild offsets are ignored', async () => {
    using plugin = await load('wild');
    assert.equal(plugin.call('wild_writes').text(), 'ok');
    assert.equal(plugin.call('wild_writes').text(), 'ok');
  });

  test('alloc of absurd sizes returns 0', async () => {
    using plugin = await load('wild');
    assert.equal(plugin.call('wild_alloc').text(), 'ok');
  });

  test('an output range outside memory fails the call with PLUGIN_FAILED', async () => {
    using plugin = await load('wild');
    for (const fn of ['wild_output', 'wild_output_length']) {
      assert.throws(() => plugin.call(fn), { name: 'PluginError', code: 'PLUGIN_FAILED', message: /output range outside its memory/ });
    }
    assert.equal(plugin.call('wild_alloc').text(), 'ok');
  });

  test('error_set on an offset that is no block counts as no error', async () => {
    using plugin = await load('wild');
    assert.equal(plugin.call('wild_error').text(), 'ok');
  });

  test('config_get, var_get and var_set with wild offsets fail the call with PLUGIN_FAILED', async () => {
    using plugin = await load('wild');
    for (const fn of ['config_wild', 'var_get_wild', 'var_set_wild']) {
      assert.throws(() => plugin.call(fn), { code: 'PLUGIN_FAILED', message: /invalid .*(offset|block)/ }, fn);
    }
    assert.equal(plugin.call('wild_alloc').text(), 'ok');
  });

  test('logging a wild offset logs nothing and the call succeeds', async () => {
    const logger = recordingLogger();
    using plugin = await load('wild', { logLevel: 'trace', logger });
    assert.equal(plugin.call('log_wild').text(), 'ok');
    assert.deepEqual(logger.lines, []);
  });

  test('output_set on a freed block reads that block’s bytes, within bounds', async () => {
    using plugin = await load('wild');
    // freed blocks are not handed out again while memory has room: the new block is elsewhere
    assert.deepEqual(plugin.call('output_reused').bytes(), new Uint8Array(8));
  });
});
