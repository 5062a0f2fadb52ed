import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPlatform } from '@tenon/platform';
import Fastify from 'fastify';
import { tenonApi } from '../src/index.js';
import { routeTable, SESSION_ROUTES, STREAM_ROUTES } from './route-table.js';
import { fixture, OPERATOR_KEY, refusal, VOWELS, type World, world } from './world.js';

describe('the API', () => {
  let w: World;
  before(async () => {
    w = await world();
  });
  after(() => w.close());

  it('runs a point for a tenant: each installation with outcome, output, fuel against budget and time', async () => {
    const response = await w.call({
      method: 'POST',
      url: '/v1/extension-points/text.vowels/runs',
      payload: { tenant: 'merchant-secret', input: 'Hello, World!' },
    });
    assert.equal(response.statusCode, 200, response.body);
    const [result] = response.json().results;
    assert.deepEqual(result.output, { count: 3 });
    assert.equal(result.outcome, 'ok');
    assert.equal(result.installation, w.installation);
    assert.ok(result.fuel > 0 && result.fuel <= result.budget && result.durationUs >= 0);
  });

  it('a disabled installation does not run; the patch answers the installation', async () => {
    const patched = await w.call({ method: 'PATCH', url: `/v1/installations/${w.installation}`, payload: { enabled: false } });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.equal(patched.json().enabled, false);
    const run = await w.call({
      method: 'POST',
      url: '/v1/extension-points/text.vowels/runs',
      payload: { tenant: 'merchant-secret', input: 'aeiou' },
    });
    assert.deepEqual(run.json().results, []);
    await w.call({ method: 'PATCH', url: `/v1/installations/${w.installation}`, payload: { enabled: true } });
  });

  it('a body that fails its schema is 400 BODY_INVALID naming the field', async () => {
    const wrongType = await w.call({
      method: 'POST',
      url: '/v1/extension-points',
      payload: { ...VOWELS, limits: { ...VOWELS.limits, fuel: 'lots' } },
    });
    assert.equal(wrongType.statusCode, 400);
    assert.deepEqual(refusal(wrongType), { code: 'BODY_INVALID', message: 'body.limits.fuel must be integer (got string)' });
    const unknown = await w.call({ method: 'POST', url: '/v1/partners', payload: { name: 'x', admin: true } });
    assert.deepEqual(refusal(unknown), { code: 'BODY_INVALID', message: 'body has an unknown field "admin": remove it' });
    const missing = await w.call({ method: 'POST', url: '/v1/extension-points/text.vowels/runs', payload: { input: 'x' } });
    assert.deepEqual(refusal(missing), { code: 'BODY_INVALID', message: 'body is missing the field "tenant"' });
    const notJson = await w.call({
      method: 'POST',
      url: '/v1/partners',
      payload: '{"name":',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(notJson.statusCode, 400);
    assert.match(refusal(notJson).message, /not valid JSON/);
  });

  it('an input the point refuses and a schema ajv refuses are coded refusals', async () => {
    const badSchema = await w.call({
      method: 'POST',
      url: '/v1/extension-points',
      payload: { ...VOWELS, name: 'text.bad', input: { type: 'no-such-type' } },
    });
    assert.equal(badSchema.statusCode, 422, badSchema.body);
    assert.equal(refusal(badSchema).code, 'SCHEMA_INVALID');
    const unknownPoint = await w.call({
      method: 'POST',
      url: '/v1/extension-points/text.nothing/runs',
      payload: { tenant: 't', input: 'x' },
    });
    assert.equal(unknownPoint.statusCode, 404);
    assert.match(refusal(unknownPoint).message, /text\.nothing/);
  });

  it('installing a rejected version is 409 VERSION_REJECTED', async () => {
    const rejected = await w.call(
      {
        method: 'POST',
        url: `/v1/plugins/${w.alice.plugin}/versions`,
        payload: fixture('missing_import'),
        headers: { 'content-type': 'application/wasm' },
      },
      w.alice.key,
    );
    const response = await w.call({
      method: 'POST',
      url: '/v1/installations',
      payload: { tenant: 'm2', plugin: w.alice.plugin, version: rejected.json().id },
    });
    assert.equal(response.statusCode, 409, response.body);
    assert.equal(refusal(response).code, 'VERSION_REJECTED');
  });

  it('every route has a body limit: past it, 413 BODY_TOO_LARGE before the body is parsed', async () => {
    const partner = await w.call({ method: 'POST', url: '/v1/partners', payload: { name: 'x'.repeat(20_000) } });
    assert.equal(partner.statusCode, 413);
    assert.equal(refusal(partner).code, 'BODY_TOO_LARGE');
    // A POST that takes no body still refuses a large one (GET bodies are never read).
    const rotate = await w.call({ method: 'POST', url: `/v1/partners/${w.bob.id}/key`, payload: { pad: 'x'.repeat(5000) } });
    assert.equal(rotate.statusCode, 413);
    assert.equal(refusal(rotate).code, 'BODY_TOO_LARGE');
  });

  it('a replaced partner key stops working at once; the new one works', async () => {
    const partner = await w.call({ method: 'POST', url: '/v1/partners', payload: { name: 'erin' } });
    const { id, key: old } = partner.json() as { id: string; key: string };
    assert.equal((await w.call({ method: 'GET', url: `/v1/partners/${id}` }, old)).statusCode, 200);
    const rotated = await w.call({ method: 'POST', url: `/v1/partners/${id}/key` });
    assert.equal(rotated.statusCode, 201);
    const { key: fresh } = rotated.json() as { key: string };
    assert.notEqual(fresh, old);
    const refused = await w.call({ method: 'GET', url: `/v1/partners/${id}` }, old);
    assert.equal(refused.statusCode, 401);
    assert.equal(refusal(refused).code, 'UNAUTHORIZED');
    assert.equal((await w.call({ method: 'GET', url: `/v1/partners/${id}` }, fresh)).statusCode, 200);
  });

  it('an unknown route is 404 NOT_FOUND pointing at the OpenAPI document', async () => {
    const response = await w.call({ method: 'GET', url: '/v1/nothing' });
    assert.equal(response.statusCode, 404);
    assert.match(refusal(response).message, /openapi\.json/);
  });

  it('/metrics counts runs by point, plug-in, version and outcome, fuel and duration, and refusals by code', async () => {
    await w.call({ method: 'GET', url: '/v1/plugins/nope' }, w.alice.key);
    const response = await w.call({ method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 200);
    assert.match(response.headers['content-type'] as string, /^text\/plain/);
    const text = response.body;
    assert.match(
      text,
      new RegExp(
        `tenon_runs_total\\{extension_point="text.vowels",plugin="${w.alice.plugin}",version="${w.alice.version}",outcome="ok"\\} [1-9]`,
      ),
    );
    assert.match(text, /tenon_run_fuel_bucket\{le="10000",extension_point="text.vowels"\}/);
    assert.match(text, /tenon_run_duration_seconds_count\{extension_point="text.vowels"\} [1-9]/);
    assert.match(text, /tenon_rejections_total\{code="NOT_FOUND"\} [1-9]/);
  });

  it('serves an OpenAPI 3.1 document listing every route with its schemas, to anyone', async () => {
    const response = await w.app.inject({ method: 'GET', url: '/v1/openapi.json' });
    assert.equal(response.statusCode, 200);
    const document = response.json() as {
      openapi: string;
      paths: Record<string, Record<string, { responses: object; requestBody?: object }>>;
    };
    assert.match(document.openapi, /^3\.1/);
    const documented = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const tested = [...routeTable(w).map((r) => `${r.method} ${r.route}`), ...STREAM_ROUTES, ...SESSION_ROUTES];
    assert.deepEqual(documented.sort(), tested.sort(), 'every documented route is in the tested route table');
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        assert.ok(
          '200' in operation.responses || '201' in operation.responses || '204' in operation.responses,
          `${method} ${path} has no reply schema`,
        );
        assert.ok('401' in operation.responses, `${method} ${path} does not document 401`);
        if (method === 'post' || method === 'put' || method === 'patch')
          // Actions without a body: rotate a key, promote or roll back a candidate.
          assert.ok(operation.requestBody !== undefined || /\/(key|promote|rollback)$/.test(path), `${method} ${path} has no body schema`);
      }
    }
  });
});

describe('rate limit', () => {
  it('is per key: past max, that key gets 429 RATE_LIMITED with Retry-After while another key goes on', async () => {
    // The world's setup makes a few requests per key (the operator's more): 20 leaves room for them.
    const w = await world({ rateLimit: { max: 20, timeWindowMs: 60_000 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 21; i++) statuses.push((await w.call({ method: 'GET', url: '/v1/plugins' }, w.bob.key)).statusCode);
      const first = statuses.indexOf(429);
      assert.ok(first > 10, `limited after ${first} requests`);
      assert.ok(statuses.slice(0, first).every((s) => s === 200) && statuses.slice(first).every((s) => s === 429), statuses.join());
      const limited = await w.call({ method: 'GET', url: '/v1/plugins' }, w.bob.key);
      assert.equal(refusal(limited).code, 'RATE_LIMITED');
      assert.ok(Number(limited.headers['retry-after']) > 0);
      assert.equal((await w.call({ method: 'GET', url: '/v1/plugins' }, w.alice.key)).statusCode, 200);
    } finally {
      await w.close();
    }
  });
});

describe('mounted in a host server', () => {
  it('serves under the host prefix next to the host routes, and leaves the host error handling alone', async () => {
    const platform = await createPlatform({ store: ':memory:' });
    await platform.ensureOperatorKey(OPERATOR_KEY);
    const host = Fastify();
    host.get('/health', async () => ({ ok: true }));
    host.post('/echo', async (request) => request.body);
    await host.register(tenonApi, { platform, prefix: '/tenon' });
    try {
      assert.deepEqual((await host.inject({ method: 'GET', url: '/health' })).json(), { ok: true });
      // The host's own routes keep Fastify's defaults: no key needed, its own JSON and error format.
      assert.deepEqual((await host.inject({ method: 'POST', url: '/echo', payload: { a: 1, extra: true } })).json(), { a: 1, extra: true });
      assert.equal(
        (await host.inject({ method: 'POST', url: '/echo', payload: '{', headers: { 'content-type': 'application/json' } })).json().code,
        'FST_ERR_CTP_INVALID_JSON_BODY',
      );
      const points = await host.inject({
        method: 'GET',
        url: '/tenon/v1/extension-points',
        headers: { authorization: `Bearer ${OPERATOR_KEY}` },
      });
      assert.equal(points.statusCode, 200);
      const unauthenticated = await host.inject({ method: 'GET', url: '/tenon/v1/extension-points' });
      assert.equal(unauthenticated.json().error.code, 'UNAUTHORIZED');
    } finally {
      await host.close();
      await platform.close();
    }
  });
});
