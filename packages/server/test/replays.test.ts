import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { refusal, type World, world } from './world.js';

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
