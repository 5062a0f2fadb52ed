import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compilePlugin, createPlugin, createPool, LinkError } from '../src/index.js';
import { fixture, u64 } from './fixtures.js';

describe('linking', () => {
  test('every extism:host/env import a PDK may use is provided', async () => {
    using plugin = await createPlugin(fixture('imports'), { logLevel: 'off' });
    assert.equal(plugin.call('run').length, 0);
    assert.equal(plugin.call('http_state').length, 0, 'http_status_code and http_headers are 0 before any request');
  });

  test('a plug-in with unresolved imports fails with LINK_FAILED listing every one of them, with a hint each', async () => {
    await assert.rejects(compilePlugin(fixture('missing_import')), (error) => {
      assert.ok(error instanceof LinkError);
      assert.equal(error.code, 'LINK_FAILED');
      assert.deepEqual(
        error.unresolved.map((u) => `${u.module} ${u.name}`),
        ['extism:host/user not_provided', 'env extism_alloc', 'extism:host/env not_in_the_abi', 'wasi_snapshot_preview1 fd_write'],
      );
      assert.match(error.message, /4 imports not provided/);
      assert.match(error.message, /declare a host function/);
      assert.match(error.message, /pre-1\.0 Extism ABI/);
      assert.match(error.message, /not part of the Extism ABI/);
      assert.match(error.message, /enable it with `wasi: true`/);
      return true;
    });
  });

  test("AssemblyScript's env imports are named with what to do about each", async () => {
    await assert.rejects(compilePlugin(fixture('assemblyscript_env')), (error) => {
      assert.ok(error instanceof LinkError);
      assert.match(error.message, /env abort \(function\): AssemblyScript's abort handler: build with `--use abort=~lib\/@tenon\/pdk/);
      assert.match(error.message, /env trace \(function\): .*log\.debug\(\)/);
      assert.match(error.message, /env seed \(function\): .*Math\.random\(\)/);
      assert.match(error.message, /env Date\.now \(function\): .*no ambient clock/);
      return true;
    });
  });

  test('a host function of the right namespace and name resolves an import', async () => {
    await assert.rejects(
      compilePlugin(fixture('missing_import'), {
        wasi: true,
        functions: [{ name: 'not_provided', params: ['i64'], results: ['i64'], call: () => 0n }],
      }),
      (error: LinkError) => error.unresolved.length === 2,
    );
  });

  test('modules of one manifest link by name; the main module’s exports are called', async () => {
    using plugin = await createPlugin({
      wasm: [
        { data: fixture('math_lib'), name: 'math' },
        { data: fixture('math_app'), name: 'main' },
      ],
    });
    assert.equal(u64(plugin.call('twenty_one_doubled').bytes()), 42);
    assert.equal(plugin.functionExists('double'), false);
  });

  test('a side module built as a reactor is set up by its _initialize before the first call, metered or not', async () => {
    for (const options of [{}, { fuel: 1000 }]) {
      using plugin = await createPlugin(
        {
          wasm: [
            { name: 'side', data: fixture('reactor_side') },
            { name: 'main', data: fixture('reactor_main') },
          ],
        },
        { logLevel: 'off', ...options },
      );
      assert.equal(plugin.call('run').length, 0, JSON.stringify(options)); // run fails with 1 when the side module was not set up
    }
  });

  test('without a module named main, the last module is the entry point', async () => {
    using plugin = await createPlugin({
      wasm: [
        { data: fixture('math_lib'), name: 'math' },
        { data: fixture('math_app'), name: 'app' },
      ],
    });
    assert.equal(u64(plugin.call('twenty_one_doubled').bytes()), 42);
  });

  // ring_main -> ring1 -> ... -> ring_close -> main: each module appends its digit (main 1, mid1 2, mid2 3, close 9)
  const rings: [string, string[], number][] = [
    ['two', ['ring_close'], 1919],
    ['three', ['ring_mid1', 'ring_close'], 129129],
    ['four', ['ring_mid1', 'ring_mid2', 'ring_close'], 12391239],
  ];
  for (const [count, others, digits] of rings) {
    test(`${count} modules that import each other in a cycle link, and calls go round it`, async () => {
      const ring = others.map((file, i) => ({ data: fixture(file), name: `ring${i + 1}` }));
      // listed in an order that instantiates ring_close (which reads a global of main) before main if it could
      using plugin = await createPlugin({ wasm: [...ring.reverse(), { data: fixture('ring_main'), name: 'main' }] });
      const laps = String(digits).length;
      assert.equal(u64(plugin.call('run', new Uint8Array([laps])).bytes()), digits);
      assert.equal(u64(plugin.call('run', new Uint8Array([0])).bytes()), 0);
    });
  }

  test('a ring of modules links with metering too, and its calls are charged', async () => {
    using plugin = await createPlugin(
      {
        wasm: [
          { data: fixture('ring_close'), name: 'ring1' },
          { data: fixture('ring_main'), name: 'main' },
        ],
      },
      { fuel: 1_000_000 },
    );
    assert.equal(u64(plugin.call('run', new Uint8Array([4])).bytes()), 1919);
    assert.ok(plugin.stats.fuel! > 0);
  });

  test('a ring of modules runs in a worker pool as in-thread', async () => {
    await using pool = createPool({ size: 1 });
    const compiled = await compilePlugin({
      wasm: [
        { data: fixture('ring_mid1'), name: 'ring1' },
        { data: fixture('ring_close'), name: 'ring2' },
        { data: fixture('ring_main'), name: 'main' },
      ],
    });
    assert.equal(u64((await pool.call(compiled, 'run', new Uint8Array([6]))).bytes()), 129129);
  });

  test('modules that import globals from each other in a cycle fail with LINK_FAILED naming it', async () => {
    await assert.rejects(
      compilePlugin({
        wasm: [
          { data: fixture('cycle_global_b'), name: 'b' },
          { data: fixture('cycle_global_a'), name: 'main' },
        ],
      }),
      {
        name: 'LinkError',
        code: 'LINK_FAILED',
        message:
          /^Cannot link the plug-in: modules import memories, tables or globals from each other in a cycle \("b" -> "main" -> "b"\); only function imports may close a cycle$/,
      },
    );
  });

  test('a start function that calls into its cycle before the other module exists fails with LINK_FAILED', async () => {
    const compiled = await compilePlugin({
      wasm: [
        { data: fixture('cycle_start'), name: 'ring1' },
        { data: fixture('ring_main'), name: 'main' },
      ],
    });
    assert.throws(() => compiled.instantiate(), {
      name: 'LinkError',
      code: 'LINK_FAILED',
      message: /module "ring1" called "main" "step" while starting, before "main" was instantiated/,
    });
  });

  test('an import naming a module that lacks the export is unresolved', async () => {
    await assert.rejects(compilePlugin({ wasm: [{ data: fixture('globals'), name: 'math' }, { data: fixture('math_app') }] }), {
      code: 'LINK_FAILED',
      message: /math double \(function\) imported by "main"/,
    });
  });

  test('an invalid module is a LOAD_FAILED error naming it', async () => {
    const bytes = fixture('count_vowels').slice(0, 40);
    await assert.rejects(compilePlugin(bytes), {
      name: 'LoadError',
      code: 'LOAD_FAILED',
      message: /wasm\[0\] is not a valid WebAssembly module/,
    });
  });
});
