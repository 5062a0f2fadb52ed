import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setImmediate as idle } from 'node:timers/promises';
import * as dropIn from '../src/extism.js';
import { type CompiledPlugin, compilePlugin, type HostFunction, type Plugin } from '../src/index.js';
import { METER_MODULE } from '../src/limits/instrument.js';
import { exposeState } from '../src/snapshot/exports.js';
import { assemble, fixture, PRISTINE, probeLeftovers } from './fixtures.js';

/** What `fn` found of earlier calls, field by field; it then leaves its marks everywhere. */
const probe = (plugin: Plugin, fn: 'probe' | 'probe_in_place' = 'probe_in_place', hostContext?: unknown) =>
  probeLeftovers(plugin, fn, hostContext);

/** The leftovers plug-in, counting how often an instance is linked (its start function ran) and started up. */
async function leftovers(options: { instance?: 'fresh' | 'reuse'; meter?: boolean } = {}) {
  const counts = { links: 0, starts: 0, contexts: [] as unknown[] };
  const functions: HostFunction[] = [
    {
      name: 'started',
      call: (context) => {
        counts.starts++;
        counts.contexts.push(context.hostContext);
      },
    },
    { name: 'linked', call: () => void counts.links++ },
  ];
  const compiled = await compilePlugin(fixture('leftovers'), { logLevel: 'off', functions, ...options });
  return { compiled, counts };
}

describe('a used instance restored to its snapshot', () => {
  test('fresh calls back to back reuse one restored instance, and none finds what the last call left', async () => {
    const { compiled, counts } = await leftovers({ instance: 'fresh' });
    using plugin = compiled.instantiate();
    for (let i = 0; i < 5; i++) assert.deepEqual(probe(plugin), PRISTINE, `call ${i + 1}`);
    assert.equal(counts.links, 1, 'linked once: every later call ran on the restored instance');
    assert.equal(counts.starts, 5, 'its start-up ran again for every call');
  });

  test('fresh calls with idle time between them get the used instance restored and started up off the call path', async () => {
    const { compiled, counts } = await leftovers({ instance: 'fresh', meter: true });
    using plugin = compiled.instantiate();
    const fuel: (number | undefined)[] = [];
    for (let i = 0; i < 4; i++) {
      assert.deepEqual(probe(plugin), PRISTINE, `call ${i + 1}`);
      fuel.push(plugin.stats.fuel);
      await idle();
    }
    assert.equal(counts.links, 1);
    assert.equal(new Set(fuel).size, 1, `the same fuel each call: ${fuel}`);
  });

  test('an instance whose memory and table grew is not restored: the next call gets a new one, as clean', async () => {
    const { compiled, counts } = await leftovers({ instance: 'fresh' });
    using plugin = compiled.instantiate();
    for (let i = 0; i < 3; i++) assert.deepEqual(probe(plugin, 'probe'), PRISTINE, `call ${i + 1}`);
    assert.equal(counts.links, 3);
  });

  test("a closed instance serves the next instantiate(), with none of the last plug-in's state", async () => {
    const { compiled, counts } = await leftovers();
    const first = compiled.instantiate();
    probe(first, 'probe_in_place', 'first');
    probe(first, 'probe_in_place', 'first');
    first.setVar('host-side', new Uint8Array([1]));
    first.close();
    using second = compiled.instantiate();
    assert.equal(counts.links, 1, 'no new link: the closed instance was restored');
    assert.equal(second.getVar('left'), undefined);
    assert.equal(second.getVar('host-side'), undefined);
    assert.equal(second.stats.kernelBytes, 0);
    assert.deepEqual(probe(second, 'probe_in_place', 'second'), PRISTINE);
    assert.deepEqual(counts.contexts, ['first', 'second'], "its host functions answer to the new plug-in's call");
    assert.throws(() => first.call('probe_in_place'), { name: 'StateError', code: 'CLOSED', message: /closed/ });
  });

  test('closed instances restored when the event loop has a turn serve the next instantiate() as clean', async () => {
    const { compiled, counts } = await leftovers();
    for (let i = 0; i < 4; i++) {
      const plugin = compiled.instantiate();
      assert.deepEqual(probe(plugin), PRISTINE, `instance ${i + 1}`);
      plugin.close();
      await idle();
    }
    assert.equal(counts.links, 1);
  });

  test('a closed instance whose memory and table grew is not reused', async () => {
    const { compiled, counts } = await leftovers();
    const grown = compiled.instantiate();
    probe(grown, 'probe');
    grown.close();
    using next = compiled.instantiate();
    assert.equal(counts.links, 2);
    assert.deepEqual(probe(next), PRISTINE);
  });

  test('an instance whose memory is over 4 MiB is linked anew: restoring it would write every byte', async () => {
    const links = async (pages: number): Promise<number> => {
      let linked = 0;
      const bytes = assemble(`(module (import "extism:host/user" "linked" (func $linked)) (start $linked)
        (memory (export "memory") ${pages}) (func (export "run") (result i32) (i32.const 0)))`);
      const compiled = await compilePlugin(bytes, { logLevel: 'off', functions: [{ name: 'linked', call: () => void linked++ }] });
      for (let i = 0; i < 3; i++) {
        using plugin = compiled.instantiate();
        plugin.call('run');
      }
      return linked;
    };
    assert.equal(await links(64), 1);
    assert.equal(await links(65), 3);
  });

  test('the fuel of a call is the same on a restored instance as on a new one', async () => {
    const { compiled, counts } = await leftovers({ meter: true });
    const fuel = (plugin: Plugin): number | undefined => {
      probe(plugin);
      return plugin.stats.fuel;
    };
    const first = compiled.instantiate();
    const onNew = fuel(first);
    first.close();
    using second = compiled.instantiate();
    assert.equal(counts.links, 1);
    assert.equal(fuel(second), onNew);
  });

  test('instances of one compiled plug-in open side by side stay apart', async () => {
    const { compiled } = await leftovers();
    const open: Plugin[] = [];
    for (let i = 0; i < 3; i++) open.push(compiled.instantiate());
    for (const p of open) probe(p);
    for (const p of open) p.close();
    const again = [compiled.instantiate(), compiled.instantiate(), compiled.instantiate()];
    try {
      for (const p of again) assert.deepEqual(probe(p), PRISTINE);
      for (const p of again) assert.equal(probe(p).mark, 0x5245564f54464c45n, 'each keeps its own state while open');
    } finally {
      for (const p of again) p.close();
    }
  });
});

describe('exposeState', () => {
  const exportsOf = (bytes: Uint8Array) => WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => `${e.kind} ${e.name}`);

  test('exports the memory, the tables and the mutable globals the host cannot reach, and no constant', () => {
    const exposed = exposeState(
      assemble(`(module (memory 1) (table 2 funcref) (global (mut i32) (i32.const 1)) (global i64 (i64.const 2))
        (global $g (export "seen") (mut i64) (i64.const 3)) (func (export "f")))`),
      METER_MODULE,
    );
    assert.ok(exposed);
    assert.deepEqual(exposed.plan, { memory: 'tenon:state:2:0', tables: ['tenon:state:1:0'], globals: ['tenon:state:3:0', 'seen'] });
    assert.deepEqual(exportsOf(exposed.bytes), [
      'global seen',
      'function f',
      'memory tenon:state:2:0',
      'table tenon:state:1:0',
      'global tenon:state:3:0',
    ]);
  });

  test('gives an export section to a module that had none, in its place among the sections', () => {
    const exposed = exposeState(
      assemble('(module (memory 1) (global (mut f64) (f64.const 1)) (start $s) (func $s) (data (i32.const 0) "x"))'),
      METER_MODULE,
    );
    assert.deepEqual(exportsOf(exposed!.bytes), ['memory tenon:state:2:0', 'global tenon:state:3:0']);
  });

  test('refuses state it could not restore: dropped segments, v128 globals, imported memories or mutable globals', () => {
    for (const text of [
      '(module (memory 1) (data "x") (func data.drop 0))',
      '(module (table 1 funcref) (elem funcref (ref.func $f)) (func $f elem.drop 0))',
      '(module (global (mut v128) (v128.const i64x2 0 0)))',
      '(module (import "env" "memory" (memory 1)))',
      '(module (import "env" "g" (global (mut i32))))',
    ]) {
      assert.equal(exposeState(assemble(text), METER_MODULE), undefined, text);
    }
    assert.ok(exposeState(assemble(`(module (import "${METER_MODULE}" "fuel" (global (mut i32))))`), METER_MODULE));
  });

  test("the exports it adds are the host's: the drop-in's getExports() lists the module's own", async () => {
    const own = WebAssembly.Module.exports(new WebAssembly.Module(fixture('leftovers')));
    const functions = { 'extism:host/user': { started: () => {}, linked: () => {} } };
    const plugin = await dropIn.createPlugin({ wasm: [{ data: fixture('leftovers') }] }, { functions });
    try {
      assert.deepEqual(await plugin.getExports(), own);
    } finally {
      await plugin.close();
    }
  });

  test('a plug-in given as a compiled WebAssembly.Module is never restored: its internal state is out of reach', async () => {
    const module = new WebAssembly.Module(fixture('leftovers'));
    let links = 0;
    const compiled: CompiledPlugin = await compilePlugin(module, {
      logLevel: 'off',
      functions: [
        { name: 'started', call: () => {} },
        { name: 'linked', call: () => void links++ },
      ],
    });
    compiled.instantiate().close();
    using again = compiled.instantiate();
    assert.equal(links, 2);
    assert.deepEqual(probe(again), PRISTINE);
  });
});
