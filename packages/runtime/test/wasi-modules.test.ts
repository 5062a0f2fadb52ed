import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createPlugin } from '../src/index.js';
import { fixture } from './fixtures.js';

// Every module of a plug-in shares its one WASI context: preopens, descriptors and stdio. A side
// module's WASI calls work on its own memory (a C side module keeps its strings there).
describe('WASI across the modules of one plug-in', () => {
  let data: string;
  before(() => {
    data = realpathSync(mkdtempSync(join(tmpdir(), 'tenon-wasi-modules-')));
    writeFileSync(join(data, 'note.txt'), 'a note for every module');
  });
  after(() => rmSync(data, { recursive: true, force: true }));

  const options = () => ({ wasi: true, allowedPaths: { [data]: '/data' }, logLevel: 'off' as const });

  test('a WASI command as the only module opens a file under its preopen (the control)', async () => {
    using plugin = await createPlugin(fixture('wasi_side'), options());
    assert.equal(plugin.call('read_note', '/data/note.txt').text(), 'a note for every module');
  });

  test("the same command as a side module of a main module opens the file too, and prints to the plug-in's stdout", async () => {
    using plugin = await createPlugin(
      {
        wasm: [
          { data: fixture('wasi_side'), name: 'side' },
          { data: fixture('wasi_main'), name: 'main' },
        ],
      },
      options(),
    );
    assert.equal(plugin.call('read_note', '/data/note.txt').text(), 'a note for every module');
    assert.equal(Buffer.from(plugin.stdio.stdout).toString(), 'side module read 23 bytes\n');
    // ENOENT (44): the side module reached the mount and found no such file there
    assert.throws(() => plugin.call('read_note', '/data/missing.txt'), {
      name: 'PluginError',
      code: 'PLUGIN_FAILED',
      message: /^Plug-in function "read_note" failed: open: errno=44$/,
    });
  });
});
