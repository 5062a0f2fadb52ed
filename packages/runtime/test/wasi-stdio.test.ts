import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { load, recordingLogger } from './fixtures.js';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString();

describe('WASI stdio capture', () => {
  test('plugin.stdio holds what the last call wrote to stdout and stderr, and the logger still gets the lines', async () => {
    const logger = recordingLogger();
    using plugin = await load('chatter', { wasi: true, logger, logLevel: 'info' });
    assert.deepEqual(plugin.stdio, { stdout: new Uint8Array(0), stderr: new Uint8Array(0), truncated: false }, 'nothing before a call');
    assert.equal(plugin.call('chatter', '3').text(), 'done');
    assert.equal(text(plugin.stdio.stdout), 'xxx\n');
    assert.equal(text(plugin.stdio.stderr), 'warning 3\n');
    assert.equal(plugin.stdio.truncated, false);
    plugin.call('chatter', '1');
    assert.deepEqual(
      { stdout: text(plugin.stdio.stdout), stderr: text(plugin.stdio.stderr) },
      { stdout: 'x\n', stderr: 'warning 1\n' },
      'each call starts empty',
    );
    assert.deepEqual(logger.lines, ['info: [plugin] xxx', 'error: [plugin] warning 3', 'info: [plugin] x', 'error: [plugin] warning 1']);
  });

  test('each stream keeps its first limits.maxStdioBytes bytes and the call is marked truncated', async () => {
    using plugin = await load('chatter', { wasi: true, logger: recordingLogger(), limits: { maxStdioBytes: 16 } });
    plugin.call('chatter', '100');
    assert.equal(text(plugin.stdio.stdout), 'x'.repeat(16));
    assert.equal(text(plugin.stdio.stderr), 'warning 100\n', 'the other stream is within its bound');
    assert.equal(plugin.stdio.truncated, true);
    plugin.call('chatter', '2');
    assert.deepEqual({ stdout: text(plugin.stdio.stdout), truncated: plugin.stdio.truncated }, { stdout: 'xx\n', truncated: false });
  });

  test('the default bound is 64 KiB per stream', async () => {
    using plugin = await load('chatter', { wasi: true, logger: recordingLogger() });
    plugin.call('chatter', '70000');
    assert.equal(plugin.stdio.stdout.length, 64 * 1024);
    assert.equal(plugin.stdio.truncated, true);
  });

  test('a plug-in without WASI has empty stdio', async () => {
    using plugin = await load('count_vowels');
    plugin.call('count_vowels', 'aeiou');
    assert.deepEqual(plugin.stdio, { stdout: new Uint8Array(0), stderr: new Uint8Array(0), truncated: false });
  });
});
