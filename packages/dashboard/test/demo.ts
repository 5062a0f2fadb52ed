// The browser tests' world: the invoicing demo's platform (its point, partners, merchants and
// installations, as `npm start` sets them up), every run recorded, a few hundred of the demo's
// invoices run through it, an operator key and two partners' keys, and the API with the dashboard
// on a loopback port. Also what every browser test does: axe-core on a page, its screenshot, sign-in.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPERATOR, type Platform } from '@tenon/platform';
import { createServer } from '@tenon/server';
import type { BrowserContext, Page } from 'playwright-core';
import { DISCOUNTS_POINT, discountRules } from '../../../examples/invoicing/src/discounts.js';
import { openPlatform } from '../../../examples/invoicing/src/host-platform.js';
import type { Invoice } from '../../../examples/invoicing/src/invoices.js';
import { merchantOf } from '../../../examples/invoicing/src/partners.js';
import { sampleInvoice } from '../../../examples/invoicing/src/sample-invoices.js';
import { CHATTY_POINT, chattyModule } from '../../server/test/chatty-point.js';
import { LOOKUP_POINT, lookup, lookupModule } from '../../server/test/lookup-point.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const OPERATOR_KEY = 'tnn_op_dashboard_test_0123456789abcdef';
/** Invoices run before the tests. */
export const INVOICES = 240;

const SHOTS = new URL('../../../.screenshots/', import.meta.url);
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Loyalty's next release (silver customers get 100 basis points more), as the demo builds it. */
export function loyaltyV2(): Buffer {
  return readFileSync(new URL('../../../examples/invoicing/partners/loyalty/build/plugin-v2.wasm', import.meta.url));
}

export interface Demo {
  base: string;
  platform: Platform;
  /** Each partner's platform id and a key for it, by name. */
  partners: Map<string, { id: string; key: string; plugin: string }>;
  close(): Promise<void>;
}

export async function demo(): Promise<Demo> {
  mkdirSync(SHOTS, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'tenon-dashboard-test-'));
  const host = await openPlatform(`sqlite:${join(dir, 'demo.db')}`);
  const { platform } = host;
  try {
    await platform.ensureOperatorKey(OPERATOR_KEY);
    // Every run recorded (the demo samples 5%), as the rollout demo does, so replays have records.
    const point = await platform.extensionPoint<Invoice>(
      { ...DISCOUNTS_POINT, record: { sample: 1, retain: 100_000 } },
      { rules: discountRules((partnerId) => host.partnerById.get(partnerId)?.allowedCodes ?? []) },
    );
    for (let n = 1; n <= INVOICES; n++) {
      const invoice = sampleInvoice(n);
      await point.run({ tenant: merchantOf(invoice.id).tenant, key: invoice.id, input: invoice });
    }
    await platform.extensionPoint(LOOKUP_POINT, { hostFunctions: [lookup] });
    const scorer = await platform.partners.create(OPERATOR, { name: 'scorer' });
    const scorerActor = { kind: 'partner', partnerId: scorer.id } as const;
    const scorerPlugin = await platform.plugins.create(scorerActor, { name: 'scorer', extensionPoint: LOOKUP_POINT.name });
    // Beside the demo: a point whose plug-in asks the host's lookup, so some runs carry host calls.
    const scorerVersion = await platform.versions.upload(scorerActor, scorerPlugin.id, lookupModule());
    assert.equal(scorerVersion.status, 'validated', JSON.stringify(scorerVersion.report));
    await platform.installations.create(OPERATOR, {
      tenant: 'atelier-nord',
      plugin: scorerPlugin.id,
      version: scorerVersion.id,
      grants: { hostFunctions: ['lookup'] },
    });
    for (const n of [4, 5, 6]) await platform.run(OPERATOR, LOOKUP_POINT.name, { tenant: 'atelier-nord', input: { n } });
    // And one whose plug-in logs, so a run's detail has log lines (its own partner: the others' plug-in lists stay as they were).
    await platform.extensionPoints.define(OPERATOR, CHATTY_POINT);
    const chatter = await platform.partners.create(OPERATOR, { name: 'chatter' });
    const chatterActor = { kind: 'partner', partnerId: chatter.id } as const;
    const chatterPlugin = await platform.plugins.create(chatterActor, { name: 'chatter', extensionPoint: CHATTY_POINT.name });
    const chatterVersion = await platform.versions.upload(chatterActor, chatterPlugin.id, chattyModule());
    assert.equal(chatterVersion.status, 'validated', JSON.stringify(chatterVersion.report));
    await platform.installations.create(OPERATOR, { tenant: 'atelier-nord', plugin: chatterPlugin.id, version: chatterVersion.id });
    await platform.run(OPERATOR, CHATTY_POINT.name, { tenant: 'atelier-nord', input: { n: 7 } });
    await platform.flush();
    const partners = new Map<string, { id: string; key: string; plugin: string }>();
    for (const [name, id] of [...host.partnerIds, ['scorer', scorer.id] as const]) {
      const { key } = await platform.partners.rotateKey(OPERATOR, id);
      const [plugin] = await platform.plugins.list({ kind: 'partner', partnerId: id });
      assert.ok(plugin !== undefined, `${name} has a plug-in`);
      partners.set(name, { id, key, plugin: plugin.id });
    }
    const app = await createServer({ platform, rateLimit: false });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    return {
      base,
      platform,
      partners,
      async close() {
        await app.close();
        await host.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await host.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** axe-core on the page as it is: every serious or critical violation, as readable lines. */
async function axe(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE });
  const violations = await page.evaluate(async () => {
    const result = await (
      window as unknown as { axe: { run: () => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }
    ).axe.run();
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.targets.join(', ')}`);
}

/** No serious or critical axe violation on the page, and its screenshot in .screenshots/<name>.png. */
export async function check(page: Page, name: string): Promise<void> {
  assert.deepEqual(await axe(page), [], `axe on ${name}`);
  await page.screenshot({ path: new URL(`${name}.png`, SHOTS).pathname, fullPage: true });
}

export async function signIn(context: BrowserContext, base: string, key: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(base);
  await page.getByLabel('API key (operator or partner)').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return page;
}
