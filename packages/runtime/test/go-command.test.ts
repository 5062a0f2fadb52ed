import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compilePlugin, createPool } from '../src/index.js';
import { fixture, load } from './fixtures.js';

// Go wasip1 commands (the Go PDK's `_start`) run main and leave through proc_exit, as the Rust runtime sees them
describe('a Go wasip1 command called through _start', () => {
  test('that sets the output several times answers with the last output', async () => {
    using plugin = await load('go_command', { wasi: true });
    assert.equal(plugin.call('_start', 'go').text(), 'the last output');
    assert.equal(plugin.call('_start', 'again').text(), 'the last output', 'a command is one-shot: the next call starts anew');
  });

  test('that sets an error and exits non-zero fails the call with that error', async () => {
    using plugin = await load('go_command', { wasi: true });
    assert.throws(() => plugin.call('_start', 'fail'), {
      name: 'PluginError',
      code: 'PLUGIN_FAILED',
      message: 'Plug-in function "_start" failed: go: input says fail',
      returnCode: 1,
      pluginMessage: 'go: input says fail',
    });
    assert.equal(plugin.call('_start', 'go').text(), 'the last output');
  });

  test('in a worker pool too: the last output, or the error it set', async () => {
    await using pool = createPool({ size: 1 });
    const compiled = await compilePlugin(fixture('go_command'), { wasi: true, logLevel: 'off' });
    assert.equal((await pool.call(compiled, '_start', 'go')).text(), 'the last output');
    await assert.rejects(pool.call(compiled, '_start', 'fail'), {
      name: 'PluginError',
      code: 'PLUGIN_FAILED',
      message: 'Plug-in function "_start" failed: go: input says fail',
      pluginMessage: 'go: input says fail',
    });
  });
});
