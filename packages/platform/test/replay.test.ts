import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CallContext, HostFunction } from '@tenon/runtime';
import { type ExtensionPointDefinition, OPERATOR, type RunRecord } from '../src/index.js';
import { fixture, installed, partnerWithPlugin, testPlatform, withCustomSection } from './helpers.js';

const scorerPoint = (extra: Partial<ExtensionPointDefinition> = {}): ExtensionPointDefinition => ({
  name: 'score.points',
  function: 'score',
  input: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
  output: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
  limits: { fuel: 100_000, fuelPerInputKiB: 0, maxFuelScale: 1, timeoutMs: 1000, maxPages: 4, maxOutputBytes: 4096 },
  hostFunctions: ['lookup'],
  record: { sample: 1 },
  ...extra,
});

/** The scorer's v1 installed for two tenants, runs for n = 0..99 recorded, and v2..v4 uploaded. */
async function scorerHistory() {
  const t = await testPlatform();
  const { platform } = t;
  await platform.extensionPoint(scorerPoint(), { hostFunctions: [{ name: 'lookup', results: ['ptr'], call: () => 0 }] });
  const v1 = await installed(platform, scorerPoint(), fixture('scorer_v1'), ['shop-a', 'shop-b']);
  for (const id of v1.installations) await platform.installations.update(OPERATOR, id, { grants: { hostFunctions: ['lookup'] } });
  for (let n = 0; n < 100; n++) {
    await platform.run(OPERATOR, 'score.points', { tenant: n % 2 === 0 ? 'shop-a' : 'shop-b', key: `inv-${n}`, input: { n } });
  }
  await platform.flush();
  const upload = async (name: string) => (await platform.versions.upload(v1.actor, v1.pluginId, fixture(name))).id;
  return { ...t, v1, v2: await upload('scorer_v2'), v3: await upload('scorer_v3'), v4: await upload('scorer_v4') };
}

describe('replay', () => {
  it('names the records whose answer changes, by path, and passes the gate', async () => {
    const h = await scorerHistory();
    await using _ = h;
    const report = await h.platform.replays.create(OPERATOR, { version: h.v2 });
    assert.equal(report.baseline, 'plugin');
    assert.deepEqual(report.totals, { records: 100, same: 50, changed: 50, newlyFailing: 0, fixed: 0, notReplayable: 0 });
    const changed = report.results.filter((r) => r.class === 'changed');
    const first = changed.find((r) => r.key === 'inv-50');
    assert.deepEqual(first?.changes, [{ path: '/n', before: 50, after: 51 }]);
    assert.equal(first?.tenant, 'shop-a');
    assert.ok(changed.every((r) => Number(r.key?.slice(4)) >= 50));
    assert.equal(report.verdict.passed, true);
    assert.deepEqual(report.verdict.reasons, []);
    assert.ok(report.fuel.before.p50 > 0 && report.fuel.after.p99 >= report.fuel.after.p50);
    assert.ok(report.fuel.headroom > 0 && report.fuel.headroom < 1);
    assert.equal(report.slowest.length, 5);
    // Stored: read back, paged.
    const page = await h.platform.replays.get(OPERATOR, report.id, { offset: 90, limit: 20 });
    assert.equal(page.results.length, 10);
    assert.equal(page.next, undefined);
    assert.equal((await h.platform.replays.get(OPERATOR, report.id, { limit: 10 })).next, 10);
    const events = (await h.platform.events.list(OPERATOR)).items.filter((e) => e.type === 'replay.completed');
    assert.equal(events.length, 1);
    assert.equal(events[0]?.subject, report.id);
  });

  it('fails the gate on a version that newly fails and burns fuel, naming why', async () => {
    const h = await scorerHistory();
    await using _ = h;
    const report = await h.platform.replays.create(OPERATOR, { version: h.v3 });
    assert.equal(report.totals.records, 100);
    assert.equal(report.totals.newlyFailing, 1);
    const seven = report.results.find((r) => r.class === 'newly-failing');
    assert.equal(seven?.key, 'inv-7');
    assert.equal(seven?.after?.code, 'PLUGIN_FAILED');
    assert.equal(report.verdict.passed, false);
    assert.match(report.verdict.reasons.join('; '), /1 records newly fail \(at most 0\)/);
    assert.match(report.verdict.reasons.join('; '), /fuel p99 is \d+\.\d\d× the current version's \(at most 1\.5×\)/);
  });

  it('reports newly failing with LINK_FAILED where the candidate needs a host function the installation was not granted', async () => {
    await using t = await testPlatform();
    const { platform } = t;
    await platform.extensionPoint(scorerPoint(), { hostFunctions: [{ name: 'lookup', results: ['ptr'], call: () => 0 }] });
    const v1 = await installed(platform, scorerPoint(), fixture('scorer_v1'), ['shop']);
    await platform.run(OPERATOR, 'score.points', { tenant: 'shop', input: { n: 1 } });
    await platform.flush();
    const v4 = await platform.versions.upload(v1.actor, v1.pluginId, fixture('scorer_v4'));
    const report = await platform.replays.create(OPERATOR, { version: v4.id });
    assert.equal(report.totals.newlyFailing, 1);
    assert.equal(report.results[0]?.after?.code, 'LINK_FAILED');
  });

  it('reports a record not replayable when the candidate asks for an import the record lacks, and calls nothing', async () => {
    const h = await scorerHistory();
    await using _ = h;
    const report = await h.platform.replays.create(OPERATOR, { version: h.v4, records: 3 });
    assert.equal(report.totals.notReplayable, 3);
    assert.match(report.results[0]?.reason ?? '', /asks host function "lookup", past the 0 the record holds/);
    assert.equal(report.results[0]?.after, undefined);
    // The partner is not shown what was asked: the candidate may have put the tenant's data in it.
    const seen = await h.platform.replays.get(h.v1.actor, report.id);
    assert.equal(seen.results[0]?.reason, 'the version asked for an import the record does not hold');
  });

  it('records host function answers and replays them without calling the host function', async () => {
    await using t = await testPlatform();
    const { platform } = t;
    let calls = 0;
    const lookup: HostFunction = {
      name: 'lookup',
      params: ['ptr'],
      results: ['ptr'],
      call: (context: CallContext, question: never) => {
        calls++;
        const n = (context.json(question) as { n: number }).n;
        return context.writeJson({ n: n * 10 });
      },
    };
    const point = { ...scorerPoint({ name: 'score.lookup', function: 'echo' }) };
    await platform.extensionPoint(point, { hostFunctions: [lookup] });
    const owner = await partnerWithPlugin(platform, 'score.lookup');
    const v1 = await platform.versions.upload(owner.actor, owner.pluginId, fixture('lookup'));
    await platform.installations.create(OPERATOR, {
      tenant: 'shop',
      plugin: owner.pluginId,
      version: v1.id,
      grants: { hostFunctions: ['lookup'] },
    });
    for (const n of [1, 2, 3]) await platform.run(OPERATOR, 'score.lookup', { tenant: 'shop', input: { n } });
    await platform.flush();
    const records = (await platform.records.list(OPERATOR)).items as RunRecord[];
    assert.deepEqual(
      records.map((r) => r.output),
      [{ n: 10 }, { n: 20 }, { n: 30 }],
    );
    assert.equal(records[0]?.imports.length, 1);
    assert.equal(records[0]?.imports[0]?.kind, 'host');
    const v2 = await platform.versions.upload(owner.actor, owner.pluginId, withCustomSection(fixture('lookup'), 'v2'));
    const before = calls;
    const report = await platform.replays.create(OPERATOR, { version: v2.id });
    assert.equal(calls, before, 'the host function was not called');
    assert.deepEqual(report.totals, { records: 3, same: 3, changed: 0, newlyFailing: 0, fixed: 0, notReplayable: 0 });
    assert.deepEqual(
      report.results.map((r) => [r.before.fuel, r.after?.fuel]),
      report.results.map((r) => [r.before.fuel, r.before.fuel]),
      'same fuel on replay',
    );
  });

  it("shows a partner its own replay with paths only, and hides other partners' versions and replays", async () => {
    const h = await scorerHistory();
    await using _ = h;
    const report = await h.platform.replays.create(h.v1.actor, { version: h.v2 });
    const changed = report.results.find((r) => r.class === 'changed');
    assert.deepEqual(changed?.changes, [{ path: '/n' }]);
    assert.equal(changed?.tenant, undefined);
    assert.equal(changed?.key, undefined);
    const other = await partnerWithPlugin(h.platform, 'score.points', 'rival');
    await assert.rejects(h.platform.replays.create(other.actor, { version: h.v2 }), {
      name: 'PlatformError',
      code: 'NOT_FOUND',
      message: /version/,
    });
    await assert.rejects(h.platform.replays.get(other.actor, report.id), { name: 'PlatformError', code: 'NOT_FOUND', message: /replay/ });
  });

  it('refuses bad requests with INVALID naming the field', async () => {
    await using t = await testPlatform();
    await assert.rejects(t.platform.replays.create(OPERATOR, { version: 'v_x', records: 0 }), { code: 'INVALID', message: /records/ });
    await assert.rejects(t.platform.replays.create(OPERATOR, { version: 'v_nope' }), { code: 'NOT_FOUND', message: /v_nope/ });
  });
});
