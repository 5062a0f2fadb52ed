import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compilePlugin, createPlugin } from '../src/index.js';
import { fixture, load, recordingLogger } from './fixtures.js';

const loggingPath = fileURLToPath(new URL('fixtures/build/logging.wasm', import.meta.url));

/** Run `body` with TENON_LOG_LEVEL set to `value` (or unset), restoring it after. */
async function withEnvLevel(value: string | undefined, body: () => Promise<void>): Promise<void> {
  const saved = process.env.TENON_LOG_LEVEL;
  if (value === undefined) delete process.env.TENON_LOG_LEVEL;
  else process.env.TENON_LOG_LEVEL = value;
  try {
    await body();
  } finally {
    if (saved === undefined) delete process.env.TENON_LOG_LEVEL;
    else process.env.TENON_LOG_LEVEL = saved;
  }
}

describe('plug-in logging', () => {
  test('messages at or above the host level reach the logger; get_log_level reports the level', async () => {
    const logger = recordingLogger();
    using plugin = await load('logging', { logger, logLevel: 'warn' });
    const level = Buffer.from(plugin.call('log_all', 'disk almost full').bytes()).readInt32LE(0);
    assert.equal(level, 3);
    assert.deepEqual(logger.lines, ['warn: [plugin] disk almost full', 'error: [plugin] disk almost full']);
  });

  test('trace level passes everything through, in order', async () => {
    const logger = recordingLogger();
    using plugin = await load('logging', { logger, logLevel: 'trace' });
    assert.equal(Buffer.from(plugin.call('log_all', 'm').bytes()).readInt32LE(0), 0);
    assert.deepEqual(logger.lines, ['trace: [plugin] m', 'debug: [plugin] m', 'info: [plugin] m', 'warn: [plugin] m', 'error: [plugin] m']);
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

  test('the default level is warn: info and below are dropped and get_log_level reports 3', async () => {
    await withEnvLevel(undefined, async () => {
      const logger = recordingLogger();
      using plugin = await createPlugin(fixture('logging'), { logger });
      assert.equal(Buffer.from(plugin.call('log_all', 'm').bytes()).readInt32LE(0), 3);
      assert.deepEqual(logger.lines, ['warn: [plugin] m', 'error: [plugin] m']);
    });
  });

  test('each line starts with the plug-in name: the name option, else the file name, else the manifest name', async () => {
    const logger = recordingLogger();
    using named = await createPlugin(fixture('logging'), { logger, logLevel: 'error', name: 'discounts' });
    named.call('log_all', 'a');
    using fromPath = await createPlugin(loggingPath, { logger, logLevel: 'error' });
    fromPath.call('log_all', 'b');
    using fromManifest = await createPlugin({ wasm: [{ path: loggingPath, name: 'tax' }] }, { logger, logLevel: 'error' });
    fromManifest.call('log_all', 'c');
    assert.deepEqual(logger.lines, ['error: [discounts] a', 'error: [logging] b', 'error: [tax] c']);
    await assert.rejects(compilePlugin(fixture('logging'), { name: '' }), {
      name: 'TypeError',
      message: /name must be a non-empty string/,
    });
  });

  test('TENON_LOG_LEVEL raises the default; an explicit logLevel wins over it; a bad value is a TypeError naming it', async () => {
    await withEnvLevel('DEBUG', async () => {
      const logger = recordingLogger();
      using plugin = await createPlugin(fixture('logging'), { logger });
      assert.equal(Buffer.from(plugin.call('log_all', 'm').bytes()).readInt32LE(0), 1);
      assert.deepEqual(logger.lines, ['debug: [plugin] m', 'info: [plugin] m', 'warn: [plugin] m', 'error: [plugin] m']);
      using quiet = await createPlugin(fixture('logging'), { logger, logLevel: 'off' });
      quiet.call('log_all', 'x');
      assert.equal(logger.lines.length, 4);
    });
    await withEnvLevel('chatty', async () => {
      await assert.rejects(createPlugin(fixture('logging')), {
        name: 'TypeError',
        message: /TENON_LOG_LEVEL must be one of .*got "chatty"/,
      });
    });
  });
});
