import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CallContext, HostFunction } from '@tenon/runtime';
import { OPERATOR } from '../src/index.js';
import { behaviourPoint, fixture, forEachEngine, installed, partnerWithPlugin } from './helpers.js';

forEachEngine('point.run', (engine) => {
  test('an answer that passes the schema and the host’s rules is ok, with its fuel, budget and time', async () => {
    await using t = await engine.testPlatform();
    const point = await t.platform.extensionPoint(behaviourPoint('p.echo', 'echo'));
    const { installations, versionId, pluginId, partnerId } = await installed(
      t.platform,
      behaviourPoint('p.echo', 'echo'),
      fixture('behaviours'),
      ['m1'],
    );
    const result = await point.run({ tenant: 'm1', key: 'invoice-1', input: { n: 7 } });
    assert.equal(result.defaulted, false);
    assert.equal(result.results.length, 1);
    const [outcome] = result.results;
    assert.deepEqual(
      { ...outcome, fuel: 0, durationUs: 0 },
      {
        installation: installations[0],
        plugin: pluginId,
        partner: partnerId,
        version: versionId,
        outcome: 'ok',
        output: { n: 7 },
        fuel: 0,
        budget: 200_000 + Math.floor((100_000 * 7) / 1024),
        durationUs: 0,
        httpRequests: [],
      },
    );
    assert.ok((outcome?.fuel ?? 0) > 0);
  });

  test('runs are deterministic: the same input gives the same output and the same fuel', async () => {
    await using t = await engine.testPlatform();
    const point = await t.platform.extensionPoint(behaviourPoint('p.burn', 'burn'));
    await installed(t.platform, point.info, fixture('behaviours'), ['m1']);
    const first = await point.run({ tenant: 'm1', input: { n: 12345 } });
    const second = await point.run({ tenant: 'm1', input: { n: 12345 } });
    assert.equal(first.results[0]?.fuel, second.results[0]?.fuel);
    assert.deepEqual(first.results[0]?.output, second.results[0]?.output);
  });

  test('the fuel budget scales with the input, capped at maxFuelScale × fuel', async () => {
    await using t = await engine.testPlatform();
    const definition = behaviourPoint('p.burn', 'burn', {
      input: { type: 'object' },
      output: { type: 'object' },
      limits: { fuel: 200_000, fuelPerInputKiB: 300_000, maxFuelScale: 5, timeoutMs: 1000, maxPages: 4, maxOutputBytes: 65_536 },
    });
    const point = await t.platform.extensionPoint(definition);
    await installed(t.platform, point.info, fixture('behaviours'), ['m1']);
    const small = await point.run({ tenant: 'm1', input: { n: 1 } });
    assert.equal(small.results[0]?.outcome, 'ok');
    // ~225 fuel per byte: 2 KB of input needs more than the base 200,000 fuel, and gets it.
    const medium = await point.run({ tenant: 'm1', input: { s: 'x'.repeat(2000) } });
    assert.equal(medium.results[0]?.outcome, 'ok');
    assert.ok((medium.results[0]?.fuel ?? 0) > 200_000);
    assert.equal(medium.results[0]?.budget, 200_000 + Math.floor((300_000 * 2008) / 1024));
    // 20 KB would get 6M by the per-KiB rate; the cap is 5 × 200,000.
    const large = await point.run({ tenant: 'm1', input: { s: 'x'.repeat(20_000) } });
    assert.equal(large.results[0]?.budget, 1_000_000);
    assert.equal(large.results[0]?.outcome, 'contained');
    assert.equal(large.results[0]?.code, 'FUEL_EXHAUSTED');
  });

  test('a plug-in stopped by the sandbox is contained with the Tenon code, and the next installation still runs', async () => {
    await using t = await engine.testPlatform();
    const spin = await t.platform.extensionPoint(behaviourPoint('p.multi', 'spin'));
    await installed(t.platform, spin.info, fixture('behaviours'), ['m1'], 'spinner');
    const result = await spin.run({ tenant: 'm1', input: { n: 1 } });
    assert.equal(result.results[0]?.outcome, 'contained');
    assert.equal(result.results[0]?.code, 'FUEL_EXHAUSTED');
    assert.match(result.results[0]?.message ?? '', /fuel/);
  });

  test('memory growth past maxPages is contained', async () => {
    await using t = await engine.testPlatform();
    const point = await t.platform.extensionPoint(behaviourPoint('p.hog', 'hog'));
    await installed(t.platform, point.info, fixture('behaviours'), ['m1']);
    const [outcome] = (await point.run({ tenant: 'm1', input: { n: 1 } })).results;
    assert.equal(outcome?.outcome, 'contained');
    assert.equal(outcome?.code, 'TRAP');
  });

  test('an answer that is not JSON, breaks the schema, or fails a host rule is rejected with the rule', async () => {
    await using t = await engine.testPlatform();
    const notJson = await t.platform.extensionPoint(behaviourPoint('p.text', 'not_json'));
    await installed(t.platform, notJson.info, fixture('behaviours'), ['m1'], 'a');
    assert.deepEqual(
      (await notJson.run({ tenant: 'm1', input: { n: 1 } })).results.map((r) => [r.outcome, r.code, r.message]),
      [['rejected', 'ANSWER_NOT_JSON', 'the answer is not JSON: "not json"']],
    );
    const echo = await t.platform.extensionPoint(behaviourPoint('p.echo', 'echo'), {
      rules: (input: { n: number }, output: { n: number }) => (output.n === 13 ? { rule: 'UNLUCKY', message: `refused ${input.n}` } : null),
    });
    await installed(t.platform, echo.info, fixture('behaviours'), ['m1'], 'b');
    assert.deepEqual(
      (await echo.run({ tenant: 'm1', input: { n: 101 } })).results.map((r) => [r.outcome, r.code, r.message]),
      [['rejected', 'SCHEMA', 'the answer breaks the p.echo output schema: /n must be <= 100']],
    );
    assert.deepEqual(
      (await echo.run({ tenant: 'm1', input: { n: 13 } })).results.map((r) => [r.outcome, r.code, r.message]),
      [['rejected', 'UNLUCKY', 'refused 13']],
    );
  });

  test('the host’s rules see the tenant, installation, partner and config', async () => {
    await using t = await engine.testPlatform();
    const seen: unknown[] = [];
    const point = await t.platform.extensionPoint(behaviourPoint('p.echo', 'echo'), {
      rules: (_input, _output, context) => {
        seen.push(context);
        return null;
      },
    });
    const { installations, pluginId, partnerId } = await installed(t.platform, point.info, fixture('behaviours'), ['m1']);
    await point.run({ tenant: 'm1', key: 'k1', input: { n: 1 } });
    assert.deepEqual(seen, [
      { tenant: 'm1', key: 'k1', installation: installations[0], plugin: pluginId, partner: partnerId, config: {}, earlier: [] },
    ]);
  });

  test('installations run in order; a disabled one is skipped; with none enabled the point’s default applies', async () => {
    await using t = await engine.testPlatform();
    const definition = behaviourPoint('p.configured', 'configured', { default: { n: 0 } });
    const point = await t.platform.extensionPoint(definition);
    const a = await partnerWithPlugin(t.platform, 'p.configured', 'a');
    const b = await partnerWithPlugin(t.platform, 'p.configured', 'b');
    const va = await t.platform.versions.upload(a.actor, a.pluginId, fixture('behaviours'));
    const vb = await t.platform.versions.upload(b.actor, b.pluginId, fixture('behaviours'));
    const second = await t.platform.installations.create(OPERATOR, {
      tenant: 'm1',
      plugin: a.pluginId,
      version: va.id,
      config: { answer: '{"n":2}' },
      position: 2,
    });
    const first = await t.platform.installations.create(OPERATOR, {
      tenant: 'm1',
      plugin: b.pluginId,
      version: vb.id,
      config: { answer: '{"n":1}' },
      position: 1,
    });
    assert.deepEqual(
      (await point.run({ tenant: 'm1', input: { n: 0 } })).results.map((r) => r.output),
      [{ n: 1 }, { n: 2 }],
    );
    await t.platform.installations.update(OPERATOR, first.id, { enabled: false });
    assert.deepEqual(
      (await point.run({ tenant: 'm1', input: { n: 0 } })).results.map((r) => r.output),
      [{ n: 2 }],
    );
    await t.platform.installations.update(OPERATOR, second.id, { enabled: false });
    const none = await point.run({ tenant: 'm1', input: { n: 0 } });
    assert.deepEqual(
      { results: none.results, defaulted: none.defaulted, default: none.default },
      { results: [], defaulted: true, default: { n: 0 } },
    );
    const stranger = await point.run({ tenant: 'nobody', input: { n: 0 } });
    assert.equal(stranger.defaulted, true);
  });

  test('a config change reaches the next run', async () => {
    await using t = await engine.testPlatform();
    const point = await t.platform.extensionPoint(behaviourPoint('p.configured', 'configured'));
    const { installations } = await installed(t.platform, point.info, fixture('behaviours'), ['m1']);
    await t.platform.installations.update(OPERATOR, installations[0] as string, { config: { answer: '{"n":5}' } });
    assert.deepEqual((await point.run({ tenant: 'm1', input: { n: 0 } })).results[0]?.output, { n: 5 });
    await t.platform.installations.update(OPERATOR, installations[0] as string, { config: { answer: '{"n":6}' } });
    assert.deepEqual((await point.run({ tenant: 'm1', input: { n: 0 } })).results[0]?.output, { n: 6 });
  });

  test('isolation "fresh" gives every run a new instance; "tenant" keeps one per tenant, never shared', async () => {
    await using t = await engine.testPlatform();
    const count = { type: 'object', properties: { count: { type: 'integer' } }, required: ['count'] };
    const fresh = await t.platform.extensionPoint(behaviourPoint('p.fresh', 'counter', { output: count }));
    await installed(t.platform, fresh.info, fixture('behaviours'), ['m1'], 'f');
    for (let i = 0; i < 3; i++) assert.deepEqual((await fresh.run({ tenant: 'm1', input: { n: 0 } })).results[0]?.output, { count: 1 });

    const kept = await t.platform.extensionPoint(behaviourPoint('p.kept', 'counter', { output: count, isolation: 'tenant' }));
    await installed(t.platform, kept.info, fixture('behaviours'), ['m1', 'm2'], 'k');
    const counts = async (tenant: string) => (await kept.run({ tenant, input: { n: 0 } })).results[0]?.output;
    assert.deepEqual(await counts('m1'), { count: 1 });
    assert.deepEqual(await counts('m1'), { count: 2 });
    assert.deepEqual(await counts('m2'), { count: 1 });
    assert.deepEqual(await counts('m1'), { count: 3 });
  });

  test('a host function runs only when the installation is granted it; otherwise the run is contained', async () => {
    await using t = await engine.testPlatform();
    const definition = behaviourPoint('p.lookup', 'echo', { hostFunctions: ['lookup'] });
    const lookup: HostFunction = {
      name: 'lookup',
      params: ['ptr'],
      results: ['ptr'],
      call: (context: CallContext, offset: bigint) => context.writeJson({ n: (context.json<{ n: number }>(offset)?.n ?? 0) * 2 }),
    };
    const point = await t.platform.extensionPoint(definition, { hostFunctions: [lookup] });
    const owner = await partnerWithPlugin(t.platform, 'p.lookup');
    const version = await t.platform.versions.upload(owner.actor, owner.pluginId, fixture('lookup'));
    assert.equal(version.status, 'validated');
    await t.platform.installations.create(OPERATOR, {
      tenant: 'granted',
      plugin: owner.pluginId,
      version: version.id,
      grants: { hostFunctions: ['lookup'] },
    });
    await t.platform.installations.create(OPERATOR, { tenant: 'denied', plugin: owner.pluginId, version: version.id });
    assert.deepEqual((await point.run({ tenant: 'granted', input: { n: 21 } })).results[0]?.output, { n: 42 });
    const denied = (await point.run({ tenant: 'denied', input: { n: 21 } })).results[0];
    assert.equal(denied?.outcome, 'contained');
    assert.equal(denied?.code, 'LINK_FAILED');
  });

  test('an input outside the point’s input schema is INVALID and runs nothing', async () => {
    await using t = await engine.testPlatform();
    const point = await t.platform.extensionPoint(behaviourPoint('p.echo', 'echo'));
    await installed(t.platform, point.info, fixture('behaviours'), ['m1']);
    await assert.rejects(point.run({ tenant: 'm1', input: { n: 'seven' } }), {
      name: 'PlatformError',
      code: 'INVALID',
      message: 'input.n: breaks the p.echo input schema: must be integer',
    });
    await assert.rejects(t.platform.run(OPERATOR, 'p.nothing', { tenant: 'm1', input: {} }), {
      code: 'NOT_FOUND',
      message: 'extension point "p.nothing" not found',
    });
    await assert.rejects(t.platform.run(OPERATOR, 'p.echo', { tenant: '', input: { n: 1 } }), { code: 'INVALID', message: /tenant/ });
  });

  test('a partner cannot run an extension point', async () => {
    await using t = await engine.testPlatform();
    const point = await t.platform.extensionPoint(behaviourPoint('p.echo', 'echo'));
    const { actor } = await installed(t.platform, point.info, fixture('behaviours'), ['m1']);
    await assert.rejects(t.platform.run(actor, 'p.echo', { tenant: 'm1', input: { n: 1 } }), {
      name: 'PlatformError',
      code: 'FORBIDDEN',
      message: 'Only the operator can run extension points',
    });
  });

  test('run observers are told every outcome', async () => {
    await using t = await engine.testPlatform();
    const point = await t.platform.extensionPoint(behaviourPoint('p.echo', 'echo'));
    await installed(t.platform, point.info, fixture('behaviours'), ['m1']);
    const seen: string[] = [];
    const stop = t.platform.onRun((o) => seen.push(`${o.extensionPoint}:${o.tenant}:${o.outcome}:${o.fuel > 0}`));
    await point.run({ tenant: 'm1', input: { n: 1 } });
    stop();
    await point.run({ tenant: 'm1', input: { n: 1 } });
    assert.deepEqual(seen, ['p.echo:m1:ok:true']);
  });

  test('the host’s rules see the answers accepted earlier in the run, and judge() applies them to answers from elsewhere', async () => {
    await using t = await engine.testPlatform();
    const sum = (answers: readonly unknown[]) => answers.reduce((total: number, a) => total + (a as { n: number }).n, 0);
    const definition = behaviourPoint('p.configured', 'configured', {
      simulations: [{ name: 'any accepted answer', input: { n: 0 }, config: { answer: '{"n":1}' }, expect: { accepted: true } }],
    });
    const point = await t.platform.extensionPoint(definition, {
      rules: (_input, output: { n: number }, context) =>
        sum(context.earlier) + output.n > 2 ? { rule: 'OVER_BUDGET', message: `${sum(context.earlier)} already granted` } : null,
    });
    for (const [name, answer] of [
      ['a', '{"n":2}'],
      ['b', '{"n":1}'],
    ] as const) {
      const owner = await partnerWithPlugin(t.platform, 'p.configured', name);
      const version = await t.platform.versions.upload(owner.actor, owner.pluginId, fixture('behaviours'));
      assert.deepEqual(
        version.report.simulations.map((s) => [s.ok, s.message]),
        [[true, 'answer accepted']],
      );
      await t.platform.installations.create(OPERATOR, { tenant: 'm1', plugin: owner.pluginId, version: version.id, config: { answer } });
    }
    assert.deepEqual(
      (await point.run({ tenant: 'm1', input: { n: 0 } })).results.map((r) => [r.outcome, r.code, r.message]),
      [
        ['ok', undefined, undefined],
        ['rejected', 'OVER_BUDGET', '2 already granted'],
      ],
    );
    const context = {
      tenant: 'm1',
      key: undefined,
      installation: 'webhook',
      plugin: 'webhook',
      partner: 'webhook',
      config: {},
      earlier: [{ n: 2 }],
    };
    assert.deepEqual(point.judge({ n: 0 }, '{"n":1}', context), { outcome: 'rejected', code: 'OVER_BUDGET', message: '2 already granted' });
    assert.deepEqual(point.judge({ n: 0 }, '{"n":0}', context), { outcome: 'ok', output: { n: 0 } });
    assert.deepEqual(point.judge({ n: 0 }, 'nope', context), {
      outcome: 'rejected',
      code: 'ANSWER_NOT_JSON',
      message: 'the answer is not JSON: "nope"',
    });
  });
});
