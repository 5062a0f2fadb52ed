import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compilePlugin } from '../src/index.js';
import { fixture, load, recordingLogger } from './fixtures.js';

describe('WASI', () => {
  test('a WASI plug-in needs wasi: true', async () => {
    await assert.rejects(compilePlugin(fixture('hello_wasi')), { code: 'LINK_FAILED', message: /wasi: true/ });
  });

  test('stdout and stderr go to the logger; clocks and randomness work; there is no environment', async () => {
    const logger = recordingLogger();
    using plugin = await load('hello_wasi', { wasi: true, logger, logLevel: 'info' });
    const result = plugin.call('hello').json<{ seconds: number; random: number; home: unknown; environ: number }>();
    assert.ok(Math.abs(result.seconds - Date.now() / 1000) < 60);
    assert.equal(typeof result.random, 'number');
    assert.equal(result.home, null);
    assert.equal(result.environ, 0);
    assert.deepEqual(logger.lines, ['info: [plugin] hello from wasi', 'error: [plugin] a line on stderr']);
  });

  test('the sandbox has no file system: opening any path fails', async () => {
    using plugin = await load('hello_wasi', { wasi: true });
    assert.equal(plugin.call('open_file').text(), 'denied');
  });

  test('proc_exit(0) is success and keeps the output', async () => {
    using plugin = await load('hello_wasi', { wasi: true });
    assert.equal(plugin.call('exit0').text(), 'bye');
    assert.equal(plugin.call('open_file').text(), 'denied', 'the instance is rebuilt for the next call');
  });

  test('proc_exit with a non-zero code fails with PLUGIN_EXIT', async () => {
    using plugin = await load('hello_wasi', { wasi: true });
    assert.throws(() => plugin.call('exit3'), { name: 'PluginError', code: 'PLUGIN_EXIT', returnCode: 3, message: /exited with code 3/ });
    assert.equal(plugin.call('open_file').text(), 'denied');
  });

  test('WASI calls with pointers outside the plug-in’s memory answer EFAULT, and the plug-in goes on', async () => {
    using plugin = await load('wasi_wild', { wasi: true });
    // fd_write, clock_time_get, random_get, args_sizes_get, fd_fdstat_get, poll_oneoff
    assert.deepEqual([...plugin.call('wild').bytes()], [21, 21, 21, 21, 21, 21]);
    assert.deepEqual([...plugin.call('wild').bytes()], [21, 21, 21, 21, 21, 21]);
  });
});
