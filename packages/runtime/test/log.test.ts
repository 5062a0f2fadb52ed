import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { load, recordingLogger } from './fixtures.js';

describe('plug-in logging', () => {
  test('messages at or above the host level reach the logger; get_log_level reports the level', async () => {
    const logger = recordingLogger();
    using plugin = await load('logging', { logger, logLevel: 'warn' });
    const level = Buffer.from(plugin.call('log_all', 'disk almost full').bytes()).readInt32LE(0);
    assert.equal(level, 3);
    assert.deepEqual(logger.lines, ['warn: disk almost full', 'error: disk almost full']);
  });

  test('trace level passes everything through, in order', async () => {
    const logger = recordingLogger();
    using plugin = await load('logging', { logger, logLevel: 'trace' });
    assert.equal(Buffer.from(plugin.call('log_all', 'm').bytes()).readInt32LE(0), 0);
    assert.deepEqual(logger.lines, ['trace: m', 'debug: m', 'info: m', 'warn: m', 'error: m']);
  });

  test('off silences plug-ins and get_log_level says so with i32::MAX', async () => {
    const logger = recordingLogger();
    using plugin = await load('logging', { logger, logLevel: 'off' });
    assert.equal(Buffer.from(plugin.call('log_all', 'm').bytes()).readInt32LE(0), 0x7fffffff);
    assert.deepEqual(logger.lines, []);
  });

  test('a log flood below the level costs no memory and no host calls', async () => {
    const logger = recordingLogger();
    using plugin = await load('logging', { logger, logLevel: 'error' });
    plugin.call('log_flood', 'x'.repeat(1000));
    assert.deepEqual(logger.lines, []);
    assert.ok(plugin.kernel.memory.buffer.byteLength <= 2 * 65536, 'each message block was freed, and reused once memory was full');
  });

  test('an unknown log level is a TypeError', async () => {
    await assert.rejects(load('logging', { logLevel: 'loud' as 'info' }), { name: 'TypeError', message: /logLevel must be one of/ });
  });
});
