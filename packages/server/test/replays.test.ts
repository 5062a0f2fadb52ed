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
