import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OPERATOR } from '../src/index.js';
import { behaviourPoint, forEachEngine, vowelsPoint } from './helpers.js';

forEachEngine('extension points', (engine) => {
  test('are defined by the operator with defaults filled in, and read by partners', async () => {
    await using t = await engine.testPlatform();
    const info = await t.platform.extensionPoints.define(OPERATOR, vowelsPoint());
    assert.deepEqual(info.limits, {
      fuel: 1_000_000,
      fuelPerInputKiB: 100_000,
      maxFuelScale: 10,
      timeoutMs: 1000,
      maxPages: 16,
      maxOutputBytes: 4096,
      maxLogBytes: 16_384,
      maxModuleBytes: 4 * 1024 * 1024,
    });
    assert.deepEqual([info.isolation, info.record, info.wasi, info.allowedHosts], ['fresh', { sample: 0, retain: 100_000 }, false, []]);
    const partner = await t.platform.partners.create(OPERATOR, { name: 'p' });
    const actor = { kind: 'partner', partnerId: partner.id } as const;
    assert.deepEqual(await t.platform.extensionPoints.get(actor, 'text.vowels'), info);
    assert.deepEqual(
      (await t.platform.extensionPoints.list(actor)).map((p) => p.name),
      ['text.vowels'],
    );
    await assert.rejects(t.platform.extensionPoints.define(actor, vowelsPoint()), {
      name: 'PlatformError',
      code: 'FORBIDDEN',
      message: 'Only the operator can define extension points',
    });
  });

  test('defining the same point again changes nothing; a new definition is one event', async () => {
    await using t = await engine.testPlatform();
    const first = await t.platform.extensionPoints.define(OPERATOR, vowelsPoint());
    t.clock.advance(1000);
    assert.deepEqual(await t.platform.extensionPoints.define(OPERATOR, vowelsPoint()), first);
    const changed = await t.platform.extensionPoints.define(OPERATOR, vowelsPoint({ record: { sample: 0.5 } }));
    assert.equal(changed.updatedAt, first.updatedAt + 1000);
    assert.equal(changed.createdAt, first.createdAt);
    const events = (await t.platform.events.list(OPERATOR)).items.filter((e) => e.type === 'extension-point.defined');
    assert.deepEqual(
      events.map((e) => e.data),
      [{ redefined: false }, { redefined: true }],
    );
  });

  test('a schema ajv refuses is SCHEMA_INVALID, and nothing is stored', async () => {
    await using t = await engine.testPlatform();
    await assert.rejects(t.platform.extensionPoints.define(OPERATOR, vowelsPoint({ output: { type: 'objekt' } })), {
      name: 'PlatformError',
      code: 'SCHEMA_INVALID',
      message: /^definition\.output is not a usable JSON Schema: .*type/,
    });
    await assert.rejects(t.platform.extensionPoints.get(OPERATOR, 'text.vowels'), {
      code: 'NOT_FOUND',
      message: 'extension point "text.vowels" not found',
    });
  });

  test('a malformed definition is INVALID and names the field', async () => {
    await using t = await engine.testPlatform();
    const cases: [unknown, RegExp][] = [
      [{ ...vowelsPoint(), name: 'Bad Name' }, /^definition\.name: must match pattern/],
      [{ ...vowelsPoint(), limits: { ...vowelsPoint().limits, fuel: -1 } }, /^definition\.limits\.fuel: must be >= 1/],
      [{ ...vowelsPoint(), extra: 1 }, /^definition: must NOT have additional properties \("extra"\)/],
      [
        { ...vowelsPoint(), isolation: 'shared' },
        /^definition\.isolation: must be equal to one of the allowed values \(\["fresh","tenant"\]\)/,
      ],
      [{ ...vowelsPoint(), simulations: [{ name: 'a', input: 1, expect: {} }] }, /^definition\.simulations\.0\.expect/],
      [
        {
          ...vowelsPoint(),
          simulations: [...(vowelsPoint().simulations ?? []), { name: 'empty', input: '', expect: { output: { count: 0 } } }],
        },
        /^definition\.simulations\.2\.name: "empty" is used twice/,
      ],
      [null, /^definition: must be object/],
    ];
    for (const [definition, message] of cases) {
      await assert.rejects(t.platform.extensionPoints.define(OPERATOR, definition as never), {
        name: 'PlatformError',
        code: 'INVALID',
        message,
      });
    }
  });

  test('host function code for a function the point does not offer is INVALID', async () => {
    await using t = await engine.testPlatform();
    await assert.rejects(
      t.platform.extensionPoint(behaviourPoint('p.echo', 'echo'), { hostFunctions: [{ name: 'kv_get', call: () => 0 }] }),
      { code: 'INVALID', message: 'host function "kv_get" is not in the extension point\'s hostFunctions' },
    );
  });
});

forEachEngine('partners and keys', (engine) => {
  test('a key is shown once, stored as its sha256, and authenticates its partner', async () => {
    await using t = await engine.testPlatform();
    const partner = await t.platform.partners.create(OPERATOR, { name: 'Acme' });
    assert.match(partner.key, /^tpk_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(await t.platform.authenticate(partner.key), { kind: 'partner', partnerId: partner.id });
    assert.equal(await t.platform.authenticate(`${partner.key}x`), undefined);
    assert.equal(await t.platform.authenticate(''), undefined);
    assert.deepEqual(await t.platform.partners.get(OPERATOR, partner.id), { id: partner.id, name: 'Acme', createdAt: partner.createdAt });
    assert.equal(JSON.stringify(await t.platform.partners.list(OPERATOR)).includes(partner.key), false);
    const rotated = await t.platform.partners.rotateKey(OPERATOR, partner.id);
    assert.equal(await t.platform.authenticate(partner.key), undefined);
    assert.deepEqual(await t.platform.authenticate(rotated.key), { kind: 'partner', partnerId: partner.id });
  });

  test('a partner sees only itself; creating partners is the operator’s', async () => {
    await using t = await engine.testPlatform();
    const a = await t.platform.partners.create(OPERATOR, { name: 'A' });
    const b = await t.platform.partners.create(OPERATOR, { name: 'B' });
    const actor = { kind: 'partner', partnerId: a.id } as const;
    assert.deepEqual(
      (await t.platform.partners.list(actor)).map((p) => p.id),
      [a.id],
    );
    await assert.rejects(t.platform.partners.get(actor, b.id), { code: 'NOT_FOUND', message: `partner "${b.id}" not found` });
    await assert.rejects(t.platform.partners.create(actor, { name: 'C' }), { code: 'FORBIDDEN' });
    await assert.rejects(t.platform.partners.create(OPERATOR, { name: '  ' }), {
      code: 'INVALID',
      message: /^name: must be a non-blank string/,
    });
  });

  test('the operator key is generated once and returned once, or taken from the caller', async () => {
    await using t = await engine.testPlatform();
    const key = await t.platform.ensureOperatorKey();
    assert.match(key ?? '', /^tok_/);
    assert.equal(await t.platform.ensureOperatorKey(), undefined);
    assert.deepEqual(await t.platform.authenticate(key as string), { kind: 'operator' });
    await t.platform.ensureOperatorKey('a-key-from-the-environment');
    assert.equal(await t.platform.authenticate(key as string), undefined);
    assert.deepEqual(await t.platform.authenticate('a-key-from-the-environment'), { kind: 'operator' });
    await assert.rejects(t.platform.ensureOperatorKey('short'), { code: 'INVALID', message: /^operatorKey: must be 16 to 256 characters/ });
  });
});

forEachEngine('plug-ins', (engine) => {
  test('a partner creates plug-ins on existing points; names are unique per partner and point', async () => {
    await using t = await engine.testPlatform();
    await t.platform.extensionPoints.define(OPERATOR, vowelsPoint());
    const partner = await t.platform.partners.create(OPERATOR, { name: 'A' });
    const actor = { kind: 'partner', partnerId: partner.id } as const;
    const plugin = await t.platform.plugins.create(actor, { name: 'vowels', extensionPoint: 'text.vowels' });
    assert.equal(plugin.partnerId, partner.id);
    await assert.rejects(t.platform.plugins.create(actor, { name: 'vowels', extensionPoint: 'text.vowels' }), {
      code: 'CONFLICT',
      message: 'A plug-in named "vowels" already exists on "text.vowels"',
    });
    await assert.rejects(t.platform.plugins.create(actor, { name: 'x', extensionPoint: 'nope' }), { code: 'NOT_FOUND' });
    await assert.rejects(t.platform.plugins.create(OPERATOR, { name: 'x', extensionPoint: 'text.vowels' }), {
      code: 'INVALID',
      message: /^partnerId:/,
    });
    const forPartner = await t.platform.plugins.create(OPERATOR, { name: 'x', extensionPoint: 'text.vowels', partnerId: partner.id });
    assert.equal(forPartner.partnerId, partner.id);
  });
});
