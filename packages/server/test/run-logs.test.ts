import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPlatform, type Platform } from '@tenon/platform';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { createServer } from '../src/index.js';
import { chattyModule, CHATTY_POINT as POINT } from './chatty-point.js';
import { OPERATOR_KEY } from './world.js';

describe("a run's log lines over the API", () => {
  let platform: Platform;
  let app: FastifyInstance;
  let partnerKey: string;
  const call = (request: InjectOptions, key = OPERATOR_KEY) => app.inject({ ...request, headers: { authorization: `Bearer ${key}` } });

  before(async () => {
    platform = await createPlatform({ store: ':memory:' });
    await platform.ensureOperatorKey(OPERATOR_KEY);
    app = await createServer({ platform });
    assert.equal((await call({ method: 'POST', url: '/v1/extension-points', payload: POINT })).statusCode, 201);
    const partner = (await call({ method: 'POST', url: '/v1/partners', payload: { name: 'carol' } })).json();
    partnerKey = partner.key;
    const plugin = (
      await call({ method: 'POST', url: '/v1/plugins', payload: { name: 'chatty', extensionPoint: POINT.name } }, partnerKey)
    ).json();
    const version = (
      await app.inject({
        method: 'POST',
        url: `/v1/plugins/${plugin.id}/versions`,
        payload: chattyModule(),
        headers: { authorization: `Bearer ${partnerKey}`, 'content-type': 'application/wasm' },
      })
    ).json();
    assert.equal(version.status, 'validated', JSON.stringify(version.report));
    await call({
      method: 'POST',
      url: '/v1/installations',
      payload: { tenant: 'merchant-secret', plugin: plugin.id, version: version.id },
    });
    const run = await call({
      method: 'POST',
      url: `/v1/extension-points/${POINT.name}/runs`,
      payload: { tenant: 'merchant-secret', input: { n: 7 } },
    });
    assert.equal(run.json().results[0].outcome, 'ok', run.body);
    await platform.flush();
  });

  after(async () => {
    await app.close();
    await platform.close();
  });

  it("gives the operator a run's log lines", async () => {
    const response = await call({ method: 'GET', url: '/v1/runs' });
    assert.equal(response.statusCode, 200);
    const [record] = response.json().items;
    assert.deepEqual(record.logs.lines.slice(0, 2), [
      { level: 'info', message: '{"n":7}' },
      { level: 'warn', message: 'tick' },
    ]);
    assert.deepEqual({ count: record.logs.lines.length, dropped: record.logs.dropped }, { count: 8, dropped: 0 });
  });

  it("never gives the partner a run's log lines: they hold the tenant's data", async () => {
    const response = await call({ method: 'GET', url: '/v1/runs' }, partnerKey);
    assert.equal(response.statusCode, 200);
    const { items } = response.json();
    assert.equal(items.length, 1);
    assert.equal('logs' in items[0], false);
    assert.doesNotMatch(response.body, /tick|"n":7|\\"n\\":7|merchant-secret/);
  });
});
