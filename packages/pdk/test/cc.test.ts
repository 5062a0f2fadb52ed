import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createPlugin } from '@tenon/runtime';
import { nodeOnlyPath } from './node-only-path.js';

const run = promisify(execFile);
const cc = fileURLToPath(new URL('../c/cc.js', import.meta.url));
const example = fileURLToPath(new URL('../../../examples/plugins/count-vowels-c/src/plugin.c', import.meta.url));
const wasiFixture = fileURLToPath(new URL('../../runtime/test/fixtures/hello_wasi.c', import.meta.url));

// The proof: C plug-ins build and run on a machine where Node is the only tool
describe('tenon-cc builds C plug-ins with no clang on the PATH', () => {
  let dir: string;
  let PATH: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tenon-cc-'));
    PATH = nodeOnlyPath();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(PATH, { recursive: true, force: true });
  });

  const tenonCc = (args: string[]) => run(join(PATH, 'node'), [cc, ...args], { env: { PATH } });

  test('a freestanding plug-in and a WASI reactor compile, load and answer', { timeout: 300_000 }, async () => {
    await tenonCc(['-Werror', '-o', join(dir, 'vowels.wasm'), example]);
    await tenonCc(['--wasi', '-Werror', '-o', join(dir, 'sub', 'hello.wasm'), wasiFixture]);

    using vowels = await createPlugin(await readFile(join(dir, 'vowels.wasm')));
    assert.equal((await vowels.call('count_vowels', 'Hello, World!')).text(), '{"count":3}');
    using hello = await createPlugin(await readFile(join(dir, 'sub', 'hello.wasm')), { wasi: true });
    assert.match((await hello.call('hello')).text(), /^\{"seconds":\d+,"random":\d+,"home":null,"environ":0\}$/);
  });

  test("a source that does not compile exits 1 with clang's diagnostic and names the file", { timeout: 300_000 }, async () => {
    const broken = join(dir, 'broken.c');
    await writeFile(broken, '#include "tenon.h"\nTENON_EXPORT(f) int32_t f(void) { int unused; return 0; }\n');
    await assert.rejects(tenonCc(['-Werror', '-o', join(dir, 'broken.wasm'), broken]), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /unused variable 'unused'/);
      assert.match(error.stderr, /tenon-cc: .*broken\.c did not compile/);
      return true;
    });
  });

  test('misuse exits 2 with the usage', async () => {
    await assert.rejects(tenonCc(['-o', join(dir, 'x.wasm')]), { code: 2, stderr: /a source and -o are required\nusage: tenon-cc/ });
  });
});
