// What the dashboard reads through migration 0005's indexes and columns, on both engines: the list of
// replays (summaries, newest first, by cursor, scoped), and the overview's statistics bounded by time.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import Database from 'better-sqlite3';
import { OPERATOR, type Platform } from '../src/index.js';
import { behaviourPoint, fixture, forEachEngine, installed, partnerWithPlugin, testPlatform } from './helpers.js';

const scorer = {
  ...behaviourPoint('score.points', 'score'),
  hostFunctions: ['lookup'],
  limits: { fuel: 100_000, fuelPerInputKiB: 0, maxFuelScale: 1, timeoutMs: 1000, maxPages: 4, maxOutputBytes: 4096 },
  record: { sample: 1 },
};

async function history(platform: Platform) {
  await platform.extensionPoint(scorer, { hostFunctions: [{ name: 'lookup', results: ['ptr'], call: () => 0 }] });
  const v1 = await installed(platform, scorer, fixture('scorer_v1'), ['shop-a']);
  for (const id of v1.installations) await platform.installations.update(OPERATOR, id, { grants: { hostFunctions: ['lookup'] } });
  for (let n = 0; n < 20; n++) await platform.run(OPERATOR, 'score.points', { tenant: 'shop-a', key: `inv-${n}`, input: { n } });
  await platform.flush();
  const v2 = (await platform.versions.upload(v1.actor, v1.pluginId, fixture('scorer_v2'))).id;
  return { v1, v2 };
}

forEachEngine("the dashboard's reads", (engine) => {
  it('lists replays newest first as summaries, by cursor, and a partner only its own', async () => {
    await using t = await engine.testPlatform();
    const { platform, clock } = t;
    const { v1, v2 } = await history(platform);
    const created: string[] = [];
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      created.push((await platform.replays.create(v1.actor, { version: v2, records: 10 })).id);
    }
    const other = await partnerWithPlugin(platform, 'score.points', 'other');
    const page1 = await platform.replays.list(OPERATOR, { limit: 2 });
    assert.deepEqual(
      page1.items.map((r) => r.id),
      [created[2], created[1]],
    );
    assert.equal('results' in (page1.items[0] as object), false);
    assert.equal(page1.items[0]?.totals.records, 10);
    const page2 = await platform.replays.list(OPERATOR, { limit: 2, ...(page1.next === undefined ? {} : { after: page1.next }) });
    assert.deepEqual(
      page2.items.map((r) => r.id),
      [created[0]],
    );
    assert.equal(page2.next, undefined);
    assert.deepEqual(
      (await platform.replays.list(v1.actor, { version: v2 })).items.map((r) => r.id),
      [...created].reverse(),
    );
    assert.deepEqual((await platform.replays.list(other.actor)).items, []);
    await assert.rejects(platform.replays.list(other.actor, { plugin: v1.pluginId }), { code: 'NOT_FOUND' });
    await assert.rejects(platform.replays.list(OPERATOR, { after: 'x' }), { code: 'INVALID', message: /cursor/ });
  });

  it("counts only the window's runs in the statistics, by time", async () => {
    await using t = await engine.testPlatform();
    const { platform, clock } = t;
    await history(platform);
    clock.advance(2 * 60 * 60_000);
    for (let n = 0; n < 5; n++) await platform.run(OPERATOR, 'score.points', { tenant: 'shop-a', input: { n } });
    await platform.flush();
    const hour = await platform.records.stats(OPERATOR, { windowMs: 60 * 60_000, buckets: 6 });
    assert.equal(hour.runs, 5);
    assert.equal(
      hour.series.reduce((sum, b) => sum + (b.outcomes.ok ?? 0), 0),
      5,
    );
    const day = await platform.records.stats(OPERATOR, { windowMs: 24 * 60 * 60_000, buckets: 24 });
    assert.equal(day.runs, 25);
  });
});

it('lists a replay stored before migration 0005 (no summary) from its report', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tenon-replay-list-'));
  try {
    const store = join(dir, 'tenon.db');
    let id: string;
    {
      await using t = await testPlatform({ store: `sqlite:${store}` });
      const { v1, v2 } = await history(t.platform);
      id = (await t.platform.replays.create(v1.actor, { version: v2, records: 10 })).id;
    }
    const db = new Database(store);
    db.prepare('update replays set summary = null').run();
    db.close();
    await using t = await testPlatform({ store: `sqlite:${store}` });
    const [item] = (await t.platform.replays.list(OPERATOR)).items;
    assert.equal(item?.id, id);
    assert.equal(item?.totals.records, 10);
    assert.equal('results' in (item as object), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
