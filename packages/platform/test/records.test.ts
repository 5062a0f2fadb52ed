import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OPERATOR, type RunRecord } from '../src/index.js';
import { behaviourPoint, fixture, forEachEngine, installed } from './helpers.js';

forEachEngine('records', (engine) => {
  test('a recorded run stores input, output, outcome, cost, version, installation and config', async () => {
    await using t = await engine.testPlatform();
    const definition = behaviourPoint('p.configured', 'configured', { record: { sample: 1 } });
    const point = await t.platform.extensionPoint(definition);
    const { installations, versionId, pluginId } = await installed(t.platform, definition, fixture('behaviours'), ['m1']);
    await t.platform.installations.update(OPERATOR, installations[0] as string, { config: { answer: '{"n":9}' } });
    const run = await point.run({ tenant: 'm1', key: 'invoice-7', input: { n: 3 } });
    assert.equal(run.recorded, true);
    await t.platform.flush();
    const { items, next } = await t.platform.records.list(OPERATOR);
    assert.equal(next, undefined);
    const record = items[0] as RunRecord;
    assert.deepEqual(
      { ...record, id: '', fuel: 0, durationUs: 0 },
      {
        id: '',
        extensionPoint: 'p.configured',
        tenant: 'm1',
        key: 'invoice-7',
        installation: installations[0],
        plugin: pluginId,
        partner: run.results[0]?.partner,
        version: versionId,
        outcome: 'ok',
        code: null,
        message: null,
        input: { n: 3 },
        output: { n: 9 },
        config: { answer: '{"n":9}' },
        imports: [],
        logs: { lines: [], dropped: 0 },
        fuel: 0,
        budget: run.results[0]?.budget,
        durationUs: 0,
        at: t.clock.now(),
      },
    );
    assert.equal(record.fuel, run.results[0]?.fuel);
  });

  test('only the sampled share of runs is recorded', async () => {
    const draws = [0.5, 0.05, 0.2, 0.01];
    await using t = await engine.testPlatform({ random: () => draws.shift() ?? 1 });
    const definition = behaviourPoint('p.echo', 'echo', { record: { sample: 0.1 } });
    const point = await t.platform.extensionPoint(definition);
    await installed(t.platform, definition, fixture('behaviours'), ['m1']);
    const recorded: boolean[] = [];
    for (let n = 0; n < 4; n++) recorded.push((await point.run({ tenant: 'm1', input: { n } })).recorded);
    assert.deepEqual(recorded, [false, true, false, true]);
    await t.platform.flush();
    assert.deepEqual(
      (await t.platform.records.list(OPERATOR)).items.map((r) => (r as RunRecord).input),
      [{ n: 1 }, { n: 3 }],
    );
  });

  test('a partner sees its own runs’ outcomes and costs, never tenants’ data, and cannot filter by tenant', async () => {
    await using t = await engine.testPlatform();
    const definition = behaviourPoint('p.echo', 'echo', { record: { sample: 1 } });
    const point = await t.platform.extensionPoint(definition);
    const mine = await installed(t.platform, definition, fixture('behaviours'), ['m1'], 'mine');
    await installed(t.platform, definition, fixture('behaviours'), ['m1'], 'theirs');
    await point.run({ tenant: 'm1', key: 'secret-invoice', input: { n: 42 } });
    await t.platform.flush();
    const page = await t.platform.records.list(mine.actor);
    assert.equal(page.items.length, 1);
    assert.deepEqual(Object.keys(page.items[0] as object).sort(), [
      'at',
      'budget',
      'code',
      'durationUs',
      'extensionPoint',
      'fuel',
      'id',
      'installation',
      'outcome',
      'partner',
      'plugin',
      'version',
    ]);
    assert.equal(page.items[0]?.partner, mine.partnerId);
    // The input ({ n: 42 }) and the key appear nowhere; a bare "42" could be part of a random id or a duration.
    assert.equal(JSON.stringify(page).includes('secret-invoice') || JSON.stringify(page).includes('"n":42'), false);
    assert.equal((await t.platform.records.list(mine.actor, { tenant: 'nobody' })).items.length, 1);
    assert.equal((await t.platform.records.list(OPERATOR)).items.length, 2);
  });

  test('records are filtered and paged by cursor', async () => {
    await using t = await engine.testPlatform();
    const definition = behaviourPoint('p.echo', 'echo', { record: { sample: 1 } });
    const point = await t.platform.extensionPoint(definition);
    await installed(t.platform, definition, fixture('behaviours'), ['m1', 'm2']);
    for (let n = 0; n < 5; n++) await point.run({ tenant: n % 2 ? 'm1' : 'm2', input: { n: n === 4 ? 1000 : n } });
    await t.platform.flush();
    const first = await t.platform.records.list(OPERATOR, { limit: 2 });
    const second = await t.platform.records.list(OPERATOR, { limit: 2, after: first.next as string });
    const third = await t.platform.records.list(OPERATOR, { limit: 2, after: second.next as string });
    assert.deepEqual(
      [...first.items, ...second.items, ...third.items].map((r) => (r as RunRecord).input),
      [{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }, { n: 1000 }],
    );
    assert.equal(third.next, undefined);
    assert.deepEqual(
      (await t.platform.records.list(OPERATOR, { tenant: 'm1' })).items.map((r) => (r as RunRecord).input),
      [{ n: 1 }, { n: 3 }],
    );
    assert.deepEqual(
      (await t.platform.records.list(OPERATOR, { outcome: 'rejected' })).items.map((r) => r.code),
      ['SCHEMA'],
    );
    await assert.rejects(t.platform.records.list(OPERATOR, { after: 'drop table' }), { code: 'INVALID', message: /^after: not a cursor/ });
    await assert.rejects(t.platform.records.list(OPERATOR, { limit: 0 }), {
      code: 'INVALID',
      message: /^limit: must be an integer from 1 to 1000/,
    });
    await assert.rejects(t.platform.records.list(OPERATOR, { outcome: 'weird' as never }), { code: 'INVALID', message: /^outcome:/ });
  });

  test('a point keeps at most `retain` records, the newest', async () => {
    await using t = await engine.testPlatform();
    const definition = behaviourPoint('p.echo', 'echo', { record: { sample: 1, retain: 3 } });
    const point = await t.platform.extensionPoint(definition);
    await installed(t.platform, definition, fixture('behaviours'), ['m1']);
    for (let n = 0; n < 5; n++) {
      await point.run({ tenant: 'm1', input: { n } });
      if (n % 2) await t.platform.flush();
    }
    await t.platform.flush();
    assert.deepEqual(
      (await t.platform.records.list(OPERATOR)).items.map((r) => (r as RunRecord).input),
      [{ n: 2 }, { n: 3 }, { n: 4 }],
    );
  });

  test('records are written in batches off the run’s path: nothing before the batch, everything after', async () => {
    await using t = await engine.testPlatform({ records: { batchSize: 10, flushMs: 60_000 } });
    const definition = behaviourPoint('p.echo', 'echo', { record: { sample: 1 } });
    const point = await t.platform.extensionPoint(definition);
    await installed(t.platform, definition, fixture('behaviours'), ['m1']);
    for (let n = 0; n < 9; n++) await point.run({ tenant: 'm1', input: { n } });
    assert.equal((await t.platform.records.list(OPERATOR)).items.length, 0);
    await point.run({ tenant: 'm1', input: { n: 9 } });
    await t.platform.flush();
    assert.equal((await t.platform.records.list(OPERATOR)).items.length, 10);
  });
});
