// A platform on an in-memory store, the API over it, an operator and two partners, each with a plug-in
// on one extension point and a validated version, and one installation of Alice's for a tenant.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createPlatform, type Platform } from '@tenon/platform';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { createServer, type ServerOptions } from '../src/index.js';

const FIXTURES = new URL('../../runtime/test/fixtures/build/', import.meta.url);

/** A module we built from our own fixture sources (`node scripts/build-fixtures.js`). */
export function fixture(name: string): Buffer {
  return readFileSync(new URL(`${name}.wasm`, FIXTURES));
}

export const OPERATOR_KEY = 'tnn_op_test_key_0123456789abcdef';

/** The extension point every test uses: count_vowels, as PLATFORM.md defines it. */
export const VOWELS = {
  name: 'text.vowels',
  function: 'count_vowels',
  input: { type: 'string' },
  output: { type: 'object', properties: { count: { type: 'integer' } }, required: ['count'] },
  limits: {
    fuel: 1_000_000,
    fuelPerInputKiB: 100_000,
    maxFuelScale: 10,
    timeoutMs: 1000,
    maxPages: 16,
    maxOutputBytes: 4096,
    maxModuleBytes: 64 * 1024,
  },
  simulations: [
    { name: 'greeting', input: 'Hello, World!', expect: { output: { count: 3 } } },
    { name: 'empty', input: '', expect: { output: { count: 0 } } },
  ],
  record: { sample: 1 },
};

/** One partner as the tests see it: its key and the things it owns. */
export interface PartnerWorld {
  id: string;
  key: string;
  plugin: string;
  version: string;
  sha256: string;
}

export interface World {
  app: FastifyInstance;
  platform: Platform;
  alice: PartnerWorld;
  bob: PartnerWorld;
  /** Alice's installation for the tenant `merchant-secret`. */
  installation: string;
  /** Alice's second version (count_vowels in C), not installed. */
  candidate: string;
  /** Alice's replay of `candidate` on the recorded run. */
  replay: string;
  /** Alice's installation for `merchant-canary`, with `candidate` as its canary. */
  canary: string;
  /** `inject` with a key: the operator's by default. */
  call(options: InjectOptions, key?: string | null): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** Build the world; `options` go to createServer. */
export async function world(options: Partial<ServerOptions> = {}): Promise<World> {
  const platform = await createPlatform({ store: ':memory:' });
  await platform.ensureOperatorKey(OPERATOR_KEY);
  const app = await createServer({ platform, ...options });
  const call = (request: InjectOptions, key: string | null = OPERATOR_KEY) =>
    app.inject({ ...request, headers: { ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...request.headers } });

  const ok = async (request: InjectOptions, key?: string | null): Promise<Record<string, unknown>> => {
    const response = await call(request, key);
    assert.ok(response.statusCode < 300, `${request.method} ${request.url}: ${response.statusCode} ${response.body}`);
    return response.json();
  };
  await ok({ method: 'POST', url: '/v1/extension-points', payload: VOWELS });
  const partner = async (name: string): Promise<PartnerWorld> => {
    const { id, key } = (await ok({ method: 'POST', url: '/v1/partners', payload: { name } })) as { id: string; key: string };
    const plugin = await ok(
      { method: 'POST', url: '/v1/plugins', payload: { name: `${name}-vowels`, extensionPoint: 'text.vowels' } },
      key,
    );
    const version = await ok(
      {
        method: 'POST',
        url: `/v1/plugins/${plugin.id}/versions`,
        payload: fixture('count_vowels'),
        headers: { 'content-type': 'application/wasm' },
      },
      key,
    );
    assert.equal(version.status, 'validated', JSON.stringify(version.report));
    return { id, key, plugin: plugin.id as string, version: version.id as string, sha256: version.sha256 as string };
  };
  const alice = await partner('alice');
  const bob = await partner('bob');
  const installed = await ok({
    method: 'POST',
    url: '/v1/installations',
    payload: { tenant: 'merchant-secret', plugin: alice.plugin, version: alice.version, config: { mode: 'config-secret' } },
  });
  const run = await ok({
    method: 'POST',
    url: '/v1/extension-points/text.vowels/runs',
    payload: { tenant: 'merchant-secret', key: 'invoice-secret', input: 'input-secret aeiou' },
  });
  assert.equal((run.results as { outcome: string }[])[0]?.outcome, 'ok', JSON.stringify(run));
  // Records are written in batches: this one is in the store before a test reads it.
  await platform.flush();
  const candidate = await ok(
    {
      method: 'POST',
      url: `/v1/plugins/${alice.plugin}/versions`,
      payload: fixture('count_vowels_c'),
      headers: { 'content-type': 'application/wasm' },
    },
    alice.key,
  );
  const replay = await ok({ method: 'POST', url: '/v1/replays', payload: { version: candidate.id } }, alice.key);
  const canary = await ok({
    method: 'POST',
    url: '/v1/installations',
    payload: { tenant: 'merchant-canary', plugin: alice.plugin, version: alice.version },
  });
  await ok({ method: 'POST', url: `/v1/installations/${canary.id}/candidate`, payload: { version: candidate.id, override: true } });
  return {
    app,
    platform,
    alice,
    bob,
    installation: installed.id as string,
    candidate: candidate.id as string,
    replay: replay.id as string,
    canary: canary.id as string,
    call,
    async close() {
      await app.close();
      await platform.close();
    },
  };
}

/** The coded error body of a refusal. */
export function refusal(response: LightMyRequestResponse): { code: string; message: string } {
  const body = response.json() as { error?: { code?: unknown; message?: unknown } };
  assert.equal(typeof body.error?.code, 'string', `no error code in ${response.statusCode} ${response.body}`);
  assert.equal(typeof body.error?.message, 'string', `no error message in ${response.statusCode} ${response.body}`);
  return body.error as { code: string; message: string };
}
