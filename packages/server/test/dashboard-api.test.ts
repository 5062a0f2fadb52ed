// What the dashboard needs of the API. Browser sessions: sign in with a key into an HttpOnly, SameSite=Strict cookie the API accepts in
// place of the bearer key, changes by cookie only from the server's own origin, and sign-out.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { OPERATOR_KEY, refusal, type World, world } from './world.js';

// light-my-request's default Host is localhost:80 over http: the server's own origin is this.
const OWN = 'http://localhost:80';

function cookieOf(response: LightMyRequestResponse): string {
  const header = response.headers['set-cookie'];
  const line = Array.isArray(header) ? header[0] : header;
  assert.ok(line, 'a Set-Cookie header');
  return line.split(';')[0]!;
}

describe('sessions', () => {
  let w: World;
  before(async () => {
    w = await world();
  });
  after(() => w.close());

  const signIn = async (key: string) => {
    const response = await w.call({ method: 'POST', url: '/v1/session', payload: { key }, headers: { origin: OWN } }, null);
    assert.equal(response.statusCode, 201, response.body);
    return { cookie: cookieOf(response), setCookie: String(response.headers['set-cookie']), who: response.json() };
  };

  it('signs in with the operator key into an HttpOnly, SameSite=Strict cookie that stands for the key', async () => {
    const { cookie, setCookie, who } = await signIn(OPERATOR_KEY);
    assert.match(setCookie, /^tenon_session=[\w-]{43}; Max-Age=43200; Path=\/; HttpOnly; SameSite=Strict$/);
    assert.ok(!setCookie.includes(OPERATOR_KEY), 'the cookie never carries the key');
    assert.deepEqual(who, { kind: 'operator' });
    const plugins = await w.call({ method: 'GET', url: '/v1/plugins', headers: { cookie } }, null);
    assert.equal(plugins.statusCode, 200);
    assert.equal((plugins.json() as unknown[]).length, 2);
  });

  it('refuses a bad key with 401 UNAUTHORIZED and sets no cookie', async () => {
    const response = await w.call({ method: 'POST', url: '/v1/session', payload: { key: 'tpk_nope' } }, null);
    assert.equal(response.statusCode, 401);
    assert.equal(response.headers['set-cookie'], undefined);
    assert.match(refusal(response).message, /API key is not valid/);
  });

  it('refuses a sign-in posted from another origin with 403 ORIGIN_REFUSED', async () => {
    const response = await w.call(
      { method: 'POST', url: '/v1/session', payload: { key: OPERATOR_KEY }, headers: { origin: 'https://evil.example' } },
      null,
    );
    assert.equal(response.statusCode, 403);
    assert.deepEqual(refusal(response).code, 'ORIGIN_REFUSED');
    assert.equal(response.headers['set-cookie'], undefined);
  });

  it('takes a change by cookie only with its own Origin: missing or foreign is 403 ORIGIN_REFUSED', async () => {
    const { cookie } = await signIn(OPERATOR_KEY);
    const patch = (headers: Record<string, string>) =>
      w.call(
        { method: 'PATCH', url: `/v1/installations/${w.installation}`, payload: { enabled: true }, headers: { cookie, ...headers } },
        null,
      );
    const missing = await patch({});
    assert.equal(missing.statusCode, 403);
    assert.deepEqual(refusal(missing), {
      code: 'ORIGIN_REFUSED',
      message: 'a change signed in by cookie must come from http://localhost:80 (Origin missing)',
    });
    const foreign = await patch({ origin: 'http://localhost:81' });
    assert.equal(foreign.statusCode, 403);
    assert.match(refusal(foreign).message, /Origin "http:\/\/localhost:81"/);
    assert.equal((await patch({ origin: OWN })).statusCode, 200);
  });

  it("a partner's session reads only its own: another partner's plug-in is 404 and operator routes are 404", async () => {
    const { cookie, who } = await signIn(w.alice.key);
    assert.deepEqual(who, { kind: 'partner', partnerId: w.alice.id, name: 'alice' });
    const list = await w.call({ method: 'GET', url: '/v1/plugins', headers: { cookie } }, null);
    assert.deepEqual(
      (list.json() as { id: string }[]).map((p) => p.id),
      [w.alice.plugin],
    );
    const bobs = await w.call({ method: 'GET', url: `/v1/plugins/${w.bob.plugin}`, headers: { cookie } }, null);
    assert.equal(bobs.statusCode, 404);
    assert.equal(refusal(bobs).code, 'NOT_FOUND');
    const installations = await w.call({ method: 'GET', url: '/v1/installations', headers: { cookie } }, null);
    assert.equal(installations.statusCode, 404);
  });

  it('signs out: the cookie is cleared and the old session id is refused with 401', async () => {
    const { cookie } = await signIn(OPERATOR_KEY);
    const out = await w.call({ method: 'DELETE', url: '/v1/session', headers: { cookie, origin: OWN } }, null);
    assert.equal(out.statusCode, 204);
    assert.match(String(out.headers['set-cookie']), /^tenon_session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Strict$/);
    const again = await w.call({ method: 'GET', url: '/v1/session', headers: { cookie } }, null);
    assert.equal(again.statusCode, 401);
    assert.deepEqual(refusal(again), { code: 'UNAUTHORIZED', message: 'the session has ended: sign in again' });
  });

  it("ends a partner's sessions when its key is replaced", async () => {
    const { cookie } = await signIn(w.bob.key);
    assert.equal((await w.call({ method: 'GET', url: '/v1/session', headers: { cookie } }, null)).statusCode, 200);
    const rotated = await w.call({ method: 'POST', url: `/v1/partners/${w.bob.id}/key` });
    assert.equal(rotated.statusCode, 201);
    const after = await w.call({ method: 'GET', url: '/v1/session', headers: { cookie } }, null);
    assert.equal(after.statusCode, 401);
    assert.match(refusal(after).message, /API key is not valid/);
  });

  it('a forged session id is 401 UNAUTHORIZED', async () => {
    const response = await w.call({ method: 'GET', url: '/v1/plugins', headers: { cookie: 'tenon_session=forged' } }, null);
    assert.equal(response.statusCode, 401);
    assert.equal(refusal(response).message, 'the session has ended: sign in again');
  });
});

describe('run statistics', () => {
  let w: World;
  before(async () => {
    w = await world();
  });
  after(() => w.close());

  it('counts the operator all runs, by point and plug-in, with durations and fuel against budget', async () => {
    const response = await w.call({ method: 'GET', url: '/v1/runs/stats?windowMs=600000&buckets=10' });
    assert.equal(response.statusCode, 200, response.body);
    const stats = response.json();
    assert.equal(stats.runs, 1);
    assert.deepEqual(stats.outcomes, { ok: 1 });
    assert.equal(stats.series.length, 10);
    assert.equal(
      stats.series.reduce((n: number, b: { outcomes: { ok?: number } }) => n + (b.outcomes.ok ?? 0), 0),
      1,
    );
    assert.deepEqual(
      stats.byPlugin.map((p: { plugin: string; runs: number }) => [p.plugin, p.runs]),
      [[w.alice.plugin, 1]],
    );
    assert.equal(stats.byExtensionPoint[0].extensionPoint, 'text.vowels');
    assert.ok(stats.fuelMax > 0 && stats.fuelMax < stats.budgetMean, JSON.stringify(stats));
    assert.ok(stats.p99Us >= stats.p50Us && stats.p50Us > 0);
  });

  it("gives a partner only its own runs: Bob's statistics are empty", async () => {
    const bob = (await w.call({ method: 'GET', url: '/v1/runs/stats' }, w.bob.key)).json();
    assert.equal(bob.runs, 0);
    assert.deepEqual(bob.byPlugin, []);
    const alice = (await w.call({ method: 'GET', url: '/v1/runs/stats' }, w.alice.key)).json();
    assert.equal(alice.runs, 1);
  });

  it('refuses a window outside one minute to seven days with 400 BODY_INVALID', async () => {
    const response = await w.call({ method: 'GET', url: '/v1/runs/stats?windowMs=10' });
    assert.equal(response.statusCode, 400);
    assert.equal(refusal(response).code, 'BODY_INVALID');
    assert.match(refusal(response).message, /windowMs/);
  });
});

describe('the dashboard', () => {
  let w: World;
  before(async () => {
    w = await world();
  });
  after(() => w.close());

  it('is served at / without a key, with a CSP that loads nothing from elsewhere', async () => {
    const page = await w.call({ method: 'GET', url: '/' }, null);
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    assert.match(page.body, /<script type="module" src="app.js">/);
    const script = await w.call({ method: 'GET', url: '/app.js' }, null);
    assert.equal(script.statusCode, 200);
    assert.doesNotMatch(script.body, /https?:\/\/(cdn|unpkg|jsdelivr)/);
  });

  it('is left out when dashboard is false: / is the coded 404', async () => {
    const bare = await world({ dashboard: false });
    try {
      const response = await bare.call({ method: 'GET', url: '/' }, null);
      assert.equal(response.statusCode, 404);
      assert.equal(refusal(response).code, 'NOT_FOUND');
    } finally {
      await bare.close();
    }
  });
});

describe('extension points as read', () => {
  it('keep their input and output schemas whole (the dashboard shows them)', async () => {
    const w = await world();
    try {
      const point = (await w.call({ method: 'GET', url: '/v1/extension-points/text.vowels' }, w.alice.key)).json();
      assert.deepEqual(point.input, { type: 'string' });
      assert.deepEqual(point.output, { type: 'object', properties: { count: { type: 'integer' } }, required: ['count'] });
    } finally {
      await w.close();
    }
  });
});
