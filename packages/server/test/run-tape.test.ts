// A recorded run's tape (its host calls, what replay answers from) over HTTP: the operator reads it
// with the run; a partner, whose runs carry the tenants' data, never gets it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Actor, createPlatform, OPERATOR, type Platform } from '@tenon/platform';
import type { FastifyInstance } from 'fastify';
import { createServer } from '../src/index.js';
import { lookup, lookupModule, LOOKUP_POINT as POINT } from './lookup-point.js';

const KEY = 'tnn_op_tape_test_0123456789abcdef';
describe("a run's tape over HTTP", () => {
  let platform: Platform;
  let app: FastifyInstance;
  let partnerKey: string;
  before(async () => {
    platform = await createPlatform({ store: ':memory:' });
    await platform.ensureOperatorKey(KEY);
    await platform.extensionPoint(POINT, { hostFunctions: [lookup] });
    const partner = await platform.partners.create(OPERATOR, { name: 'scorer' });
    partnerKey = partner.key;
    const actor: Actor = { kind: 'partner', partnerId: partner.id };
    const plugin = await platform.plugins.create(actor, { name: 'scorer', extensionPoint: POINT.name });
    const version = await platform.versions.upload(actor, plugin.id, lookupModule());
    assert.equal(version.status, 'validated', JSON.stringify(version.report));
    await platform.installations.create(OPERATOR, {
      tenant: 'shop-secret',
      plugin: plugin.id,
      version: version.id,
      grants: { hostFunctions: ['lookup'] },
    });
    await platform.run(OPERATOR, POINT.name, { tenant: 'shop-secret', input: { n: 7 } });
    await platform.flush();
    app = await createServer({ platform });
  });
  after(async () => {
    await app?.close();
    await platform?.close();
  });

  it('gives the operator the host calls the run made, in order, with what was asked and answered', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/runs', headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(response.statusCode, 200, response.body);
    const [run] = response.json().items;
    assert.deepEqual(run.imports, [
      {
        kind: 'host',
        name: 'lookup',
        ask: [`block:${Buffer.from('{"n":7}').toString('base64')}`],
        writes: [Buffer.from('{"n":70}').toString('base64')],
        result: { block: 0 },
      },
    ]);
  });

  it('never gives a partner the tape, nor anything else of the tenant', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/runs', headers: { authorization: `Bearer ${partnerKey}` } });
    assert.equal(response.statusCode, 200, response.body);
    const [run] = response.json().items;
    assert.equal(run.outcome, 'ok');
    for (const field of ['imports', 'input', 'output', 'tenant', 'config']) assert.ok(!(field in run), `partner sees ${field}`);
    for (const secret of ['shop-secret', Buffer.from('{"n":70}').toString('base64')]) assert.ok(!response.body.includes(secret), secret);
  });
});
