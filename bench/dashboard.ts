/**
 * Dashboard benchmark: 100,000 recorded runs in an SQLite store (RUNS to change it), the server on a
 * loopback port, then medians of ROUNDS loads of every API read the dashboard's pages make, and, with
 * Debian's Chromium present, each page in a browser from navigation start to its data on screen
 * (signed in by cookie). Prints the JavaScript the dashboard loads, gzipped.
 *
 * The first REAL runs (2,000) are real runs of a real plug-in, recorded by the platform; the rest are
 * copies of them made in SQL with new ids and times spread over the last hour (running 100,000 real
 * runs takes minutes and measures the runtime, not the dashboard). Every copy is inside the overview's
 * one-hour window, the statistics' worst case.
 *
 *   npm run bench:dashboard
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { chromium } from 'playwright-core';
import { dashboardRoot } from '../packages/dashboard/index.js';
import { createPlatform, OPERATOR } from '../packages/platform/dist/index.js';
import { createServer } from '../packages/server/dist/index.js';

const RUNS = Number(process.env.RUNS ?? 100_000);
const REAL = Math.min(RUNS, Number(process.env.REAL ?? 2000));
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const KEY = 'tok_bench_dashboard_0123456789abcdef';
const CHROMIUM = '/usr/bin/chromium';
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

const dir = mkdtempSync(join(tmpdir(), 'tenon-dashboard-bench-'));
const store = join(dir, 'tenon.db');
const setup = await createPlatform({ store: `sqlite:${store}` });
await setup.ensureOperatorKey(KEY);
await setup.extensionPoints.define(OPERATOR, {
  name: 'text.vowels',
  function: 'count_vowels',
  input: { type: 'string' },
  output: { type: 'object', properties: { count: { type: 'integer' } }, required: ['count'] },
  limits: { fuel: 1_000_000, fuelPerInputKiB: 100_000, maxFuelScale: 10, timeoutMs: 1000, maxPages: 16, maxOutputBytes: 4096 },
  record: { sample: 1, retain: RUNS * 2 },
});
const partner = await setup.partners.create(OPERATOR, { name: 'bench' });
const plugin = await setup.plugins.create(OPERATOR, { name: 'vowels', extensionPoint: 'text.vowels', partnerId: partner.id });
const fixtures = new URL('../packages/runtime/test/fixtures/build/', import.meta.url);
const version = await setup.versions.upload(OPERATOR, plugin.id, readFileSync(new URL('count_vowels.wasm', fixtures)));
for (const tenant of ['merchant-1', 'merchant-2']) {
  await setup.installations.create(OPERATOR, { tenant, plugin: plugin.id, version: version.id });
}
const started = performance.now();
for (let i = 0; i < REAL; i++) await setup.run(OPERATOR, 'text.vowels', { tenant: `merchant-${(i % 2) + 1}`, input: `invoice ${i}` });
await setup.flush();
const candidate = await setup.versions.upload(OPERATOR, plugin.id, readFileSync(new URL('count_vowels_c.wasm', fixtures)));
await setup.replays.create(OPERATOR, { version: candidate.id, records: 1000 });
await setup.close();
const realSeconds = (performance.now() - started) / 1000;

const copyStarted = performance.now();
const db = new Database(store);
const now = Date.now();
const copy = db.prepare(`insert into records (id, extension_point, tenant, run_key, installation_id, plugin_id, partner_id, version_id,
  outcome, code, message, input, output, config, imports, fuel, budget, duration_us, at)
  select 'cp_' || ? || '_' || seq, extension_point, tenant, run_key, installation_id, plugin_id, partner_id, version_id,
  outcome, code, message, input, output, config, imports, fuel, budget, duration_us, ? - abs(random() % 3600000)
  from records where id not like 'cp_%' order by seq limit ?`);
db.transaction(() => {
  for (let made = REAL, round = 0; made < RUNS; round++) {
    const copied = copy.run(round, now, Math.min(REAL, RUNS - made)).changes;
    if (copied === 0) throw new Error('no recorded run to copy');
    made += copied;
  }
})();
db.pragma('wal_checkpoint(TRUNCATE)');
db.close();
console.log(
  `recorded ${REAL.toLocaleString('en-US')} real runs in ${realSeconds.toFixed(1)} s, copied to ${RUNS.toLocaleString('en-US')} in ${((performance.now() - copyStarted) / 1000).toFixed(1)} s`,
);

const platform = await createPlatform({ store: `sqlite:${store}` });
const app = await createServer({ platform, rateLimit: false });
const base = await app.listen({ port: 0, host: '127.0.0.1' });
const timed = async (path: string): Promise<number> => {
  const t = performance.now();
  const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${KEY}` } });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return performance.now() - t;
};
const installation = (
  (await (await fetch(`${base}/v1/installations`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as {
    id: string;
  }[]
)[0]?.id;
for (const path of [
  '/v1/runs/stats?windowMs=3600000&buckets=60',
  '/v1/runs?limit=50',
  '/v1/runs?limit=50&tenant=merchant-2&outcome=ok',
  '/v1/runs?limit=50&outcome=contained',
  `/v1/runs?limit=50&version=${candidate.id}`,
  '/v1/replays?limit=50',
  '/v1/installations',
  `/v1/installations/${installation}/rollout`,
  '/v1/plugins',
  `/v1/plugins/${plugin.id}/versions`,
  '/v1/extension-points',
  '/v1/events?limit=100',
]) {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) times.push(await timed(path));
  console.log(`GET ${path}: median ${median(times).toFixed(1)} ms of ${ROUNDS}`);
}

let js = 0;
let first = 0;
for (const file of readdirSync(dashboardRoot).filter((f) => f.endsWith('.js'))) {
  const size = gzipSync(readFileSync(join(dashboardRoot, file)), { level: 9 }).length;
  js += size;
  if (file === 'app.js') first = size;
}
console.log(
  `dashboard JavaScript: ${(js / 1024).toFixed(1)} KB gzipped in all (budget 300 KB), ${(first / 1024).toFixed(1)} KB before the overview's charts`,
);

if (existsSync(CHROMIUM)) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext();
  const signIn = await context.request.post(`${base}/v1/session`, { data: { key: KEY }, headers: { origin: base } });
  if (signIn.status() !== 201) throw new Error(`sign-in: ${signIn.status()}`);
  for (const [name, hash, ready] of [
    ['overview', '#/', '[data-testid=runs]'],
    ['runs', '#/runs', '[data-testid=runs] tbody tr'],
    ['replays', '#/replays', '[data-testid=replays] tbody tr'],
    ['installations', '#/installations', '[data-testid=installations] tbody tr'],
  ] as const) {
    const times: number[] = [];
    const outside: number[] = [];
    const server: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const page = await context.newPage();
      const t = performance.now();
      await page.goto(`${base}/${hash}`);
      await page.waitForSelector(ready);
      // The page's own clock: from the start of navigation to the data on screen, and of that the
      // time its API requests were in flight (Resource Timing), the rest being the browser's own.
      const [shown, api] = await page.evaluate(() => [
        performance.now(),
        performance
          .getEntriesByType('resource')
          .filter((e) => e.name.includes('/v1/') && !e.name.includes('/stream'))
          .reduce((sum, e) => sum + e.duration, 0),
      ]);
      times.push(shown as number);
      server.push(api as number);
      outside.push(performance.now() - t);
      await page.close();
    }
    console.log(
      `${name} page in Chromium, navigation start to data shown: median ${median(times).toFixed(0)} ms (${median(outside).toFixed(0)} ms with the tab's opening; API requests in flight ${median(server).toFixed(0)} ms of it, summed) of ${ROUNDS}`,
    );
  }
  await browser.close();
} else console.log(`browser timing skipped: ${CHROMIUM} is missing`);

// The baseline, in the same run: the same reads without migration 0005's indexes on records.
const baseline = new Database(store);
for (const index of ['records_at_costs', 'records_tenant_seq', 'records_version_seq', 'records_outcome_seq']) {
  baseline.exec(`drop index ${index}`);
}
baseline.close();
for (const path of ['/v1/runs/stats?windowMs=3600000&buckets=60', '/v1/runs?limit=50&outcome=contained']) {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) times.push(await timed(path));
  console.log(`without 0005's indexes: GET ${path}: median ${median(times).toFixed(1)} ms of ${ROUNDS}`);
}

console.log(
  `load average ${loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')} on ${cpus().length} cores`,
);
await app.close();
await platform.close();
rmSync(dir, { recursive: true, force: true });
