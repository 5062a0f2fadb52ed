import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OPERATOR } from '../src/index.js';
import { behaviourPoint, example, fixture, forEachEngine, partnerWithPlugin, vowelsPoint } from './helpers.js';

/** A module that defines `count` empty functions (built here: a million functions is 4 MB of bodies). */
function manyFunctions(count: number): Uint8Array {
  const leb = (n: number) => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n !== 0) b |= 0x80;
      out.push(b);
    } while (n !== 0);
    return out;
  };
  const section = (id: number, body: number[] | Uint8Array) => [id, ...leb(body.length), ...body];
  const functions = new Uint8Array([...leb(count), ...new Uint8Array(count)]);
  const bodies = new Uint8Array(leb(count).length + count * 3);
  bodies.set(leb(count));
  for (let i = 0, at = leb(count).length; i < count; i++, at += 3) bodies.set([2, 0, 0x0b], at);
  const parts = [
    [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    section(1, [1, 0x60, 0, 0]),
    [3, ...leb(functions.length)],
    [...functions],
    [10, ...leb(bodies.length)],
  ];
  const head = new Uint8Array(parts.flat());
  const out = new Uint8Array(head.length + bodies.length);
  out.set(head);
  out.set(bodies, head.length);
  return out;
}

forEachEngine('versions are validated on upload', (engine) => {
  test('a plug-in that passes every check and simulation is validated, with fuel against the budget in the report', async () => {
    await using t = await engine.testPlatform();
    await t.platform.extensionPoints.define(OPERATOR, vowelsPoint());
    const { actor, pluginId } = await partnerWithPlugin(t.platform, 'text.vowels');
    const version = await t.platform.versions.upload(actor, pluginId, example('count-vowels'));
    assert.equal(version.status, 'validated');
    assert.match(version.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(
      version.report.checks.map((c) => [c.name, c.ok]),
      ['size', 'parse', 'functions', 'memory', 'tables', 'imports', 'compile', 'export', 'instantiate'].map((n) => [n, true]),
    );
    assert.deepEqual(
      version.report.simulations.map((s) => [s.name, s.ok, s.outcome]),
      [
        ['greeting', true, 'ok'],
        ['empty', true, 'ok'],
      ],
    );
    for (const s of version.report.simulations) assert.ok(s.fuel > 0 && s.fuel < s.budget, `${s.fuel} within ${s.budget}`);
    // The budget scales with the input: "Hello, World!" is 15 bytes of JSON.
    assert.equal(version.report.simulations[0]?.budget, 1_000_000 + Math.floor((100_000 * 15) / 1024));
  });

  test('the same bytes uploaded twice are the same version, stored once', async () => {
    await using t = await engine.testPlatform();
    await t.platform.extensionPoints.define(OPERATOR, vowelsPoint());
    const { actor, pluginId } = await partnerWithPlugin(t.platform, 'text.vowels');
    const first = await t.platform.versions.upload(actor, pluginId, example('count-vowels'));
    const second = await t.platform.versions.upload(actor, pluginId, example('count-vowels'));
    assert.deepEqual(second, first);
    assert.equal((await t.platform.versions.list(actor, pluginId)).length, 1);
    const events = (await t.platform.events.list(OPERATOR)).items.filter((e) => e.type === 'version.validated');
    assert.equal(events.length, 1);
  });

  test('a plug-in that fails a simulation is rejected, kept with its report, and can never be installed', async () => {
    await using t = await engine.testPlatform();
    const definition = vowelsPoint({
      simulations: [{ name: 'wrong on purpose', input: 'aaa', expect: { output: { count: 4 } } }],
    });
    await t.platform.extensionPoints.define(OPERATOR, definition);
    const { actor, pluginId } = await partnerWithPlugin(t.platform, 'text.vowels');
    const version = await t.platform.versions.upload(actor, pluginId, example('count-vowels'));
    assert.equal(version.status, 'rejected');
    assert.equal(version.report.simulations[0]?.ok, false);
    assert.match(version.report.simulations[0]?.message ?? '', /expected \{"count":4\}, got \{"count":3\}/);
    assert.deepEqual(await t.platform.versions.get(actor, pluginId, version.id), version);
    await assert.rejects(t.platform.installations.create(OPERATOR, { tenant: 'm1', plugin: pluginId, version: version.id }), {
      name: 'PlatformError',
      code: 'VERSION_REJECTED',
      message: /was rejected on upload/,
    });
    const [event] = (await t.platform.events.list(actor)).items.filter((e) => e.type === 'version.rejected');
    assert.deepEqual(event?.data.failedSimulations, ['wrong on purpose']);
  });

  test('a simulation may expect a Tenon error code', async () => {
    await using t = await engine.testPlatform();
    await t.platform.extensionPoints.define(
      OPERATOR,
      behaviourPoint('p.spin', 'spin', { simulations: [{ name: 'stops', input: { n: 1 }, expect: { error: 'FUEL_EXHAUSTED' } }] }),
    );
    const { actor, pluginId } = await partnerWithPlugin(t.platform, 'p.spin');
    const version = await t.platform.versions.upload(actor, pluginId, fixture('behaviours'));
    assert.equal(version.status, 'validated');
    assert.deepEqual(
      version.report.simulations.map((s) => [s.outcome, s.code, s.fuel >= s.budget]),
      [['contained', 'FUEL_EXHAUSTED', true]],
    );
  });

  test('a module without the point’s export is rejected, naming what it exports', async () => {
    await using t = await engine.testPlatform();
    await t.platform.extensionPoints.define(OPERATOR, behaviourPoint('p.missing', 'discounts'));
    const { actor, pluginId } = await partnerWithPlugin(t.platform, 'p.missing');
    const version = await t.platform.versions.upload(actor, pluginId, fixture('behaviours'));
    assert.equal(version.status, 'rejected');
    const check = version.report.checks.find((c) => c.name === 'export');
    assert.equal(check?.ok, false);
    assert.match(check?.message ?? '', /does not export "discounts" \(exports: .*"echo"/);
  });

  test('a module importing a host function the point does not offer is rejected before it compiles', async () => {
    await using t = await engine.testPlatform();
    await t.platform.extensionPoints.define(OPERATOR, behaviourPoint('p.plain', 'echo'));
    const { actor, pluginId } = await partnerWithPlugin(t.platform, 'p.plain');
    const version = await t.platform.versions.upload(actor, pluginId, fixture('lookup'));
    assert.equal(version.status, 'rejected');
    assert.deepEqual(version.report.checks.at(-1), {
      name: 'imports',
      ok: false,
      message: 'imports what the extension point does not offer: extism:host/user.lookup (offered: extism:host/env)',
    });
  });

  test('a module importing WASI is rejected unless the point allows WASI', async () => {
    await using t = await engine.testPlatform();
    await t.platform.extensionPoints.define(OPERATOR, behaviourPoint('p.plain', 'echo'));
    const { actor, pluginId } = await partnerWithPlugin(t.platform, 'p.plain');
    const version = await t.platform.versions.upload(actor, pluginId, fixture('wasi_write'));
    assert.equal(version.status, 'rejected');
    assert.match(version.report.checks.find((c) => c.name === 'imports')?.message ?? '', /wasi_snapshot_preview1\.fd_write/);
  });

  test('a module declaring a 4 GiB memory is rejected from its declaration, without compiling', async () => {
    await using t = await engine.testPlatform();
    await t.platform.extensionPoints.define(OPERATOR, behaviourPoint('p.plain', 'echo'));
    const { actor, pluginId } = await partnerWithPlugin(t.platform, 'p.plain');
    const version = await t.platform.versions.upload(actor, pluginId, fixture('huge_memory'));
    assert.equal(version.status, 'rejected');
    assert.deepEqual(
      version.report.checks.find((c) => !c.ok),
      {
        name: 'memory',
        ok: false,
        message: 'the memory starts at 65536 pages of 64 KiB, more than the limit of 4',
      },
    );
    assert.equal(
      version.report.checks.some((c) => c.name === 'compile'),
      false,
    );
  });

  test('a module defining a million functions is rejected from its declaration, without compiling', async () => {
    await using t = await engine.testPlatform();
    const definition = behaviourPoint('p.plain', 'echo');
    definition.limits.maxModuleBytes = 16 * 1024 * 1024;
    await t.platform.extensionPoints.define(OPERATOR, definition);
    const { actor, pluginId } = await partnerWithPlugin(t.platform, 'p.plain');
    const version = await t.platform.versions.upload(actor, pluginId, manyFunctions(1_000_000));
    assert.equal(version.status, 'rejected');
    assert.deepEqual(
      version.report.checks.find((c) => !c.ok),
      {
        name: 'functions',
        ok: false,
        message: '1000000 functions defined (limit 50000)',
      },
    );
  });

  test('a start function that loops is stopped within the budget and the version rejected', async () => {
    await using t = await engine.testPlatform();
    await t.platform.extensionPoints.define(OPERATOR, behaviourPoint('p.plain', 'echo'));
    const { actor, pluginId } = await partnerWithPlugin(t.platform, 'p.plain');
    const version = await t.platform.versions.upload(actor, pluginId, fixture('start_spin'));
    assert.equal(version.status, 'rejected');
    const check = version.report.checks.find((c) => c.name === 'instantiate');
    assert.equal(check?.ok, false);
    assert.match(check?.message ?? '', /the start function does not end within the budget: FUEL_EXHAUSTED/);
  });

  test('bytes that are not a module are rejected with a parse check', async () => {
    await using t = await engine.testPlatform();
    await t.platform.extensionPoints.define(OPERATOR, behaviourPoint('p.plain', 'echo'));
    const { actor, pluginId } = await partnerWithPlugin(t.platform, 'p.plain');
    const version = await t.platform.versions.upload(actor, pluginId, new TextEncoder().encode('#!/bin/sh\nrm -rf /\n'));
    assert.equal(version.status, 'rejected');
    assert.deepEqual(version.report.checks.at(-1), {
      name: 'parse',
      ok: false,
      message: 'not a valid module: not a WebAssembly module (no \\0asm header)',
    });
    const truncated = await t.platform.versions.upload(actor, pluginId, fixture('behaviours').slice(0, 100));
    assert.equal(truncated.status, 'rejected');
    assert.match(truncated.report.checks.at(-1)?.message ?? '', /runs past the end|unexpected end/);
  });

  test('a module past maxModuleBytes is TOO_LARGE and nothing is stored', async () => {
    await using t = await engine.testPlatform();
    const definition = behaviourPoint('p.plain', 'echo');
    definition.limits.maxModuleBytes = 1024;
    await t.platform.extensionPoints.define(OPERATOR, definition);
    const { actor, pluginId } = await partnerWithPlugin(t.platform, 'p.plain');
    assert.equal(await t.platform.versions.maxModuleBytes(actor, pluginId), 1024);
    await assert.rejects(t.platform.versions.upload(actor, pluginId, new Uint8Array(1025)), {
      name: 'PlatformError',
      code: 'TOO_LARGE',
      message: 'The module is 1025 bytes, more than "p.plain" accepts (1024 bytes)',
    });
    assert.deepEqual(await t.platform.versions.list(actor, pluginId), []);
  });

  test('another partner’s plug-in and versions are NOT_FOUND, for reading and for uploading', async () => {
    await using t = await engine.testPlatform();
    await t.platform.extensionPoints.define(OPERATOR, vowelsPoint());
    const owner = await partnerWithPlugin(t.platform, 'text.vowels', 'owner');
    const other = await partnerWithPlugin(t.platform, 'text.vowels', 'other');
    const version = await t.platform.versions.upload(owner.actor, owner.pluginId, example('count-vowels'));
    const notFound = { name: 'PlatformError', code: 'NOT_FOUND', message: `plug-in "${owner.pluginId}" not found` };
    await assert.rejects(t.platform.plugins.get(other.actor, owner.pluginId), notFound);
    await assert.rejects(t.platform.versions.get(other.actor, owner.pluginId, version.id), notFound);
    await assert.rejects(t.platform.versions.list(other.actor, owner.pluginId), notFound);
    await assert.rejects(t.platform.versions.upload(other.actor, owner.pluginId, example('count-vowels')), notFound);
    await assert.rejects(t.platform.versions.maxModuleBytes(other.actor, owner.pluginId), notFound);
    await assert.rejects(t.platform.versions.get(other.actor, other.pluginId, version.id), {
      code: 'NOT_FOUND',
      message: `version "${version.id}" not found`,
    });
    assert.deepEqual(
      (await t.platform.plugins.list(other.actor)).map((p) => p.id),
      [other.pluginId],
    );
    assert.equal((await t.platform.plugins.list(OPERATOR)).length, 2);
    assert.deepEqual(await t.platform.versions.get(OPERATOR, owner.pluginId, version.id), version);
  });
});
