import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isTenonError, PluginError } from '../src/index.js';
import { load } from './fixtures.js';

const text = (bytes: Uint8Array | undefined): string | undefined => (bytes === undefined ? undefined : Buffer.from(bytes).toString());

describe('the output of a failing call', () => {
  test('a non-zero return code keeps the output the plug-in set, as PluginError.output', async () => {
    using plugin = await load('fail_output');
    assert.throws(
      () => plugin.call('rc2_with_output'),
      (error) => {
        assert.ok(error instanceof PluginError);
        assert.equal(error.code, 'PLUGIN_FAILED');
        assert.equal(error.returnCode, 2);
        assert.equal(text(error.output), 'line 3: price is not a number\n');
        return true;
      },
    );
  });

  test('error_set keeps the output too, beside the message, and the output survives the next call', async () => {
    using plugin = await load('fail_output');
    let failure: unknown;
    try {
      plugin.call('error_with_output');
    } catch (error) {
      failure = error;
    }
    assert.ok(isTenonError(failure) && failure.code === 'PLUGIN_FAILED');
    assert.equal(failure.pluginMessage, 'bad input');
    assert.throws(() => plugin.call('rc1_bare'), { code: 'PLUGIN_FAILED', output: undefined });
    assert.equal(text(failure.output), 'line 3: price is not a number\n');
  });
});
