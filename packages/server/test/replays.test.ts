import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fixture, refusal, type World, world } from './world.js';

describe('replays over HTTP', () => {
  let w: World;
  before(async () => {
    w = await world();
  });
  after(() => w.close());

  it("answers a partner's replay of its own version with the verdict and no tenant's data", async () => {
    const response = await w.call({ method: 'GET', url: `/v1/replays/${w.replay}` }, w.alice.key);
    assert.equal(response.statusCode, 200, response.body);
    const report = response.json();
    assert.equal(report.version, w.candidate);
    assert.equal(report.baseline, 'plugin');
    assert.deepEqual(report.totals, { records: 1, same: 1, changed: 0, newlyFailing: 0, fixed: 0, notReplayable: 0 });
    assert.ok(report.fuel.before.p50 > 0 && report.fuel.after.p50 > 0, JSON.stringify(report.fuel));
    assert.equal(report.verdict.passed, report.verdict.reasons.length === 0);
    assert.equal(report.verdict.gate.maxFuelRatio, 1.5);
    assert.equal(report.results[0].class, 'same');
    for (const secret of ['merchant-secret', 'invoice-secret', 'input-secret']) assert.ok(!response.body.includes(secret), secret);
  });

  it('shows the operator the tenant and key of each record', async () => {
    const response = await w.call({ method: 'POST', url: '/v1/replays', payload: { version: w.candidate, records: 5 } });
    assert.equal(response.statusCode, 201, response.body);
    const report = response.json();
    assert.equal(report.results[0].tenant, 'merchant-secret');
    assert.equal(report.results[0].key, 'invoice-secret');
  });

  it('refuses a bad body with 400 and an unknown replay with 404', async () => {
    const bad = await w.call({ method: 'POST', url: '/v1/replays', payload: { version: w.candidate, records: 0 } });
    assert.equal(bad.statusCode, 400);
    assert.match(refusal(bad).message, /records/);
    const missing = await w.call({ method: 'GET', url: '/v1/replays/rp_nope' });
    assert.equal(missing.statusCode, 404);
    assert.equal(refusal(missing).code, 'NOT_FOUND');
  });
});

describe('rollouts over HTTP', () => {
  let w: World;
  before(async () => {
    w = await world();
  });
  after(() => w.close());

  it('refuses a never-replayed candidate with 409 GATE_FAILED, and starts it when the operator overrides', async () => {
    // count_vowels with a custom section appended: the same code, another version, never replayed.
    const section = Buffer.from([0, 4, 3, ...Buffer.from('new')]);
    const upload = await w.call(
      {
        method: 'POST',
        url: `/v1/plugins/${w.alice.plugin}/versions`,
        payload: Buffer.concat([fixture('count_vowels'), section]),
        headers: { 'content-type': 'application/wasm' },
      },
      w.alice.key,
    );
    const version = upload.json().id as string;
    const url = `/v1/installations/${w.installation}/candidate`;
    const refused = await w.call({ method: 'POST', url, payload: { version, percent: 25 } });
    assert.equal(refused.statusCode, 409, refused.body);
    assert.equal(refusal(refused).code, 'GATE_FAILED');
    assert.match(refusal(refused).message, /has not been replayed: it cannot become a candidate unless an operator overrides/);
    const forced = await w.call({ method: 'POST', url, payload: { version, percent: 25, override: true } });
    assert.equal(forced.statusCode, 200, forced.body);
    assert.equal(forced.json().candidate.version, version);
    assert.equal(forced.json().candidate.percent, 25);
    const status = await w.call({ method: 'GET', url: `/v1/installations/${w.installation}/rollout` });
    assert.equal(status.json().candidate.runs, 0);
  });

  it('promotes by hand: the candidate becomes the version, and the rollout status is empty again', async () => {
    const promoted = await w.call({ method: 'POST', url: `/v1/installations/${w.canary}/promote` });
    assert.equal(promoted.statusCode, 200, promoted.body);
    assert.equal(promoted.json().versionId, w.candidate);
    assert.equal(promoted.json().candidate, null);
    const again = await w.call({ method: 'POST', url: `/v1/installations/${w.canary}/promote` });
    assert.equal(again.statusCode, 409);
    assert.match(refusal(again).message, /has no candidate/);
  });
});

describe('the list of replays over HTTP', () => {
  let w: World;
  before(async () => {
    w = await world();
  });
  after(() => w.close());

  it('lists replays newest first without their results, paged by cursor, a partner seeing only its own', async () => {
    // Bob replays his own version too: Alice must never see it.
    const bobUpload = await w.call(
      {
        method: 'POST',
        url: `/v1/plugins/${w.bob.plugin}/versions`,
        payload: fixture('count_vowels_c'),
        headers: { 'content-type': 'application/wasm' },
      },
      w.bob.key,
    );
    assert.equal(bobUpload.statusCode, 201, bobUpload.body);
    const bobs = await w.call({ method: 'POST', url: '/v1/replays', payload: { version: bobUpload.json().id } }, w.bob.key);
    assert.equal(bobs.statusCode, 201, bobs.body);
    const second = await w.call({ method: 'POST', url: '/v1/replays', payload: { version: w.candidate } }, w.alice.key);
    assert.equal(second.statusCode, 201, second.body);

    const all = await w.call({ method: 'GET', url: '/v1/replays' });
    assert.equal(all.statusCode, 200, all.body);
    const ids = (all.json().items as { id: string }[]).map((r) => r.id);
    assert.deepEqual(new Set(ids), new Set([w.replay, bobs.json().id, second.json().id]));
    const first = all.json().items[0];
    assert.equal(first.results, undefined);
    assert.deepEqual(Object.keys(first.totals).sort(), ['changed', 'fixed', 'newlyFailing', 'notReplayable', 'records', 'same']);

    const alices = await w.call({ method: 'GET', url: '/v1/replays' }, w.alice.key);
    assert.deepEqual((alices.json().items as { id: string }[]).map((r) => r.id).sort(), [w.replay, second.json().id].sort());
    for (const secret of ['merchant-secret', 'invoice-secret', 'input-secret']) assert.ok(!alices.body.includes(secret), secret);

    // One a page: three pages, each replay once, newest first, and no cursor after the last.
    const seen: string[] = [];
    let after: string | undefined;
    do {
      const page = await w.call({ method: 'GET', url: `/v1/replays?limit=1${after === undefined ? '' : `&after=${after}`}` });
      assert.equal(page.statusCode, 200, page.body);
      const body = page.json() as { items: { id: string; createdAt: number }[]; next?: string };
      seen.push(...body.items.map((r) => r.id));
      after = body.next;
    } while (after !== undefined && seen.length < 10);
    assert.deepEqual(new Set(seen), new Set(ids));
    assert.equal(seen.length, 3);

    const byVersion = await w.call({ method: 'GET', url: `/v1/replays?version=${w.candidate}` });
    assert.deepEqual(
      (byVersion.json().items as { version: string }[]).map((r) => r.version),
      [w.candidate, w.candidate],
    );
  });

  it("refuses a forged cursor with 400 and another partner's plug-in with 404", async () => {
    const forged = await w.call({ method: 'GET', url: "/v1/replays?after=1' or 1=1" });
    assert.equal(forged.statusCode, 400);
    assert.match(refusal(forged).message, /cursor/);
    const other = await w.call({ method: 'GET', url: `/v1/replays?plugin=${w.alice.plugin}` }, w.bob.key);
    assert.equal(other.statusCode, 404);
    assert.equal(refusal(other).code, 'NOT_FOUND');
  });
});
