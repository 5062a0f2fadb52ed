// Every route of the API once, with a request that succeeds for its owner (the operator, or Alice).
// scoping.test.ts and fuzz.test.ts run through this table; openapi.test.ts checks it lists every route.
import { fixture, type World } from './world.js';

export interface RouteCase {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT';
  /** The path as the OpenAPI document writes it. */
  route: string;
  /** Who may call it: `operator` only, or `partner` (Alice's own things; the operator too). */
  access: 'operator' | 'partner';
  url: string;
  payload?: unknown;
  /** The body when the operator calls it, if it differs (the operator names the partner). */
  operatorPayload?: unknown;
  contentType?: string;
  /** The request names one of Alice's things outside its path (a body's version, a replay id): another partner gets 404. */
  owned?: boolean;
}

export function routeTable(w: World): RouteCase[] {
  const { alice } = w;
  return [
    {
      method: 'POST',
      route: '/v1/extension-points',
      access: 'operator',
      url: '/v1/extension-points',
      payload: { ...VOWELS_COPY, name: 'text.copy' },
    },
    { method: 'GET', route: '/v1/extension-points', access: 'partner', url: '/v1/extension-points' },
    { method: 'GET', route: '/v1/extension-points/{name}', access: 'partner', url: '/v1/extension-points/text.vowels' },
    { method: 'POST', route: '/v1/partners', access: 'operator', url: '/v1/partners', payload: { name: 'carol' } },
    { method: 'GET', route: '/v1/partners', access: 'operator', url: '/v1/partners' },
    { method: 'GET', route: '/v1/partners/{id}', access: 'partner', url: `/v1/partners/${alice.id}` },
    { method: 'GET', route: '/v1/partners/{id}/quota', access: 'partner', url: `/v1/partners/${alice.id}/quota` },
    {
      method: 'PUT',
      route: '/v1/partners/{id}/quota',
      access: 'operator',
      url: `/v1/partners/${alice.id}/quota`,
      payload: { runsPerMinute: 1000 },
    },
    {
      method: 'POST',
      route: '/v1/plugins',
      access: 'partner',
      url: '/v1/plugins',
      payload: { name: 'another', extensionPoint: 'text.vowels' },
      operatorPayload: { name: 'for-alice', extensionPoint: 'text.vowels', partnerId: alice.id },
    },
    { method: 'GET', route: '/v1/plugins', access: 'partner', url: '/v1/plugins' },
    { method: 'GET', route: '/v1/plugins/{id}', access: 'partner', url: `/v1/plugins/${alice.plugin}` },
    {
      method: 'POST',
      route: '/v1/plugins/{id}/versions',
      access: 'partner',
      url: `/v1/plugins/${alice.plugin}/versions`,
      payload: fixture('count_vowels'),
      contentType: 'application/wasm',
    },
    { method: 'GET', route: '/v1/plugins/{id}/versions', access: 'partner', url: `/v1/plugins/${alice.plugin}/versions` },
    {
      method: 'GET',
      route: '/v1/plugins/{id}/versions/{version}',
      access: 'partner',
      url: `/v1/plugins/${alice.plugin}/versions/${alice.version}`,
    },
    {
      method: 'POST',
      route: '/v1/installations',
      access: 'operator',
      url: '/v1/installations',
      payload: { tenant: 'merchant-other', plugin: alice.plugin, version: alice.version },
    },
    {
      method: 'PATCH',
      route: '/v1/installations/{id}',
      access: 'operator',
      url: `/v1/installations/${w.installation}`,
      payload: { enabled: true },
    },
    { method: 'GET', route: '/v1/installations', access: 'operator', url: '/v1/installations' },
    { method: 'GET', route: '/v1/installations/{id}', access: 'operator', url: `/v1/installations/${w.installation}` },
    {
      method: 'POST',
      route: '/v1/installations/{id}/candidate',
      access: 'operator',
      url: `/v1/installations/${w.installation}/candidate`,
      payload: { version: w.candidate, percent: 10, override: true },
    },
    { method: 'GET', route: '/v1/installations/{id}/rollout', access: 'operator', url: `/v1/installations/${w.installation}/rollout` },
    { method: 'POST', route: '/v1/installations/{id}/rollback', access: 'operator', url: `/v1/installations/${w.installation}/rollback` },
    { method: 'POST', route: '/v1/installations/{id}/promote', access: 'operator', url: `/v1/installations/${w.canary}/promote` },
    {
      method: 'POST',
      route: '/v1/extension-points/{name}/runs',
      access: 'operator',
      url: '/v1/extension-points/text.vowels/runs',
      payload: { tenant: 'merchant-secret', input: 'input-secret again' },
    },
    { method: 'GET', route: '/v1/runs', access: 'partner', url: '/v1/runs' },
    { method: 'POST', route: '/v1/replays', access: 'partner', url: '/v1/replays', payload: { version: w.candidate }, owned: true },
    { method: 'GET', route: '/v1/replays', access: 'partner', url: `/v1/replays?plugin=${alice.plugin}` },
    { method: 'GET', route: '/v1/replays/{id}', access: 'partner', url: `/v1/replays/${w.replay}`, owned: true },
    { method: 'GET', route: '/v1/runs/stats', access: 'partner', url: '/v1/runs/stats?windowMs=600000&buckets=10' },
    { method: 'GET', route: '/v1/events', access: 'partner', url: '/v1/events' },
    { method: 'GET', route: '/metrics', access: 'operator', url: '/metrics' },
    // Last: it replaces Alice's key.
    { method: 'POST', route: '/v1/partners/{id}/key', access: 'operator', url: `/v1/partners/${alice.id}/key` },
  ];
}

/** The request headers a route case sends: a content type only with a body. */
export function contentType(route: RouteCase): Record<string, string> {
  return route.payload === undefined ? {} : { 'content-type': route.contentType ?? 'application/json' };
}

/** The SSE stream is tested over a real socket (events.test.ts): inject waits for a response's end. */
export const STREAM_ROUTES = ['GET /v1/events/stream'];

/** Sign-in, who and sign-out take a key or a cookie rather than a bearer key alone: dashboard-api.test.ts covers them. */
export const SESSION_ROUTES = ['POST /v1/session', 'GET /v1/session', 'DELETE /v1/session'];

const VOWELS_COPY = {
  name: 'text.copy',
  function: 'count_vowels',
  input: { type: 'string' },
  output: { type: 'object' },
  limits: { fuel: 1_000_000, timeoutMs: 1000, maxPages: 16, maxOutputBytes: 4096 },
};
