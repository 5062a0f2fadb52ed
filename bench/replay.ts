/**
 * Replay benchmark, side by side in one process (medians of ROUNDS rounds):
 *
 *   npm run bench:replay
 *
 * RECORDS recorded runs of the demo's loyalty plug-in on `invoice.discounts` (varied invoices, every
 * run recorded in SQLite), then a second version of loyalty (the same code with a custom section,
 * so every record comes out `same`) replayed on all of them with `platform.replays.create`: records
 * read from the store, each input run with its record's config and import tape, judged (schema and
 * the host's rules), diffed, summarised, and the report stored. Beside it, on the same inputs:
 * - the bare runtime in this thread: loyalty compiled with the point's limits, isolated as the point
 *   says (the demo's is `tenant`: one instance kept, as replay keeps one per installation), the
 *   answer parsed as JSON;
 * - the bare pool (@tenon/runtime's worker pool, 2 workers), every call in flight at once.
 * Prints records per second and the ratios (the targets: ≥ 5,000/s and ≥ 0.8× the pool).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DISCOUNTS_POINT, discountRules } from '../examples/invoicing/dist/discounts.js';
import { PARTNERS } from '../examples/invoicing/dist/partners.js';
import { sampleInvoice } from '../examples/invoicing/dist/sample-invoices.js';
import { createPlatform, type ExtensionPointDefinition, fuelBudget, OPERATOR } from '../packages/platform/dist/index.js';
import { compilePlugin, createPool } from '../packages/runtime/dist/index.js';

const RECORDS = 5_000;
const ROUNDS = 5;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function withCustomSection(bytes: Uint8Array, name: string): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  return new Uint8Array([...bytes, 0, nameBytes.length + 1, nameBytes.length, ...nameBytes]);
}

const loyalty = PARTNERS.find((p) => p.name === 'loyalty');
if (loyalty === undefined) throw new Error('the demo has no loyalty partner');
const moduleBytes = readFileSync(loyalty.wasmPath);
const invoices = Array.from({ length: RECORDS }, (_, i) => sampleInvoice(i));
const dir = mkdtempSync(join(tmpdir(), 'tenon-bench-replay-'));
try {
  const definition: ExtensionPointDefinition = { ...DISCOUNTS_POINT, record: { sample: 1, retain: 10 * RECORDS } };
  const platform = await createPlatform({
    store: `sqlite:${join(dir, 'replay.db')}`,
    records: { batchSize: 5000, maxBuffered: 2 * RECORDS },
  });
  let partnerId = '';
  await platform.extensionPoint(definition, { rules: discountRules((id) => (id === partnerId ? loyalty.allowedCodes : [])) });
  partnerId = (await platform.partners.create(OPERATOR, { name: 'loyalty' })).id;
  const plugin = await platform.plugins.create(OPERATOR, { name: 'loyalty', extensionPoint: definition.name, partnerId });
  const v1 = await platform.versions.upload(OPERATOR, plugin.id, moduleBytes);
  await platform.installations.create(OPERATOR, { tenant: 'merchant', plugin: plugin.id, version: v1.id, config: loyalty.config ?? {} });
  for (const input of invoices) await platform.run(OPERATOR, definition.name, { tenant: 'merchant', key: input.id, input });
  await platform.flush();
  const v2 = await platform.versions.upload(OPERATOR, plugin.id, withCustomSection(moduleBytes, 'v2'));
  if (v2.status !== 'validated') throw new Error('v2 rejected');

  // The bare runtime on the same inputs: the point's limits, a fresh instance per call.
  const limits = (await platform.extensionPoints.get(OPERATOR, definition.name)).limits;
  const options = {
    deterministic: true,
    meter: true,
    fuel: limits.fuel,
    timeoutMs: limits.timeoutMs,
    memory: { maxPages: limits.maxPages },
    limits: { maxOutputBytes: limits.maxOutputBytes, maxLogBytes: 16_384, maxTableElements: 100_000 },
    config: loyalty.config ?? {},
    logLevel: 'off' as const,
  };
  const isolation = (await platform.extensionPoints.get(OPERATOR, definition.name)).isolation;
  const bare = (await compilePlugin(moduleBytes, { ...options, instance: isolation === 'tenant' ? 'reuse' : 'fresh' })).instantiate();
  const encoder = new TextEncoder();
  const inputs = invoices.map((input) => encoder.encode(JSON.stringify(input)));
  const budgets = inputs.map((bytes) => fuelBudget(limits, bytes.length));
  const pool = createPool({ size: 2, plugin: options });

  const replayRate: number[] = [];
  const bareRate: number[] = [];
  const poolRate: number[] = [];
  let last: Awaited<ReturnType<typeof platform.replays.create>> | undefined;
  await pool.call(moduleBytes, 'discounts', inputs[0] as Uint8Array); // compile in the workers
  for (let round = 0; round < ROUNDS; round++) {
    let started = performance.now();
    last = await platform.replays.create(OPERATOR, { version: v2.id, records: RECORDS });
    replayRate.push(RECORDS / ((performance.now() - started) / 1000));
    started = performance.now();
    for (let i = 0; i < RECORDS; i++) bare.call('discounts', inputs[i] as Uint8Array, { fuel: budgets[i] as number }).json();
    bareRate.push(RECORDS / ((performance.now() - started) / 1000));
    started = performance.now();
    await Promise.all(inputs.map(async (bytes) => (await pool.call(moduleBytes, 'discounts', bytes)).json()));
    poolRate.push(RECORDS / ((performance.now() - started) / 1000));
  }
  bare.close();
  await pool.close();
  await platform.close();
  if (last === undefined || last.totals.same !== RECORDS)
    throw new Error(`replay did not find every record the same: ${JSON.stringify(last?.totals)}`);

  const replay = median(replayRate);
  const rows: [string, string][] = [
    [`records replayed (loyalty, ${fmt(RECORDS)} records, all "same")`, `${fmt(RECORDS)}`],
    ['replay through the platform (records/s)', fmt(replay)],
    [`bare runtime, this thread, isolation "${isolation}" (calls/s)`, fmt(median(bareRate))],
    ['bare pool, 2 workers, all in flight (calls/s)', fmt(median(poolRate))],
    ['replay / bare pool', `${fmt(replay / median(poolRate), 2)}×`],
    ['replay / bare runtime in this thread', `${fmt(replay / median(bareRate), 2)}×`],
    ['fuel p50 / p99 (before = after)', `${last.fuel.after.p50} / ${last.fuel.after.p99}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(`replay benchmark, medians of ${ROUNDS} rounds`);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
