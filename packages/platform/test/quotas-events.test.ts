import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OPERATOR, type PlatformEvent } from '../src/index.js';
import { behaviourPoint, fixture, forEachEngine, installed } from './helpers.js';

forEachEngine('quotas', (engine) => {
  test('past its runs per minute a partner’s run is contained with QUOTA_EXCEEDED, the others go on, and one event says so', async () => {
    await using t = await engine.testPlatform();
    const definition = behaviourPoint('p.echo', 'echo');
    const point = await t.platform.extensionPoint(definition);
    const limited = await installed(t.platform, definition, fixture('behaviours'), ['m1'], 'limited');
    await installed(t.platform, definition, fixture('behaviours'), ['m1'], 'free');
    await t.platform.quotas.set(OPERATOR, limited.partnerId, { runsPerMinute: 2 });
    const outcomes = async () => (await point.run({ tenant: 'm1', input: { n: 1 } })).results.map((r) => r.code ?? r.outcome);
    assert.deepEqual(await outcomes(), ['ok', 'ok']);
    assert.deepEqual(await outcomes(), ['ok', 'ok']);
    assert.deepEqual(await outcomes(), ['QUOTA_EXCEEDED', 'ok']);
    assert.deepEqual(await outcomes(), ['QUOTA_EXCEEDED', 'ok']);
    const [refused] = (await point.run({ tenant: 'm1', input: { n: 1 } })).results;
    assert.deepEqual(
      [refused?.outcome, refused?.fuel, refused?.message],
      ['contained', 0, `Not run: partner "${limited.partnerId}" made its 2 runs for the minute`],
    );
    t.clock.advance(60_000);
    assert.deepEqual(await outcomes(), ['ok', 'ok']);
    await t.platform.flush();
    const exceeded = (await t.platform.events.list(limited.actor)).items.filter((e) => e.type === 'quota.exceeded');
    assert.deepEqual(
      exceeded.map((e) => e.data),
      [{ quota: 'runsPerMinute', limit: 2 }],
    );
  });

  test('fuel per day counts the fuel used and resets the next day', async () => {
    await using t = await engine.testPlatform();
    const definition = behaviourPoint('p.echo', 'echo');
    const point = await t.platform.extensionPoint(definition);
    const p = await installed(t.platform, definition, fixture('behaviours'), ['m1']);
    const fuel = (await point.run({ tenant: 'm1', input: { n: 1 } })).results[0]?.fuel ?? 0;
    await t.platform.quotas.set(OPERATOR, p.partnerId, { fuelPerDay: fuel * 2 });
    assert.deepEqual(await t.platform.quotas.get(p.actor, p.partnerId), {
      partnerId: p.partnerId,
      runsPerMinute: null,
      fuelPerDay: fuel * 2,
    });
    const codes = async () => (await point.run({ tenant: 'm1', input: { n: 1 } })).results[0]?.code ?? 'ok';
    // The quota starts counting when set: two runs fit, the third is refused.
    assert.deepEqual([await codes(), await codes(), await codes()], ['ok', 'ok', 'QUOTA_EXCEEDED']);
    t.clock.advance(86_400_000);
    assert.equal(await codes(), 'ok');
  });

  test('quotas are set by the operator and read by their partner only', async () => {
    await using t = await engine.testPlatform();
    const a = await installed(t.platform, behaviourPoint('p.echo', 'echo'), fixture('behaviours'), [], 'a');
    const b = await installed(t.platform, behaviourPoint('p.echo', 'echo'), fixture('behaviours'), [], 'b');
    await assert.rejects(t.platform.quotas.set(a.actor, a.partnerId, { runsPerMinute: 1000 }), { code: 'FORBIDDEN' });
    await assert.rejects(t.platform.quotas.get(a.actor, b.partnerId), { code: 'NOT_FOUND' });
    await assert.rejects(t.platform.quotas.set(OPERATOR, a.partnerId, { runsPerMinute: -1 }), {
      code: 'INVALID',
      message: 'runsPerMinute: must be a non-negative integer or null, got -1',
    });
    await assert.rejects(t.platform.quotas.set(OPERATOR, 'pt_nope', { runsPerMinute: 1 }), { code: 'NOT_FOUND' });
  });
});

forEachEngine('events', (engine) => {
  test('the log is ordered, paged by cursor, and scoped: a partner sees only events about its own things', async () => {
    await using t = await engine.testPlatform();
    const a = await installed(t.platform, behaviourPoint('p.echo', 'echo'), fixture('behaviours'), ['m1'], 'a');
    const b = await installed(t.platform, behaviourPoint('p.echo', 'echo'), fixture('behaviours'), ['m1'], 'b');
    const all = (await t.platform.events.list(OPERATOR)).items;
    assert.deepEqual(
      all.map((e) => e.type),
      [
        'extension-point.defined',
        'partner.created',
        'plugin.created',
        'version.validated',
        'installation.created',
        'partner.created',
        'plugin.created',
        'version.validated',
        'installation.created',
      ],
    );
    const mine = (await t.platform.events.list(a.actor)).items;
    assert.deepEqual(
      mine.map((e) => e.type),
      ['partner.created', 'plugin.created', 'version.validated'],
    );
    assert.ok(mine.every((e) => e.partnerId === a.partnerId));
    assert.ok((await t.platform.events.list(b.actor)).items.every((e) => e.partnerId === b.partnerId));
    const page1 = await t.platform.events.list(OPERATOR, { limit: 4 });
    const page2 = await t.platform.events.list(OPERATOR, { after: page1.next as string, limit: 4 });
    const page3 = await t.platform.events.list(OPERATOR, { after: page2.next as string, limit: 4 });
    assert.deepEqual(
      [...page1.items, ...page2.items, ...page3.items].map((e) => e.id),
      all.map((e) => e.id),
    );
    assert.equal(page3.next, undefined);
    assert.deepEqual((await t.platform.events.list(OPERATOR, { after: all.at(-1)?.cursor as string })).items, []);
  });

  test('subscribers get each committed event they may see, until they unsubscribe', async () => {
    await using t = await engine.testPlatform();
    const a = await installed(t.platform, behaviourPoint('p.echo', 'echo'), fixture('behaviours'), [], 'a');
    const operatorSaw: PlatformEvent[] = [];
    const partnerSaw: PlatformEvent[] = [];
    const stopOperator = t.platform.events.subscribe(OPERATOR, (e) => operatorSaw.push(e));
    t.platform.events.subscribe(a.actor, (e) => partnerSaw.push(e));
    const b = await installed(t.platform, behaviourPoint('p.echo', 'echo'), fixture('behaviours'), ['m1'], 'b');
    await t.platform.versions.upload(a.actor, a.pluginId, fixture('start_spin'));
    stopOperator();
    await t.platform.quotas.set(OPERATOR, a.partnerId, { runsPerMinute: 5 });
    assert.deepEqual(
      operatorSaw.map((e) => e.type),
      ['partner.created', 'plugin.created', 'version.validated', 'installation.created', 'version.rejected'],
    );
    assert.deepEqual(
      partnerSaw.map((e) => e.type),
      ['version.rejected', 'quota.set'],
    );
    assert.ok(operatorSaw.some((e) => e.partnerId === b.partnerId));
    const stored = (await t.platform.events.list(OPERATOR)).items;
    assert.deepEqual(
      operatorSaw,
      stored.filter((e) => operatorSaw.some((s) => s.id === e.id)),
    );
  });
});
