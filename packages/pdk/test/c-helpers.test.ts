import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { createPlugin, type HostFunction } from '@tenon/runtime';
import { recordingLogger } from './both-hosts.js';

// fixtures/helpers_c.c is freestanding C built by tenon-cc at -O2 with -nostdlib: it links only
// because tenon.h provides memcpy, memset, memmove and strlen, and it uses tenon.h's helpers.

const wasm = readFileSync(new URL('fixtures/build/helpers_c.wasm', import.meta.url));
const reverse: HostFunction = {
  name: 'reverse',
  params: ['ptr'],
  results: ['ptr'],
  call: (context, offset: bigint) => context.write([...(context.text(offset) ?? '')].reverse().join('')),
};

describe("tenon.h's helpers", () => {
  test('the module imports no memcpy, memset, memmove or strlen: tenon.h defines them', () => {
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(wasm)).map((i) => `${i.module}.${i.name}`);
    assert.deepEqual(
      imports.filter((name) => !name.startsWith('extism:host/env.')),
      ['extism:host/user.reverse'],
    );
  });

  test('struct copies, fills and an overlapping move give the right bytes', async () => {
    using plugin = await createPlugin(wasm, { functions: [reverse] });
    // sum of quantities 0..31 = 496, plus 32 prices of 5 (the input length)
    assert.equal(plugin.call('copies', 'abcde').text(), '>abcde..|656');
  });

  test('config, u64 and byte vars, var removal, a host function and levelled logs', async () => {
    const logs: string[] = [];
    using plugin = await createPlugin(wasm, {
      functions: [reverse],
      config: { greeting: 'hej' },
      logger: recordingLogger(logs),
      logLevel: 'info',
    });
    assert.equal(plugin.call('helpers', 'abc').text(), 'hej|1|cba|unset');
    assert.equal(plugin.call('helpers', 'xyz').text(), 'hej|2|zyx|abc');
    assert.equal(plugin.call('helpers', 'q').text(), 'hej|3|q|xyz');
    assert.equal(plugin.call('helpers', 'r').text(), 'hej|4|r|unset', 'the third call removed the note');
    assert.deepEqual(
      logs,
      ['info [plugin] helpers ran', 'info [plugin] helpers ran', 'info [plugin] helpers ran', 'info [plugin] helpers ran'],
      'debug lines stay under the info level',
    );
  });

  test('a missing config key reads as absent', async () => {
    using plugin = await createPlugin(wasm, { functions: [reverse] });
    assert.equal(plugin.call('helpers', 'ab').text(), 'none|1|ba|unset');
  });
});
