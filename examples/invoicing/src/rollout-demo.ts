// `npm run demo:rollout`: after the main run, the loyalty partner ships v2 (silver customers get 100
// basis points more): the replay on recorded runs names the invoices that change and how; the
// canary goes live on each merchant using loyalty and is promoted by itself after clean runs. Then it
// ships v3, a regression (several times the fuel, and it fails on one bulk order): the replay's gate
// blocks it; forced in as a canary by the operator, it is rolled back automatically.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Actor, OPERATOR, type PlatformEvent, type ReplayReport } from '@tenon/platform';
import { DISCOUNTS_POINT, discountRules } from './discounts.js';
import { openPlatform } from './host-platform.js';
import type { Invoice } from './invoices.js';
import { merchantOf } from './partners.js';
import { sampleInvoice } from './sample-invoices.js';

const RECORDED = 1_500;
const LIVE = 1_500;
const store = fileURLToPath(new URL('../.data/rollout.db', import.meta.url));
const release = (name: string) => readFileSync(fileURLToPath(new URL(`../partners/loyalty/build/${name}.wasm`, import.meta.url)));
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

mkdirSync(dirname(store), { recursive: true });
for (const suffix of ['', '-wal', '-shm']) rmSync(`${store}${suffix}`, { force: true });
const host = await openPlatform(`sqlite:${store}`);
const { platform } = host;
try {
  // Every run recorded for this demo (the main run samples 5%).
  const point = await platform.extensionPoint<Invoice>(
    { ...DISCOUNTS_POINT, record: { sample: 1, retain: 100_000 } },
    { rules: discountRules((partnerId) => host.partnerById.get(partnerId)?.allowedCodes ?? []) },
  );
  const traffic = async (from: number, count: number) => {
    for (let n = from; n < from + count; n++) {
      const invoice = sampleInvoice(n);
      await point.run({ tenant: merchantOf(invoice.id).tenant, key: invoice.id, input: invoice });
    }
    await platform.flush();
  };
  console.log(`1. ${fmt(RECORDED)} invoices run and recorded (loyalty v1 on atelier-nord and bistro-sud)`);
  await traffic(1, RECORDED);

  const loyaltyId = host.partnerIds.get('loyalty') as string;
  const loyalty: Actor = { kind: 'partner', partnerId: loyaltyId };
  const [plugin] = await platform.plugins.list(loyalty);
  if (plugin === undefined) throw new Error('loyalty has no plug-in');
  const installations = (await platform.installations.list(OPERATOR, { plugin: plugin.id })).map((i) => i.id);
  const events = async (after: string | undefined) => {
    const page = await platform.events.list(OPERATOR, after === undefined ? { limit: 1000 } : { after, limit: 1000 });
    return page.items;
  };
  let cursor = (await events(undefined)).at(-1)?.cursor;
  const newEvents = async (types: string[]): Promise<PlatformEvent[]> => {
    const items = await events(cursor);
    cursor = items.at(-1)?.cursor ?? cursor;
    return items.filter((e) => types.includes(e.type));
  };

  console.log('\n2. loyalty ships v2: silver customers get 100 basis points more');
  const v2 = await platform.versions.upload(loyalty, plugin.id, release('plugin-v2'));
  console.log(`   upload: ${v2.status}`);
  const seen = await platform.replays.create(loyalty, { version: v2.id, records: 1000 });
  console.log(
    `   the partner's replay: ${summary(seen)}; it sees paths only, e.g. ${JSON.stringify(seen.results.find((r) => r.class === 'changed')?.changes)}`,
  );
  const replay = await platform.replays.create(OPERATOR, { version: v2.id, records: 1000 });
  console.log(`   the operator's replay: ${summary(replay)}`);
  for (const r of replay.results.filter((r) => r.class === 'changed').slice(0, 4)) {
    const change = (r.changes ?? []).map((c) => `${c.path} ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`).join(', ');
    console.log(`     ${r.key} (${r.tenant}): ${change}`);
  }
  const changedTiers = new Set(
    replay.results.filter((r) => r.class === 'changed').map((r) => sampleInvoice(Number(r.key?.slice(4))).customer.tier),
  );
  console.log(`     ... ${replay.totals.changed} invoices change, all of customers of tier ${[...changedTiers].join(', ')}`);
  console.log(`   verdict: ${replay.verdict.passed ? 'pass' : `FAIL (${replay.verdict.reasons.join('; ')})`}`);

  for (const id of installations) {
    await platform.rollouts.start(OPERATOR, id, { version: v2.id, percent: 20, window: 40, promoteAfter: 60 });
  }
  console.log(`   canary: 20% of each merchant's invoices (sticky by invoice), promoted after 60 clean runs`);
  await traffic(RECORDED + 1, LIVE);
  for (const e of await newEvents(['rollout.promoted', 'rollout.rolled-back'])) {
    console.log(`   ${e.type} on ${e.subject}: ${e.data.reason}`);
  }

  console.log('\n3. loyalty ships v3: a regression (several times the fuel; fails on the standing-desk bulk order)');
  const v3 = await platform.versions.upload(loyalty, plugin.id, release('plugin-v3'));
  if (v3.status !== 'validated') {
    const failed = [...v3.report.checks, ...v3.report.simulations].filter((c) => !c.ok).map((c) => `${c.name}: ${c.message}`);
    throw new Error(`v3 was rejected on upload: ${failed.join('; ')}`);
  }
  console.log(`   upload: ${v3.status} (the point's simulations do not catch it)`);
  const blocked = await platform.replays.create(OPERATOR, { version: v3.id, records: 1000 });
  console.log(`   replay: ${summary(blocked)}`);
  for (const r of blocked.results.filter((r) => r.class === 'newly-failing').slice(0, 2)) {
    console.log(`     ${r.key} (${r.tenant}): ${r.before.outcome} -> ${r.after?.outcome} ${r.after?.code}`);
  }
  console.log(`   verdict: ${blocked.verdict.passed ? 'pass' : `FAIL: ${blocked.verdict.reasons.join('; ')}`}`);
  const target = installations[0] as string;
  try {
    await platform.rollouts.start(OPERATOR, target, { version: v3.id });
  } catch (error) {
    console.log(`   candidate refused: ${(error as Error & { code: string }).code}: ${(error as Error).message}`);
  }
  await platform.rollouts.start(OPERATOR, target, { version: v3.id, percent: 20, window: 20, override: true });
  console.log('   the operator forces it in as a 20% canary (override: an event of its own)');
  await traffic(RECORDED + LIVE + 1, LIVE);
  for (const e of await newEvents(['rollout.gate-overridden', 'rollout.started', 'rollout.promoted', 'rollout.rolled-back'])) {
    console.log(`   ${e.type} on ${e.subject}${e.data.reason === undefined ? '' : `: ${e.data.reason}`}`);
  }
  const after = await platform.installations.get(OPERATOR, target);
  console.log(`   ${target} runs ${after.versionId === v2.id ? 'v2' : after.versionId} again, no candidate: ${after.candidate === null}`);
} finally {
  await host.close();
}

function summary(report: ReplayReport): string {
  const { totals, fuel } = report;
  return (
    `${fmt(totals.records)} records: ${totals.same} same, ${totals.changed} changed, ${totals.newlyFailing} newly failing, ` +
    `${totals.notReplayable} not replayable; fuel p99 ${fmt(fuel.before.p99)} -> ${fmt(fuel.after.p99)} (${fmt(fuel.ratio, 2)}×)`
  );
}
