import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { contentType, routeTable } from './route-table.js';
import { refusal, type World, world } from './world.js';

describe('scoping: another partner or no key never gets the resource', () => {
  let w: World;
  let secrets: string[];
  before(async () => {
    w = await world();
    const { alice } = w;
    // What Bob must never read: Alice's ids and key, her installation, and the tenant's data.
    secrets = [
      alice.id,
      alice.key,
      alice.plugin,
      alice.version,
      w.installation,
      'merchant-secret',
      'input-secret',
      'config-secret',
      'invoice-secret',
    ];
  });
  after(() => w.close());

  it('every route answers 401 UNAUTHORIZED without a key, with a bad key and with a malformed header', async () => {
    for (const route of routeTable(w)) {
      const request = { method: route.method, url: route.url, payload: route.payload as string, headers: contentType(route) };
      for (const key of [null, 'tnn_not_a_key']) {
        const response = await w.call(request, key);
        assert.equal(response.statusCode, 401, `${route.method} ${route.url} with key ${key}: ${response.body}`);
        assert.equal(refusal(response).code, 'UNAUTHORIZED');
      }
      const malformed = await w.app.inject({ ...request, headers: { ...request.headers, authorization: `Basic ${w.alice.key}` } });
      assert.equal(malformed.statusCode, 401, `${route.method} ${route.url} with Basic: ${malformed.body}`);
      assert.match(refusal(malformed).message, /Bearer <key>/);
    }
  });

  it("every route answers 404 to another partner's key, or only that partner's own things", async () => {
    for (const route of routeTable(w)) {
      const response = await w.call(
        { method: route.method, url: route.url, payload: route.payload as string, headers: contentType(route) },
        w.bob.key,
      );
      const where = `${route.method} ${route.url} with Bob's key: ${response.statusCode} ${response.body.slice(0, 300)}`;
      if (route.access === 'operator' || route.owned || route.url.includes(w.alice.plugin) || route.url.includes(w.alice.id)) {
        assert.equal(response.statusCode, 404, where);
        assert.equal(refusal(response).code, 'NOT_FOUND', where);
      } else {
        assert.ok(response.statusCode === 200 || response.statusCode === 201, where);
      }
      // An id the request itself carries (in its path or query) may come back in the message ("plug-in "x" not found"): that reveals nothing.
      const body = route.url
        .split(/[/?&=]/)
        .reduce((text, segment) => (segment.length > 8 ? text.replaceAll(segment, '') : text), response.body);
      for (const secret of secrets) assert.ok(!body.includes(secret), `${where} reveals "${secret}"`);
    }
    // Bob's upload to Alice's plug-in stored nothing: her two versions are the world's.
    const versions = await w.call({ method: 'GET', url: `/v1/plugins/${w.alice.plugin}/versions` }, w.alice.key);
    assert.equal(versions.json().length, 2);
  });

  it('a partner reads its own runs without the tenant, key, input, output or config', async () => {
    const response = await w.call({ method: 'GET', url: '/v1/runs' }, w.alice.key);
    assert.equal(response.statusCode, 200);
    const { items } = response.json() as { items: Record<string, unknown>[] };
    assert.ok(items.length >= 1);
    for (const item of items) {
      assert.equal(item.plugin, w.alice.plugin);
      for (const field of ['tenant', 'key', 'input', 'output', 'config', 'message']) assert.ok(!(field in item), `partner sees ${field}`);
    }
    for (const secret of ['merchant-secret', 'input-secret', 'config-secret', 'invoice-secret']) assert.ok(!response.body.includes(secret));
    const operator = await w.call({ method: 'GET', url: '/v1/runs' });
    assert.ok(operator.body.includes('merchant-secret') && operator.body.includes('input-secret'));
  });

  it("every route works for its owner: the operator, and the partner on its own things (the table's requests are real)", async () => {
    for (const route of routeTable(w)) {
      const request = { method: route.method, url: route.url, payload: route.payload as string, headers: contentType(route) };
      if (route.access === 'partner') {
        const own = await w.call(request, w.alice.key);
        assert.ok(own.statusCode < 300, `${route.method} ${route.url} with Alice's key: ${own.statusCode} ${own.body}`);
      }
      const operator = await w.call({
        ...request,
        ...(route.operatorPayload !== undefined && { payload: route.operatorPayload as string }),
      });
      assert.ok(operator.statusCode < 300, `${route.method} ${route.url} with the operator key: ${operator.statusCode} ${operator.body}`);
    }
  });
});
