import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OPERATOR } from '../src/index.js';
import { behaviourPoint, fixture, forEachEngine, installed, partnerWithPlugin, withCustomSection } from './helpers.js';

forEachEngine('installations', (engine) => {
  test('are created in order per tenant, with config and grants, and listed by tenant', async () => {
    await using t = await engine.testPlatform();
    const definition = behaviourPoint('p.echo', 'echo', { allowedHosts: ['api.example.com'], hostFunctions: ['lookup'] });
    await t.platform.extensionPoints.define(OPERATOR, definition);
    const a = await partnerWithPlugin(t.platform, 'p.echo', 'a');
    const version = await t.platform.versions.upload(a.actor, a.pluginId, fixture('behaviours'));
    const first = await t.platform.installations.create(OPERATOR, {
      tenant: 'm1',
      plugin: a.pluginId,
      version: version.id,
      config: { rate: '5' },
      grants: { allowedHosts: ['api.example.com'] },
    });
    const second = await t.platform.installations.create(OPERATOR, { tenant: 'm1', plugin: a.pluginId, version: version.id });
    await t.platform.installations.create(OPERATOR, { tenant: 'm2', plugin: a.pluginId, version: version.id });
    assert.deepEqual([first.position, second.position], [0, 1]);
    assert.deepEqual(first.grants, { allowedHosts: ['api.example.com'], hostFunctions: [], wasi: false });
    assert.deepEqual(first.config, { rate: '5' });
    assert.equal(first.partnerId, a.partnerId);
    assert.deepEqual(
      (await t.platform.installations.list(OPERATOR, { tenant: 'm1' })).map((i) => i.id),
      [first.id, second.id],
    );
    assert.deepEqual(await t.platform.installations.get(OPERATOR, first.id), first);
  });

  test('a grant beyond what the point allows is GRANT_DENIED (default deny)', async () => {
    await using t = await engine.testPlatform();
    await t.platform.extensionPoints.define(OPERATOR, behaviourPoint('p.echo', 'echo', { allowedHosts: ['api.example.com'] }));
    const a = await partnerWithPlugin(t.platform, 'p.echo');
    const version = await t.platform.versions.upload(a.actor, a.pluginId, fixture('behaviours'));
    const base = { tenant: 'm1', plugin: a.pluginId, version: version.id };
    await assert.rejects(t.platform.installations.create(OPERATOR, { ...base, grants: { allowedHosts: ['*.example.com'] } }), {
      name: 'PlatformError',
      code: 'GRANT_DENIED',
      message: '"p.echo" does not allow the host "*.example.com" (allowed: api.example.com)',
    });
    await assert.rejects(t.platform.installations.create(OPERATOR, { ...base, grants: { hostFunctions: ['kv_get'] } }), {
      code: 'GRANT_DENIED',
      message: '"p.echo" does not offer the host function "kv_get" (offered: none)',
    });
    await assert.rejects(t.platform.installations.create(OPERATOR, { ...base, grants: { wasi: true } }), {
      code: 'GRANT_DENIED',
      message: '"p.echo" does not allow WASI',
    });
    const ok = await t.platform.installations.create(OPERATOR, base);
    await assert.rejects(t.platform.installations.update(OPERATOR, ok.id, { grants: { allowedHosts: ['evil.example'] } }), {
      code: 'GRANT_DENIED',
    });
    assert.deepEqual((await t.platform.installations.get(OPERATOR, ok.id)).grants, { allowedHosts: [], hostFunctions: [], wasi: false });
  });

  test('bad fields are INVALID and name the field', async () => {
    await using t = await engine.testPlatform();
    const { pluginId, versionId, installations } = await installed(t.platform, behaviourPoint('p.echo', 'echo'), fixture('behaviours'), []);
    assert.deepEqual(installations, []);
    await assert.rejects(t.platform.installations.create(OPERATOR, { tenant: ' ', plugin: pluginId, version: versionId }), {
      code: 'INVALID',
      message: /^tenant: must be a non-blank string/,
    });
    await assert.rejects(
      t.platform.installations.create(OPERATOR, { tenant: 'm1', plugin: pluginId, version: versionId, config: { rate: 5 as never } }),
      {
        code: 'INVALID',
        message: 'config.rate: must be a string, got number',
      },
    );
    await assert.rejects(t.platform.installations.create(OPERATOR, { tenant: 'm1', plugin: pluginId, version: 'v_nope' }), {
      code: 'NOT_FOUND',
      message: 'version "v_nope" not found',
    });
    await assert.rejects(t.platform.installations.create(OPERATOR, { tenant: 'm1', plugin: 'pl_nope', version: versionId }), {
      code: 'NOT_FOUND',
      message: 'plug-in "pl_nope" not found',
    });
    await assert.rejects(t.platform.installations.update(OPERATOR, 'in_nope', { enabled: false }), { code: 'NOT_FOUND' });
  });

  test('change version, enable and disable: each change is one event', async () => {
    await using t = await engine.testPlatform();
    const definition = behaviourPoint('p.echo', 'echo');
    const point = await t.platform.extensionPoint(definition);
    const { actor, pluginId, installations, versionId } = await installed(t.platform, definition, fixture('behaviours'), ['m1']);
    const other = await t.platform.versions.upload(actor, pluginId, fixture('lookup'));
    assert.equal(other.status, 'rejected');
    const id = installations[0] as string;
    await assert.rejects(t.platform.installations.update(OPERATOR, id, { version: other.id }), { code: 'VERSION_REJECTED' });
    // The same module with a custom section: other bytes, so another version.
    const v2 = await t.platform.versions.upload(actor, pluginId, withCustomSection(fixture('behaviours'), 'v2'));
    assert.equal(v2.status, 'validated');
    assert.notEqual(v2.id, versionId);
    await t.platform.installations.update(OPERATOR, id, { version: v2.id });
    assert.equal((await point.run({ tenant: 'm1', input: { n: 1 } })).results[0]?.version, v2.id);
    const changed = await t.platform.installations.update(OPERATOR, id, { enabled: false });
    assert.equal(changed.enabled, false);
    assert.equal((await point.run({ tenant: 'm1', input: { n: 1 } })).defaulted, true);
    await t.platform.installations.update(OPERATOR, id, { enabled: true, position: 5 });
    assert.equal((await point.run({ tenant: 'm1', input: { n: 1 } })).results.length, 1);
    const events = (await t.platform.events.list(OPERATOR)).items.filter((e) => e.subject === id);
    assert.deepEqual(
      events.map((e) => [e.type, e.data.changed ?? null, e.data.enabled]),
      [
        ['installation.created', null, true],
        ['installation.changed', ['version'], true],
        ['installation.changed', ['enabled'], false],
        ['installation.changed', ['position', 'enabled'], true],
      ],
    );
  });

  test('a partner can neither read nor change installations', async () => {
    await using t = await engine.testPlatform();
    const { actor, installations } = await installed(t.platform, behaviourPoint('p.echo', 'echo'), fixture('behaviours'), ['m1']);
    const forbidden = { name: 'PlatformError', code: 'FORBIDDEN' };
    await assert.rejects(t.platform.installations.list(actor), forbidden);
    await assert.rejects(t.platform.installations.get(actor, installations[0] as string), forbidden);
    await assert.rejects(t.platform.installations.update(actor, installations[0] as string, { enabled: false }), forbidden);
    await assert.rejects(t.platform.installations.create(actor, { tenant: 'm1', plugin: 'x', version: 'y' }), forbidden);
  });
});
