/**
 * Platform benchmark, side by side in one process (medians of ROUNDS rounds, the two sides
 * alternating so drift hits both):
 *
 *   npm run bench:platform
 *
 * - `point.run` on `invoice.discounts` with three installations (loyalty, volume, hostile on an
 *   invoice where it behaves) against calling the same three plug-ins directly through
 *   @tenon/runtime with the same limits (deterministic, metered, the same fuel budget, timeout,
 *   memory and output caps, the same config), parsing each answer as the host would. Both
 *   isolation modes: `fresh` (a new instance per run; directly: `instance: 'fresh'`) and `tenant`
 *   (one instance kept; directly: `instance: 'reuse'`), with recording off and with every run recorded,
 *   with the record spool (the default beside a file store) and without (`records.spool: false`), each
 *   round's records written (flushed) within the round;
 * - records written to SQLite per second, batched (a file store, WAL), with and without the spool;
 * - upload to validated for the 35 KB AssemblyScript hostile partner against the point's 10 simulations.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DISCOUNTS_POINT, discountRules } from '../examples/invoicing/dist/discounts.js';
import type { Invoice } from '../examples/invoicing/dist/invoices.js';
import { PARTNERS } from '../examples/invoicing/dist/partners.js';
import { createPlatform, type ExtensionPointDefinition, fuelBudget, OPERATOR, type Platform } from '../packages/platform/dist/index.js';
import { compilePlugin, type Plugin } from '../packages/runtime/dist/index.js';

const ROUNDS = 21;
const RUNS_PER_ROUND = 150;
const RECORDS = 200_000;
const UPLOADS = 10;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const invoice: Invoice = {
  id: 'INV-0000001',
  issued_on: '2026-06-01',
  currency: 'EUR',
  customer: { id: 'C-000001', tier: 'gold', country: 'DE', customer_since: '2016-03-01' },
  lines: [
    { sku: 'SKU-0001', description: 'Standing desk', quantity: 12, unit_price_cents: 42900, amount_cents: 514800 },
    { sku: 'SKU-0002', description: 'Delivery', quantity: 1, unit_price_cents: 1490, amount_cents: 1490 },
  ],
  total_cents: 516290,
};

/** The platform, after checking it spools as the side it is timed for says: a spool default that changed would make the two sides one. */
function spooling(platform: Platform, spool: boolean): Platform {
  if (platform.records.spooled !== spool)
    throw new Error(`the ${spool ? 'spooled' : 'unspooled'} side ${spool ? 'has no' : 'has a'} spool`);
  return platform;
}

/** A platform on a file store with the point defined and the three partners installed for one tenant. */
async function platformWith(definition: ExtensionPointDefinition, dir: string, name: string, spool: boolean): Promise<Platform> {
  const platform = spooling(
    await createPlatform({ store: `sqlite:${join(dir, `${name}.db`)}`, records: spool ? {} : { spool: false } }),
    spool,
  );
  const partnerIds = new Map<string, string>();
  await platform.extensionPoint(definition, {
    rules: discountRules((id) => PARTNERS.find((p) => partnerIds.get(p.name) === id)?.allowedCodes ?? []),
  });
  for (const partner of PARTNERS) {
    const { id } = await platform.partners.create(OPERATOR, { name: partner.name });
    partnerIds.set(partner.name, id);
    const actor = { kind: 'partner', partnerId: id } as const;
    const plugin = await platform.plugins.create(actor, { name: partner.name, extensionPoint: definition.name });
    const version = await platform.versions.upload(actor, plugin.id, readFileSync(partner.wasmPath));
    if (version.status !== 'validated')
      throw new Error(`${partner.name} rejected: ${JSON.stringify(version.report.simulations.filter((s) => !s.ok))}`);
    await platform.installations.create(OPERATOR, {
      tenant: 'merchant',
      plugin: plugin.id,
      version: version.id,
      config: partner.config ?? {},
      grants: { allowedHosts: [...(partner.allowedHosts ?? [])] },
    });
  }
  return platform;
}

/** The same three plug-ins compiled with the point's limits, called directly. */
async function direct(definition: ExtensionPointDefinition, instance: 'fresh' | 'reuse'): Promise<Plugin[]> {
  const limits = definition.limits;
  return Promise.all(
    PARTNERS.map(async (partner) =>
      (
        await compilePlugin(readFileSync(partner.wasmPath), {
          deterministic: true,
          fuel: limits.fuel,
          timeoutMs: limits.timeoutMs,
          memory: { maxPages: limits.maxPages },
          limits: { maxOutputBytes: limits.maxOutputBytes, maxLogBytes: 16_384, maxTableElements: 100_000 },
          config: partner.config ?? {},
          allowedHosts: partner.allowedHosts ?? [],
          instance,
          logLevel: 'off',
        })
      ).instantiate(),
    ),
  );
}

/** `point.run` on one platform per entry of `spools` (with the record spool or without), rounds alternating with the direct calls. */
async function runRatio(
  isolation: 'fresh' | 'tenant',
  sample: number,
  spools: readonly boolean[],
  dir: string,
): Promise<{ platformUs: number[]; directUs: number }> {
  const definition: ExtensionPointDefinition = { ...DISCOUNTS_POINT, isolation, record: { sample, retain: 1_000_000 } };
  const platforms = await Promise.all(spools.map((spool) => platformWith(definition, dir, `${isolation}-${sample}-${spool}`, spool)));
  const points = await Promise.all(platforms.map((platform) => platform.extensionPoint(definition)));
  const plugins = await direct(definition, isolation === 'fresh' ? 'fresh' : 'reuse');
  const encoder = new TextEncoder();
  const callDirect = () => {
    const bytes = encoder.encode(JSON.stringify(invoice));
    const budget = fuelBudget((points[0] as (typeof points)[number]).info.limits, bytes.length);
    for (const plugin of plugins) plugin.call('discounts', bytes, { fuel: budget }).json();
  };
  // Warm both sides (compilation, JIT tiers, the tenant's installations loaded).
  for (let i = 0; i < 200; i++) {
    for (const point of points) await point.run({ tenant: 'merchant', input: invoice });
    callDirect();
  }
  for (const point of points) {
    const check = await point.run({ tenant: 'merchant', input: invoice });
    if (check.results.some((r) => r.outcome !== 'ok')) throw new Error(`not all ok: ${JSON.stringify(check.results)}`);
  }
  const platformRounds: number[][] = points.map(() => []);
  const directRounds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const [p, point] of points.entries()) {
      const started = performance.now();
      for (let i = 0; i < RUNS_PER_ROUND; i++) await point.run({ tenant: 'merchant', key: invoice.id, input: invoice });
      // The round's records are written in its own time, not in another platform's round.
      await platforms[p]?.flush();
      platformRounds[p]?.push(((performance.now() - started) * 1000) / RUNS_PER_ROUND);
    }
    const started = performance.now();
    for (let i = 0; i < RUNS_PER_ROUND; i++) callDirect();
    directRounds.push(((performance.now() - started) * 1000) / RUNS_PER_ROUND);
  }
  for (const plugin of plugins) plugin.close();
  for (const platform of platforms) await platform.close();
  return { platformUs: platformRounds.map(median), directUs: median(directRounds) };
}

/** Records per second through add() and flush(), with the spool and without, rounds alternating. */
async function recordsPerSecond(dir: string): Promise<{ spooled: number; unspooled: number }> {
  const open = async (spool: boolean) =>
    spooling(
      await createPlatform({
        store: `sqlite:${join(dir, `records-${spool}.db`)}`,
        records: { batchSize: 5000, maxBuffered: RECORDS, ...(spool ? {} : { spool: false }) },
      }),
      spool,
    );
  const platforms = [await open(true), await open(false)] as const;
  const input = JSON.stringify(invoice);
  const output = '{"discounts":[{"code":"LOYALTY_GOLD","amount_cents":25814,"reason":"gold customer: 500 basis points"}]}';
  const rounds: [number[], number[]] = [[], []];
  for (let round = 0; round < 6; round++) {
    const platform = platforms[round % 2] as Platform;
    const rows = Array.from({ length: RECORDS }, (_, i) => ({
      id: `rc_${round}_${i}`,
      extension_point: 'invoice.discounts',
      tenant: 'merchant',
      run_key: `INV-${i}`,
      installation_id: 'in_x',
      plugin_id: 'pl_x',
      partner_id: 'pt_x',
      version_id: 'v_x',
      outcome: 'ok' as const,
      code: null,
      message: null,
      input,
      output,
      config: '{}',
      fuel: 300_000,
      budget: 5_000_000,
      duration_us: 250,
      at: Date.now(),
    }));
    const started = performance.now();
    for (let i = 0; i < rows.length; i += 3) platform.records.add(rows.slice(i, i + 3), 'invoice.discounts', 10_000_000);
    await platform.flush();
    rounds[round % 2]?.push((RECORDS / (performance.now() - started)) * 1000);
  }
  for (const platform of platforms) await platform.close();
  return { spooled: median(rounds[0]), unspooled: median(rounds[1]) };
}

async function uploadMs(dir: string): Promise<{ ms: number; bytes: number; simulations: number }> {
  const platform = await createPlatform({ store: `sqlite:${join(dir, 'uploads.db')}` });
  await platform.extensionPoint(DISCOUNTS_POINT, { rules: discountRules(() => ['PROMO_1']) });
  const { id } = await platform.partners.create(OPERATOR, { name: 'hostile' });
  const actor = { kind: 'partner', partnerId: id } as const;
  const plugin = await platform.plugins.create(actor, { name: 'hostile', extensionPoint: DISCOUNTS_POINT.name });
  const bytes = readFileSync(new URL('../examples/invoicing/partners/hostile/build/plugin.wasm', import.meta.url));
  const times: number[] = [];
  let simulations = 0;
  for (let i = 0; i < UPLOADS + 1; i++) {
    // Other bytes each time (a custom section), so each upload compiles and validates anew.
    const name = new TextEncoder().encode(`bench-${i}`);
    const variant = new Uint8Array([...bytes, 0, name.length + 1, name.length, ...name]);
    const started = performance.now();
    const version = await platform.versions.upload(actor, plugin.id, variant);
    const ms = performance.now() - started;
    if (version.status !== 'validated') throw new Error(`hostile rejected: ${JSON.stringify(version.report)}`);
    simulations = version.report.simulations.length;
    if (i > 0) times.push(ms); // the first warms the JIT
  }
  await platform.close();
  return { ms: median(times), bytes: bytes.length, simulations };
}

const dir = mkdtempSync(join(tmpdir(), 'tenon-bench-platform-'));
try {
  console.log(
    `point.run with three installations against the same three plug-ins called directly (µs per invoice, medians of ${ROUNDS} × ${RUNS_PER_ROUND})`,
  );
  const rows: string[][] = [['isolation', 'recorded', 'point.run', 'direct', 'ratio', 'target']];
  const spoolCosts: string[] = [];
  for (const isolation of ['fresh', 'tenant'] as const) {
    {
      const { platformUs, directUs } = await runRatio(isolation, 0, [true], dir);
      const us = platformUs[0] as number;
      rows.push([isolation, 'off', fmt(us, 1), fmt(directUs, 1), `${fmt(us / directUs, 2)}x`, '≤ 1.15x']);
    }
    const { platformUs, directUs } = await runRatio(isolation, 1, [true, false], dir);
    const [spooled, unspooled] = platformUs as [number, number];
    rows.push([isolation, 'every run, spooled', fmt(spooled, 1), fmt(directUs, 1), `${fmt(spooled / directUs, 2)}x`, '≤ 1.5x']);
    rows.push([isolation, 'every run, no spool', fmt(unspooled, 1), fmt(directUs, 1), `${fmt(unspooled / directUs, 2)}x`, '']);
    spoolCosts.push(`${isolation} ${fmt(spooled - unspooled, 1)} µs (${fmt(spooled / unspooled, 2)}x)`);
  }
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  for (const row of rows)
    console.log(`  ${row.map((cell, c) => (c < 2 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('   ')}`);

  console.log(`the spool's cost on a recorded run (spooled − no spool): ${spoolCosts.join(', ')}`);

  const records = await recordsPerSecond(dir);
  console.log(
    `\nrecords written to SQLite (WAL, batches of 5,000): ${fmt(records.spooled)} per second with the spool, ${fmt(records.unspooled)} without (${fmt(records.spooled / records.unspooled, 2)}x; medians of 3 × ${fmt(RECORDS)} each, alternating; target ≥ 20,000)`,
  );

  const upload = await uploadMs(dir);
  console.log(
    `upload to validated: ${fmt(upload.ms, 1)} ms for a ${fmt(upload.bytes / 1024, 1)} KiB AssemblyScript plug-in with ${upload.simulations} simulations (median of ${UPLOADS}; target ≤ 300 ms)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
