import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type CompiledPlugin, compilePlugin, type HostFunction, isTenonError, type Plugin } from '../src/index.js';
import { fixture } from './fixtures.js';

// The hostile-plug-in suite: each case must end in a typed error or a bounded result, leave the
// host able to serve the next call, and leak nothing over many repetitions.

const quietLog = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const boom: HostFunction = {
  name: 'boom',
  call: () => {
    throw new Error('boom');
  },
};

interface Case {
  name: string;
  plugin: string;
  fn: string;
  input?: string | Uint8Array;
  /** The error code the call must fail with, or null for a bounded success. */
  code: string | null;
}

const cases: Case[] = [
  { name: 'infinite loop', plugin: 'hostile', fn: 'spin', code: 'FUEL_EXHAUSTED' },
  { name: 'endless tail calls', plugin: 'hostile', fn: 'tail_forever', code: 'FUEL_EXHAUSTED' },
  { name: 'endless mutual recursion through a table', plugin: 'hostile', fn: 'ping_pong', code: 'FUEL_EXHAUSTED' },
  { name: 'infinite recursion', plugin: 'traps', fn: 'recurse', code: 'TRAP' },
  { name: 'memory.grow to the limit', plugin: 'traps', fn: 'grow', input: new Uint8Array([7]), code: null },
  { name: 'kernel alloc to the limit', plugin: 'wild', fn: 'alloc_bomb', code: null },
  { name: 'an output of 1 GiB', plugin: 'hostile', fn: 'output_bomb', code: 'PLUGIN_FAILED' },
  { name: 'a vars bomb', plugin: 'config_var', fn: 'var_bomb', code: 'VAR_LIMIT' },
  { name: 'a log flood', plugin: 'logging', fn: 'log_flood', input: 'x', code: null },
  { name: 'wild offsets to every kernel import', plugin: 'wild', fn: 'wild_writes', code: null },
  { name: 'vars at their edges (missing, key as its own value, deleted)', plugin: 'wild', fn: 'var_edges', code: null },
  { name: 'output_set on a freed, reused block', plugin: 'wild', fn: 'output_reused', code: null },
  { name: 'a host function that throws, caught by the plug-in', plugin: 'hostile', fn: 'catch_spin', code: 'HOST_FUNCTION_FAILED' },
  { name: 'a trap', plugin: 'traps', fn: 'unreachable', code: 'TRAP' },
];

const options = {
  memory: { maxPages: 32, maxVarBytes: 64 * 1024 },
  fuel: 1_000_000,
  functions: [boom],
  logger: quietLog,
  logLevel: 'info' as const,
};

async function compileAll(): Promise<Map<string, CompiledPlugin>> {
  const compiled = new Map<string, CompiledPlugin>();
  for (const name of new Set(cases.map((c) => c.plugin))) compiled.set(name, await compilePlugin(fixture(name), options));
  return compiled;
}

function run(plugin: Plugin, c: Case): void {
  try {
    plugin.call(c.fn, c.input);
    assert.equal(c.code, null, `${c.name}: expected ${c.code}`);
  } catch (error) {
    if (!isTenonError(error)) throw error;
    assert.equal(error.code, c.code, `${c.name}: ${error.message}`);
  }
}

describe('hostile plug-ins', () => {
  for (const c of cases) {
    test(`${c.name} ends in ${c.code ?? 'a bounded result'} and the instance serves the next call`, async () => {
      using plugin = (await compilePlugin(fixture(c.plugin), options)).instantiate();
      run(plugin, c);
      run(plugin, c);
      assert.ok(plugin.functionExists(c.fn));
    });
  }

  test('imports the host does not provide fail at load with every one listed', async () => {
    await assert.rejects(compilePlugin(fixture('missing_import')), (error: { code?: string; unresolved?: unknown[] }) => {
      assert.equal(error.code, 'LINK_FAILED');
      assert.equal(error.unresolved?.length, 4);
      return true;
    });
  });

  test('a start function that loops is stopped', async () => {
    await assert.rejects(
      compilePlugin(fixture('start_loop'), { timeoutMs: 20 }).then((c) => c.instantiate()),
      { code: 'TIMEOUT' },
    );
  });

  test('malformed modules are LOAD_FAILED, never a crash', async () => {
    const good = fixture('count_vowels');
    const modules = [
      Uint8Array.from([0, 0x61, 0x73, 0x6e, 1, 0, 0, 0]),
      good.slice(0, good.length - 7),
      Uint8Array.from([...good.slice(0, 8), 1, 0x7f, 0]),
      Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 10, 4, 1, 2, 0, 0xff]),
    ];
    for (const bytes of modules) await assert.rejects(compilePlugin(bytes), { code: 'LOAD_FAILED' });
  });

  test('1,000 repetitions of the suite leak neither heap nor memory', async (t) => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) return t.skip('run node with --expose-gc');
    const compiled = await compileAll();
    const repetitions = Number(process.env.HOSTILE_REPETITIONS ?? 1000);
    const once = (): void => {
      for (const c of cases) {
        if (c.fn === 'catch_spin') continue; // ~50 ms a run: exercised above, too slow to repeat 1,000 times
        using plugin = compiled.get(c.plugin)!.instantiate();
        run(plugin, c);
      }
    };
    for (let i = 0; i < 20; i++) once();
    gc();
    const before = process.memoryUsage();
    for (let i = 0; i < repetitions; i++) once();
    gc();
    const after = process.memoryUsage();
    const heapMiB = (after.heapUsed - before.heapUsed) / 2 ** 20;
    const rssMiB = (after.rss - before.rss) / 2 ** 20;
    t.diagnostic(`heap ${heapMiB.toFixed(1)} MiB, rss ${rssMiB.toFixed(1)} MiB after ${repetitions} repetitions`);
    assert.ok(heapMiB < 16, `heap grew by ${heapMiB.toFixed(1)} MiB`);
    assert.ok(rssMiB < 256, `rss grew by ${rssMiB.toFixed(1)} MiB`);
  });
});
