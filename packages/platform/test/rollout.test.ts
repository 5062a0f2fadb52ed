import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ExtensionPointDefinition, OPERATOR, type Platform } from '../src/index.js';
import { fixture, installed, testPlatform } from './helpers.js';

const point: ExtensionPointDefinition = {
  name: 'score.points',
  function: 'score',
  input: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
  output: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
  limits: { fuel: 100_000, fuelPerInputKiB: 0, maxFuelScale: 1, timeoutMs: 1000, maxPages: 4, maxOutputBytes: 4096 },
  record: { sample: 1 },
};

/** v1 installed for `shop` with 100 recorded runs; v2 (changes n >= 50) and v3 (fails on 7, burns fuel) uploaded and replayed. */
async function world() {
  const t = await testPlatform();
  const { platform } = t;
  await platform.extensionPoints.define(OPERATOR, point);
  const v1 = await installed(platform, point, fixture('scorer_v1'), ['shop']);
  for (let n = 0; n < 100; n++) await platform.run(OPERATOR, 'score.points', { tenant: 'shop', key: `inv-${n}`, input: { n } });
  await platform.flush();
  const v2 = (await platform.versions.upload(v1.actor, v1.pluginId, fixture('scorer_v2'))).id;
  const v3 = (await platform.versions.upload(v1.actor, v1.pluginId, fixture('scorer_v3'))).id;
  assert.equal((await platform.replays.create(OPERATOR, { version: v2 })).verdict.passed, true);
  assert.equal((await platform.replays.create(OPERATOR, { version: v3 })).verdict.passed, false);
  return { ...t, installation: v1.installations[0] as string, v1: v1.versionId, v2, v3 };
}

async function traffic(platform: Platform, inputs: readonly number[], prefix = 'live'): Promise<string[]> {
  const versions: string[] = [];
  for (const [i, n] of inputs.entries()) {
    const result = await platform.run(OPERATOR, 'score.points', { tenant: 'shop', key: `${prefix}-${i}`, input: { n } });
    versions.push(result.results[0]?.version as string);
  }
  await platform.flush();
  return versions;
}

const eventsOf = async (platform: Platform, type: string) =>
  (await platform.events.list(OPERATOR, { limit: 1000 })).items.filter((e) => e.type === type);

describe('rollout', () => {
  it('sends a sticky share of runs to a canary and promotes it after N clean runs', async () => {
    const w = await world();
    await using _ = w;
    const started = await w.platform.rollouts.start(OPERATOR, w.installation, { version: w.v2, percent: 30, window: 10, promoteAfter: 20 });
    assert.equal(started.candidate?.version, w.v2);
    // The same keys twice meet the same versions.
    const inputs = Array.from({ length: 20 }, (_, i) => i);
    const first = await traffic(w.platform, inputs, 'sticky');
    const again = await traffic(w.platform, inputs, 'sticky');
    assert.deepEqual(again, first);
    assert.ok(first.includes(w.v2) && first.includes(w.v1), 'both versions ran');
    const status = await w.platform.rollouts.status(OPERATOR, w.installation);
    assert.equal(status.candidate.runs + status.current.runs, 40);
    assert.equal(status.candidate.failed, 0);
    await traffic(
      w.platform,
      Array.from({ length: 200 }, (_, i) => i % 40),
    );
    const after = await w.platform.installations.get(OPERATOR, w.installation);
    assert.equal(after.versionId, w.v2);
    assert.equal(after.candidate, null);
    const promoted = await eventsOf(w.platform, 'rollout.promoted');
    assert.equal(promoted.length, 1);
    assert.match(String(promoted[0]?.data.reason), /^automatic: \d+ candidate runs within the thresholds/);
    // Everything now runs v2.
    assert.deepEqual(new Set(await traffic(w.platform, [1, 2, 3], 'after')), new Set([w.v2]));
  });

  it('rolls a canary back by itself when it fails more than the current version', async () => {
    const w = await world();
    await using _ = w;
    await w.platform.rollouts.start(OPERATOR, w.installation, { version: w.v3, percent: 50, window: 5, fuelRatio: 1000, override: true });
    await traffic(
      w.platform,
      Array.from({ length: 60 }, () => 7),
    );
    const after = await w.platform.installations.get(OPERATOR, w.installation);
    assert.equal(after.versionId, w.v1);
    assert.equal(after.candidate, null);
    const [rolledBack] = await eventsOf(w.platform, 'rollout.rolled-back');
    assert.match(String(rolledBack?.data.reason), /^automatic: contained\+rejected 100\.0% against 0\.0% over 5 runs \(margin 5\.0%\)/);
    assert.deepEqual(new Set(await traffic(w.platform, [7, 7, 7], 'after')), new Set([w.v1]));
  });

  it('rolls a canary back by itself when its fuel p99 passes the ratio', async () => {
    const w = await world();
    await using _ = w;
    await w.platform.rollouts.start(OPERATOR, w.installation, { version: w.v3, percent: 50, window: 5, override: true });
    await traffic(
      w.platform,
      Array.from({ length: 60 }, () => 60),
    );
    assert.equal((await w.platform.installations.get(OPERATOR, w.installation)).candidate, null);
    const [rolledBack] = await eventsOf(w.platform, 'rollout.rolled-back');
    assert.match(String(rolledBack?.data.reason), /fuel p99 \d+ is \d+\.\d\d× the current's \d+ \(at most 1\.5×\)/);
  });

  it('refuses a candidate that failed its gate unless the operator overrides, and the override is an event', async () => {
    const w = await world();
    await using _ = w;
    await assert.rejects(w.platform.rollouts.start(OPERATOR, w.installation, { version: w.v3 }), {
      name: 'PlatformError',
      code: 'GATE_FAILED',
      message: /failed its gate in replay "rp_.*": it cannot become a candidate unless an operator overrides/,
    });
    assert.equal((await w.platform.installations.get(OPERATOR, w.installation)).candidate, null);
    await w.platform.rollouts.start(OPERATOR, w.installation, { version: w.v3, override: true });
    assert.equal((await eventsOf(w.platform, 'rollout.gate-overridden')).length, 1);
    assert.equal((await eventsOf(w.platform, 'rollout.started')).length, 1);
  });

  it('runs a shadow beside the current version, never uses its answer, and keeps the differences', async () => {
    const w = await world();
    await using _ = w;
    await w.platform.rollouts.start(OPERATOR, w.installation, { version: w.v2, mode: 'shadow', percent: 100, window: 1000 });
    const results = [];
    for (let n = 45; n < 55; n++)
      results.push(await w.platform.run(OPERATOR, 'score.points', { tenant: 'shop', key: `s-${n}`, input: { n } }));
    assert.deepEqual(
      results.map((r) => r.results[0]?.output),
      Array.from({ length: 10 }, (_, i) => ({ n: 45 + i })),
      'the current answers are used',
    );
    assert.ok(results.every((r) => r.results[0]?.version === w.v1));
    const status = await w.platform.rollouts.status(OPERATOR, w.installation);
    assert.equal(status.shadow.compared, 10);
    assert.equal(status.shadow.differing, 5);
    assert.deepEqual(status.shadow.differences[0], {
      key: 's-50',
      current: { outcome: 'ok', code: undefined, fuel: status.shadow.differences[0]?.current.fuel },
      candidate: { outcome: 'ok', code: undefined, fuel: status.shadow.differences[0]?.candidate.fuel },
      changes: [{ path: '/n', before: 50, after: 51 }],
    });
  });

  it('promotes and rolls back by hand, each with its event; without a candidate it is a CONFLICT', async () => {
    const w = await world();
    await using _ = w;
    await w.platform.rollouts.start(OPERATOR, w.installation, { version: w.v2 });
    const rolled = await w.platform.rollouts.rollback(OPERATOR, w.installation);
    assert.equal(rolled.candidate, null);
    assert.equal(rolled.versionId, w.v1);
    await assert.rejects(w.platform.rollouts.promote(OPERATOR, w.installation), {
      name: 'PlatformError',
      code: 'CONFLICT',
      message: /has no candidate/,
    });
    await w.platform.rollouts.start(OPERATOR, w.installation, { version: w.v2 });
    const promoted = await w.platform.rollouts.promote(OPERATOR, w.installation);
    assert.equal(promoted.versionId, w.v2);
    assert.equal((await eventsOf(w.platform, 'rollout.rolled-back'))[0]?.data.reason, 'by the operator');
    assert.equal((await eventsOf(w.platform, 'rollout.promoted')).length, 1);
    const partner = { kind: 'partner' as const, partnerId: promoted.partnerId };
    await assert.rejects(w.platform.rollouts.rollback(partner, w.installation), { code: 'FORBIDDEN' });
  });
});
