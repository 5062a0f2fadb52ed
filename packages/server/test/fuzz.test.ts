import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { contentType, type RouteCase, routeTable } from './route-table.js';
import { refusal, type World, world } from './world.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 40);

/** No 5xx; a refusal is a coded error whose message names what is wrong. */
function assertAnswered(response: LightMyRequestResponse, what: string): void {
  assert.ok(response.statusCode < 500, `${what}: ${response.statusCode} ${response.body.slice(0, 500)}`);
  if (response.statusCode >= 400) {
    const { code, message } = refusal(response);
    assert.match(code, /^[A-Z_]+$/, what);
    assert.ok(message.length >= 10, `${what}: message "${message}" says too little`);
  }
}

/** A JSON value with wrong types, huge strings and odd keys mixed in. */
const hostileJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.integer(),
    fc.string(),
    fc.string({ unit: 'binary', maxLength: 50 }),
    fc.constantFrom('x'.repeat(70_000), '__proto__', 'constructor', '', '\u0000', '9'.repeat(400)),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'name', 'limits', 'input')), tie('value'), {
      maxKeys: 6,
    }),
  ),
})).value;

/** The route's good payload with one field replaced, removed, or an unknown field added. */
function mutated(payload: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(payload);
  return fc.oneof(
    fc.tuple(fc.constantFrom(...keys), hostileJson).map(([key, value]) => ({ ...payload, [key]: value })),
    fc.constantFrom(...keys).map((key) => Object.fromEntries(Object.entries(payload).filter(([k]) => k !== key))),
    fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), hostileJson).map(([key, value]) => ({ ...payload, [`x${key}`]: value })),
  );
}

describe('fuzz: every route answers hostile requests with a coded 4xx, never a 5xx', () => {
  let w: World;
  let table: RouteCase[];
  before(async () => {
    w = await world({ rateLimit: false });
    table = routeTable(w).filter((route) => !route.url.endsWith('/key'));
  });
  after(() => w.close());

  it('malformed JSON bodies, wrong types, huge strings and unknown fields', async () => {
    for (const route of table.filter((r) => r.payload !== undefined && r.contentType === undefined)) {
      const payload = route.payload as Record<string, unknown>;
      await fc.assert(
        fc.asyncProperty(fc.oneof(hostileJson, mutated(payload)), async (body) => {
          const response = await w.call({
            method: route.method,
            url: route.url,
            payload: JSON.stringify(body),
            headers: { 'content-type': 'application/json' },
          });
          assertAnswered(response, `${route.method} ${route.url} ${JSON.stringify(body).slice(0, 200)}`);
        }),
        { numRuns: RUNS },
      );
      await fc.assert(
        fc.asyncProperty(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/wasm'),
          async (raw, type) => {
            const response = await w.call({ method: route.method, url: route.url, payload: raw, headers: { 'content-type': type } });
            assertAnswered(response, `${route.method} ${route.url} raw ${type} ${JSON.stringify(raw).slice(0, 200)}`);
          },
        ),
        { numRuns: RUNS },
      );
    }
  });

  it('hostile path segments and query strings', async () => {
    for (const route of table) {
      await fc.assert(
        fc.asyncProperty(
          fc.string({ unit: 'grapheme', maxLength: 300 }),
          fc.dictionary(
            fc.constantFrom('after', 'limit', 'tenant', 'outcome', 'extensionPoint', 'plugin', 'version', 'x'),
            fc.string({ maxLength: 300 }),
            { maxKeys: 4 },
          ),
          async (segment, query) => {
            // Replace the route's last id (or name) with a hostile one, keep the shape of the path.
            const parts = route.url.split('/');
            const at = parts.length > 3 ? parts.length - 1 : -1;
            if (at > 0 && !/^(runs|versions|key|quota)$/.test(parts[at]!)) parts[at] = encodeURIComponent(segment);
            const url = `${parts.join('/')}?${new URLSearchParams(query)}`;
            const response = await w.call({ method: route.method, url, payload: route.payload as string, headers: contentType(route) });
            assertAnswered(response, `${route.method} ${url}`);
          },
        ),
        { numRuns: RUNS },
      );
    }
  });

  it('hostile modules: random bytes, truncated and corrupted real modules are rejected with a report or refused', async () => {
    const upload = table.find((r) => r.contentType === 'application/wasm')!;
    const real = upload.payload as Buffer;
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 2000 }),
      fc.nat({ max: real.length - 1 }).map((n) => real.subarray(0, n)),
      fc.tuple(fc.nat({ max: real.length - 1 }), fc.integer({ min: 0, max: 255 })).map(([at, byte]) => {
        const copy = Buffer.from(real);
        copy[at] = byte;
        return copy;
      }),
    );
    await fc.assert(
      fc.asyncProperty(bytes, async (module) => {
        const response = await w.call(
          { method: 'POST', url: upload.url, payload: Buffer.from(module), headers: { 'content-type': 'application/wasm' } },
          w.alice.key,
        );
        assertAnswered(response, `upload of ${module.length} bytes`);
        if (response.statusCode === 201) assert.ok(['validated', 'rejected'].includes(response.json().status));
      }),
      { numRuns: RUNS },
    );
  });
});
