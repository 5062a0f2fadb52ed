import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InternalError, isTenonError } from '../src/index.js';
import { load, recordingLogger } from './fixtures.js';

// A JavaScript error thrown by the host's side of an import is a host bug: it must never pass as
// the plug-in's TRAP. A logger that throws stands in for any such bug (it runs inside the kernel's
// `log` import, as var_get or config_get would).
describe('a host-side JavaScript error during a call', () => {
  const throwingLogger = () => {
    const logger = recordingLogger();
    return {
      ...logger,
      warn: () => {
        throw new TypeError('Cannot read properties of undefined (reading "length")');
      },
    };
  };

  test('fails the call with INTERNAL, not TRAP, and keeps the original error as its cause', async () => {
    using plugin = await load('logging', { logger: throwingLogger(), logLevel: 'warn' });
    let caught: unknown;
    assert.throws(
      () => plugin.call('log_all', 'disk almost full'),
      (error: unknown) => {
        caught = error;
        return true;
      },
    );
    assert.ok(isTenonError(caught));
    assert.ok(caught instanceof InternalError);
    assert.equal(caught.code, 'INTERNAL');
    assert.match(caught.message, /^Cannot call "log_all": the host failed inside the call \(TypeError: Cannot read properties/);
    assert.match(caught.message, /a bug in the host, not the plug-in$/);
    assert.ok(caught.cause instanceof TypeError);
    assert.match(caught.cause.stack ?? '', /internal-error\.test\.ts/);
  });

  test('leaves the instance usable: the next call succeeds', async () => {
    const logger = recordingLogger();
    let fail = true;
    using plugin = await load('logging', {
      logLevel: 'warn',
      logger: {
        ...logger,
        warn: (line: string) => {
          if (fail) throw new RangeError('a host bug');
          logger.warn(line);
        },
      },
    });
    assert.throws(() => plugin.call('log_all', 'm'), { name: 'InternalError', code: 'INTERNAL', message: /RangeError: a host bug/ });
    fail = false;
    assert.equal(Buffer.from(plugin.call('log_all', 'm').bytes()).readInt32LE(0), 3);
    assert.deepEqual(logger.lines, ['warn: [plugin] m', 'error: [plugin] m']);
  });
});
