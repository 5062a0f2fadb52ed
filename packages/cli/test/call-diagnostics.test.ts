import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fixture, scratchDir, tenon } from './run-tenon.js';

describe('tenon call: what a failure leaves behind', () => {
  const dir = scratchDir('tenon-call-diag-');

  test('a plug-in that sets output and returns non-zero: the output on stdout, the error on stderr, exit 1', async () => {
    const result = await tenon(['call', fixture('fail_output'), 'rc2_with_output']);
    assert.deepEqual(result, {
      status: 1,
      stdout: 'line 3: price is not a number\n',
      stderr: 'tenon: PLUGIN_FAILED: Plug-in function "rc2_with_output" returned non-zero code 2\n',
    });
  });

  test('--error-format json carries the output in the error as well, beside the plug-in message', async () => {
    const result = await tenon(['call', fixture('fail_output'), 'error_with_output', '--error-format', 'json']);
    assert.equal(result.status, 1);
    assert.equal(result.stdout, 'line 3: price is not a number\n');
    assert.deepEqual(JSON.parse(result.stderr), {
      error: {
        code: 'PLUGIN_FAILED',
        name: 'PluginError',
        message: 'Plug-in function "error_with_output" failed: bad input',
        returnCode: 1,
        pluginMessage: 'bad input',
        output: 'line 3: price is not a number\n',
      },
    });
  });

  test('a failure without output writes nothing to stdout and no output field', async () => {
    const result = await tenon(['call', fixture('fail_output'), 'rc1_bare', '--error-format', 'json']);
    assert.equal(result.status, 1);
    assert.equal(result.stdout, '');
    assert.equal(JSON.parse(result.stderr).error.output, undefined);
  });

  test('every problem of a manifest is reported, one per line, with exit 2', async () => {
    const manifest = join(dir(), 'broken.json');
    await writeFile(
      manifest,
      JSON.stringify({
        wasm: [{ path: fixture('count_vowels'), hash: 'abc' }],
        memory: { max_pages: 'many' },
        allowed_hosts: 'api.example.com',
        timeout: 5,
      }),
    );
    const result = await tenon(['call', manifest, 'count_vowels']);
    assert.equal(result.status, 2);
    assert.equal(result.stdout, '');
    assert.equal(
      result.stderr,
      'tenon: MANIFEST_INVALID: 4 problems in the manifest:\n' +
        '  timeout: is not a known field (did you mean "timeout_ms"?)\n' +
        '  wasm[0].hash: must be 64 hex digits (a sha256), got "abc"\n' +
        '  memory.max_pages: must be an integer from 0 to 65536, got "many"\n' +
        '  allowed_hosts: must be an array of strings, got "api.example.com"\n',
    );

    const json = await tenon(['call', manifest, 'count_vowels', '--error-format', 'json']);
    assert.equal(json.status, 2);
    const { error } = JSON.parse(json.stderr);
    assert.equal(error.code, 'MANIFEST_INVALID');
    assert.deepEqual(
      error.problems.map((p: { field: string }) => p.field),
      ['timeout', 'wasm[0].hash', 'memory.max_pages', 'allowed_hosts'],
    );
  });
});
