import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PluginError } from '../src/index.js';
import { load } from './fixtures.js';

describe('plug-in errors', () => {
  test('error_set with a non-zero return fails the call with the plug-in’s message and code', async () => {
    using plugin = await load('fail');
    assert.throws(() => plugin.call('fail', 'card declined'), {
      name: 'PluginError',
      code: 'PLUGIN_FAILED',
      message: 'Plug-in function "fail" failed: card declined',
      pluginMessage: 'card declined',
      returnCode: 1,
    });
  });

  test('error_set fails the call even when the function returns 0', async () => {
    using plugin = await load('fail');
    assert.throws(() => plugin.call('fail_rc0'), { code: 'PLUGIN_FAILED', pluginMessage: 'something went wrong', returnCode: 0 });
  });

  test('a non-zero return code without a message fails the call', async () => {
    using plugin = await load('fail');
    assert.throws(() => plugin.call('rc7'), {
      code: 'PLUGIN_FAILED',
      message: /returned non-zero code 7/,
      returnCode: 7,
      pluginMessage: undefined,
    });
  });

  test('the instance keeps working after a plug-in error, and the error does not leak into the next call', async () => {
    using plugin = await load('fail');
    assert.throws(() => plugin.call('fail'), PluginError);
    assert.equal(plugin.call('output_then_free').text(), 'kept');
  });

  test('a C plug-in’s error message comes through', async () => {
    using plugin = await load('kv');
    assert.throws(() => plugin.call('refuse'), { code: 'PLUGIN_FAILED', pluginMessage: 'refused by kv.c' });
  });
});
