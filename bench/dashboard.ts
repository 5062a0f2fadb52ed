/**
 * Dashboard benchmark: 100,000 recorded runs in an SQLite store (RUNS to change it), the server on a
 * loopback port, then medians of ROUNDS loads of: `GET /v1/runs/stats` (the overview's aggregates),
 * `GET /v1/runs?limit=50` (the runs page's first page), and, with Debian's Chromium present, the
 * overview page in a browser from navigation to its figures drawn (signed in by cookie). Prints the
 * JavaScript the dashboard loads, gzipped.
 *
 *   npm run bench:dashboard
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { dashboardRoot } from '../packages/dashboard/index.js';
import { createPlatform, OPERATOR } from '../packages/platform/dist/index.js';
import { createServer } from '../packages/server/dist/index.js';

const RUNS = Number(process.env.RUNS ?? 100_000);
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const KEY = 'tok_bench_dashboard_0123456789abcdef';
const CHROMIUM = '/usr/bin/chromium';
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

const dir = mkdtempSync(join(tmpdir(), 'tenon-dashboard-bench-'));
const platform = await createPlatform({ store: `sqlite:${join(dir, 'tenon.db')}` });
await platform.ensureOperatorKey(KEY);
await platform.extensionPoints.define(OPERATOR, {
  name: 'text.vowels',
  function: 'count_vowels',
  input: { type: 'string' },
  output: { type: 'object', properties: { count: { type: 'integer' } }, required: ['count'] },
  limits: { fuel: 1_000_000, fuelPerInputKiB: 100_000, maxFuelScale: 10, timeoutMs: 1000, maxPages: 16, maxOutputBytes: 4096 },
  record: { sample: 1, retain: RUNS },
});
const partner = await platform.partners.create(OPERATOR, { name: 'bench' });
const plugin = await platform.plugins.create(OPERATOR, { name: 'vowels', extensionPoint: 'text.vowels', partnerId: partner.id });
const wasm = readFileSync(new URL('../packages/runtime/test/fixtures/build/count_vowels.wasm', import.meta.url));
const version = await platform.versions.upload(OPERATOR, plugin.id, wasm);
for (const tenant of ['merchant-1', 'merchant-2']) {
  await platform.installations.create(OPERATOR, { tenant, plugin: plugin.id, version: version.id });
}
const started = performance.now();
for (let i = 0; i < RUNS; i++) await platform.run(OPERATOR, 'text.vowels', { tenant: `merchant-${(i % 2) + 1}`, input: `invoice ${i}` });
await platform.flush();
console.log(`recorded ${RUNS.toLocaleString('en-US')} runs in ${((performance.now() - started) / 1000).toFixed(1)} s`);

const app = await createServer({ platform, rateLimit: false });
const base = await app.listen({ port: 0, host: '127.0.0.1' });
const timed = async (path: string): Promise<number> => {
  const t = performance.now();
  const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${KEY}` } });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return performance.now() - t;
};
for (const path of ['/v1/runs/stats?windowMs=3600000&buckets=60', '/v1/runs?limit=50', '/v1/runs?limit=50&tenant=merchant-2&outcome=ok']) {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) times.push(await timed(path));
  console.log(`GET ${path}: median ${median(times).toFixed(1)} ms of ${ROUNDS}`);
}

let js = 0;
for (const file of ['app.js']) js += gzipSync(readFileSync(join(dashboardRoot, file)), { level: 9 }).length;
console.log(`dashboard JavaScript: ${(js / 1024).toFixed(1)} KB gzipped (budget 300 KB)`);

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
  ] as const) {
    const times: number[] = [];
    const outside: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const page = await context.newPage();
      const t = performance.now();
      await page.goto(`${base}/${hash}`);
      await page.waitForSelector(ready);
      // The page's own clock: from the start of navigation to the data on screen.
      times.push(await page.evaluate(() => performance.now()));
      outside.push(performance.now() - t);
      await page.close();
    }
    console.log(
      `${name} page in Chromium, navigation start to data shown: median ${median(times).toFixed(0)} ms (${median(outside).toFixed(0)} ms with the tab's opening) of ${ROUNDS}`,
    );
  }
  await browser.close();
} else console.log(`browser timing skipped: ${CHROMIUM} is missing`);

console.log(
  `load average ${loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')} on ${(await import('node:os')).cpus().length} cores`,
);
await app.close();
await platform.close();
rmSync(dir, { recursive: true, force: true });
