/**
 * Server benchmark: `POST /v1/extension-points/:name/runs` (auth, rate limit, schema, one installation
 * of count_vowels run by the platform, the reply serialised) against a plain Fastify route that echoes
 * the same body, both over loopback with one keep-alive connection, side by side in one process:
 * medians of ROUNDS rounds of N sequential round trips per path, the paths taking turns every SLICE requests.
 *
 *   npm run bench:server
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import Fastify from 'fastify';
import { createPlatform, OPERATOR, type RunRequest } from '../packages/platform/dist/index.js';
import { createServer } from '../packages/server/dist/index.js';

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const N = Number(process.env.N ?? 1000);
const OPERATOR_KEY = 'tok_bench_0123456789abcdef';
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** One POST round trip: resolves when the whole answer is read. */
function post(port: number, path: string, body: string, key?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: 'POST',
        path,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...(key && { authorization: `Bearer ${key}` }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${path}: ${res.statusCode} ${text}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Requests per slice: the paths take turns every SLICE requests, so a burst of load on this shared machine falls on all of them alike. */
const SLICE = 50;

/** Microseconds per round trip of each path over N sequential requests each, the paths interleaved by slices. */
async function round(paths: readonly (() => Promise<unknown>)[]): Promise<number[]> {
  const totals = paths.map(() => 0);
  for (let done = 0; done < N; done += SLICE) {
    for (const [i, path] of paths.entries()) {
      const started = performance.now();
      for (let k = 0; k < SLICE; k++) await path();
      totals[i]! += performance.now() - started;
    }
  }
  return totals.map((ms) => (ms * 1000) / N);
}

const platform = await createPlatform({ store: ':memory:' });
await platform.ensureOperatorKey(OPERATOR_KEY);
const api = await createServer({ platform, rateLimit: { max: 1_000_000_000, timeWindowMs: 60_000 } });
const plain = Fastify();
plain.post('/echo', async (req) => req.body);
// The same platform call behind a bare route: what the API adds beyond the platform's own run.
plain.post<{ Params: { name: string } }>('/run/:name', async (req) => platform.run(OPERATOR, req.params.name, req.body as RunRequest));

const apiPort = Number(new URL(await api.listen({ port: 0, host: '127.0.0.1' })).port);
const plainPort = Number(new URL(await plain.listen({ port: 0, host: '127.0.0.1' })).port);

const created = async (path: string, body: unknown, key = OPERATOR_KEY): Promise<Record<string, string>> => {
  const wasm = body instanceof Uint8Array;
  const response = await fetch(`http://127.0.0.1:${apiPort}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': wasm ? 'application/wasm' : 'application/json' },
    body: wasm ? body : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, string>;
};
const partner = await created('/v1/partners', { name: 'bench' });
const module = new Uint8Array(readFileSync(new URL('../packages/runtime/test/fixtures/build/count_vowels.wasm', import.meta.url)));
// Two points that differ only in isolation: a fresh instance per run (the default), or one kept per tenant and version.
for (const isolation of ['fresh', 'tenant'] as const) {
  const name = `text.vowels_${isolation}`;
  await created('/v1/extension-points', {
    name,
    function: 'count_vowels',
    input: { type: 'string' },
    output: { type: 'object', properties: { count: { type: 'integer' } }, required: ['count'] },
    limits: { fuel: 1_000_000, timeoutMs: 100, maxPages: 16, maxOutputBytes: 4096 },
    simulations: [{ name: 'greeting', input: 'Hello, World!', expect: { output: { count: 3 } } }],
    record: { sample: 0 },
    isolation,
  });
  const plugin = await created('/v1/plugins', { name: `vowels-${isolation}`, extensionPoint: name }, partner.key);
  const version = await created(`/v1/plugins/${plugin.id}/versions`, module, partner.key);
  await created('/v1/installations', { tenant: 'merchant-1', plugin: plugin.id, version: version.id });
}

const body = JSON.stringify({
  tenant: 'merchant-1',
  key: 'invoice-1',
  input: 'Hello, World! A sentence of a typical length for an input.',
});
const echo = () => post(plainPort, '/echo', body);
const cases = (['fresh', 'tenant'] as const).map((isolation) => ({
  isolation,
  api: () => post(apiPort, `/v1/extension-points/text.vowels_${isolation}/runs`, body, OPERATOR_KEY),
  bare: () => post(plainPort, `/run/text.vowels_${isolation}`, body),
}));
for (const { api: run } of cases) {
  const check = JSON.parse(await run()) as { results: { outcome: string; output: unknown }[] };
  if (check.results[0]?.outcome !== 'ok') throw new Error(`the run did not succeed: ${JSON.stringify(check)}`);
}

// Warm every path (JIT, the platform's compiled module and instance cache) before measuring.
const paths = [echo, ...cases.flatMap((c) => [c.api, c.bare])];
await round(paths);
const samples = paths.map(() => [] as number[]);
for (let r = 0; r < ROUNDS; r++) {
  for (const [i, us] of (await round(paths)).entries()) samples[i]!.push(us);
}
const [echoUs, ...rest] = samples.map(median) as [number, ...number[]];
console.log(
  `server round trip over loopback, one keep-alive connection, ${N} sequential requests per path × ${ROUNDS} rounds, the paths taking turns every ${SLICE} (medians)`,
);
console.log(`  plain Fastify route echoing the same body            ${fmt(echoUs).padStart(8)} µs`);
for (const [i, { isolation }] of cases.entries()) {
  const apiUs = rest[2 * i]!;
  const bareUs = rest[2 * i + 1]!;
  console.log(`isolation "${isolation}" (one installation of count_vowels, records off):`);
  console.log(
    `  POST /v1/extension-points/:name/runs                 ${fmt(apiUs).padStart(8)} µs   ${fmt(apiUs / echoUs, 2)}× the echo (target ≤ 1.30×)`,
  );
  console.log(
    `  plain Fastify route calling platform.run             ${fmt(bareUs).padStart(8)} µs   the API layer adds ${fmt(apiUs - bareUs)} µs (${fmt(apiUs / bareUs, 2)}×)`,
  );
}

agent.destroy();
await api.close();
await plain.close();
await platform.close();
