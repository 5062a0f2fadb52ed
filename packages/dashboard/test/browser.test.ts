// The dashboard in a real browser: Debian's Chromium driven by playwright-core, against the API server
// on a loopback port over the invoicing demo's data (test/demo.ts). axe-core checks every page; each
// page's screenshot goes to .screenshots/ (gitignored).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { OPERATOR } from '@tenon/platform';
import { type Browser, chromium, type Page } from 'playwright-core';
import { DISCOUNTS_POINT } from '../../../examples/invoicing/src/discounts.js';
import { sampleInvoice } from '../../../examples/invoicing/src/sample-invoices.js';
import { ARGS, CHROMIUM, check, type Demo, demo, loyaltyV2, OPERATOR_KEY, signIn } from './demo.js';

const present = existsSync(CHROMIUM);
if (!present) console.log(`# dashboard browser tests SKIPPED: ${CHROMIUM} is missing (apt-get install -y chromium)`);

/** Pixels of the ok outcome's green (Chart.js bars) on the page's first canvas. */
function greenPixels(page: Page): Promise<number> {
  return page.evaluate(() => {
    const canvas = document.querySelector('canvas');
    if (canvas === null) return 0;
    const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? [];
    let n = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] === 46 && data[i + 1] === 125 && data[i + 2] === 50) n++;
    return n;
  });
}

describe('the dashboard in Chromium, on the demo', { skip: present ? false : `${CHROMIUM} is missing` }, () => {
  let d: Demo;
  let browser: Browser;
  const context = () => browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  before(async () => {
    d = await demo();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  after(async () => {
    await browser?.close();
    await d?.close();
  });

  it("an operator signs in, reads the overview, points, runs and a run's input, output and host calls, and signs out", async () => {
    // axe is injected as a script: the page's CSP would refuse it, as it refuses anything not ours.
    const ctx = await context();
    try {
      const first = await ctx.newPage();
      await first.goto(d.base);
      await first.getByLabel('API key (operator or partner)').waitFor();
      await check(first, 'sign-in');
      await first.getByLabel('API key (operator or partner)').fill('tpk_wrong');
      await first.getByRole('button', { name: 'Sign in' }).click();
      await first.getByRole('alert').filter({ hasText: 'UNAUTHORIZED' }).waitFor();
      await first.close();

      const page = await signIn(ctx, d.base, OPERATOR_KEY);
      assert.deepEqual(
        (await ctx.cookies()).map((c) => [c.name, c.httpOnly, c.sameSite]),
        [['tenon_session', true, 'Strict']],
      );
      await page.getByTestId('runs').filter({ hasText: /\d/ }).waitFor();
      const stats = await d.platform.records.stats(OPERATOR, {});
      assert.ok(stats.runs > 200, `the demo recorded runs (${stats.runs})`);
      assert.equal(await page.getByTestId('runs').textContent(), stats.runs.toLocaleString('en'));
      // The outcomes chart holds data: its canvas carries ok's green bars, drawn once Chart.js's chunk is in.
      await page.waitForFunction(() => document.querySelector('canvas') !== null);
      let green = 0;
      for (let i = 0; i < 50 && green <= 50; i++) {
        green = await greenPixels(page);
        if (green <= 50) await page.waitForTimeout(100);
      }
      assert.ok(green > 50, `the outcomes chart has bars (${green} green pixels)`);
      await page.getByTestId('events').getByText('version.validated').first().waitFor();
      await check(page, 'overview');

      await page.getByRole('link', { name: 'Extension points' }).click();
      const budget = page.getByTestId('budget').first();
      await budget.waitFor();
      const { fuel, fuelPerInputKiB = 0, maxFuelScale = 1 } = DISCOUNTS_POINT.limits;
      const f = (n: number) => n.toLocaleString('en');
      assert.equal(await budget.textContent(), `fuel = ${f(fuel)} + ${f(fuelPerInputKiB)} × input KiB, at most ${f(maxFuelScale * fuel)}`);
      await page.getByRole('cell', { name: 'bistro-sud' }).first().waitFor();
      await check(page, 'extension-points');

      await page.getByRole('link', { name: 'Runs' }).click();
      await page.getByLabel('tenant').fill('atelier-nord');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.getByTestId('runs').getByRole('cell', { name: 'cycles-est' }).first().waitFor({ state: 'detached' });
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByText('page 2').waitFor();
      await page.getByTestId('runs').getByRole('button').first().click();
      const detail = page.getByTestId('run-detail');
      await detail.waitFor();
      const text = (await detail.textContent()) ?? '';
      assert.match(text, /tenant atelier-nord/);
      // The invoice in, the partner's answer out; the demo's point offers no host functions.
      assert.match(text, /Input.*Output.*Config.*Host calls/s);
      assert.match(text, /"id": "INV-\d{7}"/);
      assert.match(text, /"discounts": \[/);
      assert.match(text, /None: the run asked nothing outside the plug-in/);
      // score.lookup's plug-in asks the host's lookup: the question and the answer, from the run's tape.
      await page.getByLabel('extensionPoint').fill('score.lookup');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.getByText('page 1').waitFor();
      await page.getByTestId('runs').getByRole('cell', { name: 'invoice.discounts' }).first().waitFor({ state: 'detached' });
      await page.getByTestId('runs').getByRole('button').first().click();
      const calls = page.getByTestId('run-detail').getByTestId('host-calls');
      await calls.waitFor();
      assert.deepEqual(await calls.locator('tbody td').allTextContents(), ['1', 'host function lookup', '{"n":4}', '{"n":40}']);
      await check(page, 'runs');
      // logs.chatty's plug-in logs: its input at info, then a tick per input byte at warn.
      await page.getByLabel('extensionPoint').fill('logs.chatty');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.getByTestId('runs').getByRole('cell', { name: 'score.lookup' }).first().waitFor({ state: 'detached' });
      await page.getByTestId('runs').getByRole('button').first().click();
      const logs = page.getByTestId('run-detail').getByTestId('run-logs');
      await logs.waitFor();
      assert.equal(await logs.textContent(), ['info  {"n":7}', ...Array(7).fill('warn  tick')].join('\n'));

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      assert.equal(await page.evaluate(async () => (await fetch('v1/session')).status), 401);
      assert.equal(await page.evaluate(async () => (await fetch('v1/runs')).status), 401);
    } finally {
      await ctx.close();
    }
  });

  it('an operator uploads a version and reads its report, replays it, opens a diff, then starts a canary and promotes it', async () => {
    const ctx = await context();
    try {
      const loyalty = d.partners.get('loyalty');
      assert.ok(loyalty !== undefined);
      const page = await signIn(ctx, d.base, OPERATOR_KEY);
      await page.getByRole('link', { name: 'Plug-ins' }).click();
      await page.getByRole('link', { name: 'loyalty' }).click();
      await page.getByRole('heading', { name: 'Plug-in loyalty' }).waitFor();
      // A drop of a .wasm, as the browser makes it: a DataTransfer holding the file.
      await page.getByTestId('drop').evaluate(
        (zone, data) => {
          const transfer = new DataTransfer();
          transfer.items.add(new File([new Uint8Array(data)], 'plugin-v2.wasm', { type: 'application/wasm' }));
          zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
        },
        [...loyaltyV2()],
      );
      const report = page.getByTestId('upload-report');
      await report.getByText('validated', { exact: true }).waitFor();
      assert.match((await report.textContent()) ?? '', /simulation .*ok.*fuel [\d,]+ of [\d,]+/);
      await check(page, 'plugin');

      await report.getByRole('button', { name: 'Replay on recorded runs' }).click();
      await page.getByRole('heading', { name: /^Replay of / }).waitFor();
      const totals = (await page.getByTestId('totals').textContent()) ?? '';
      const changed = Number(/changed([\d,]+)/.exec(totals)?.[1]?.replaceAll(',', ''));
      assert.ok(changed > 0, `silver customers' invoices change (${totals})`);
      assert.match((await page.getByTestId('verdict').textContent()) ?? '', /^Passed the gate$/);
      await page.getByTestId('replay-results').getByRole('button', { name: 'changed' }).first().click();
      const diff = page.getByTestId('diff');
      await diff.waitFor();
      const rows = await diff.locator('tbody tr').allTextContents();
      // The outcome row, then at least one path whose value differs left and right.
      assert.ok(rows.length >= 2, rows.join(' | '));
      const cells = await diff.locator('tbody tr').nth(1).locator('td').allTextContents();
      assert.equal(cells.length, 2);
      assert.notEqual(cells[0], cells[1]);
      assert.ok(!cells.includes('hidden'));
      await check(page, 'replay');
      await page.getByRole('link', { name: 'Replays' }).click();
      await page.getByTestId('replays').getByRole('row').nth(1).waitFor();
      await check(page, 'replays');

      await page.getByRole('link', { name: 'Installations' }).click();
      await page.getByRole('button', { name: "rollout of bistro-sud's" }).filter({ hasText: 'bistro-sud' }).first().waitFor();
      const target = (await d.platform.installations.list(OPERATOR, { tenant: 'bistro-sud', plugin: loyalty.plugin }))[0];
      assert.ok(target !== undefined);
      await page.getByRole('button', { name: `rollout of bistro-sud's ${loyalty.plugin}` }).click();
      const rollout = page.getByTestId('rollout');
      await rollout.getByLabel('share of runs (%)').fill('20');
      await rollout.getByRole('button', { name: 'Start candidate' }).click();
      await rollout.getByTestId('comparison').waitFor();
      // Traffic while the canary runs: the comparison, read again every few seconds, shows both versions' runs.
      for (let n = 1000; n < 1060; n++) {
        const invoice = sampleInvoice(n);
        await d.platform.run(OPERATOR, 'invoice.discounts', { tenant: 'bistro-sud', key: invoice.id, input: invoice });
      }
      const runsRow = rollout.getByTestId('comparison').getByRole('row', { name: /^runs / });
      await runsRow.filter({ hasText: /^runs[1-9][\d,]*[1-9][\d,]*$/ }).waitFor();
      const [current, next] = (await runsRow.locator('td').allTextContents()).map((t) => Number(t.replaceAll(',', '')));
      assert.equal(
        (current ?? 0) + (next ?? 0),
        60,
        `every run of bistro-sud's loyalty installation is counted once (${current} + ${next})`,
      );
      const started = await d.platform.installations.get(OPERATOR, target.id);
      assert.equal(started.candidate?.percent, 20);
      const candidate = started.candidate?.version;
      assert.ok(candidate !== undefined && candidate !== target.versionId);
      await check(page, 'installations');
      await rollout.getByRole('button', { name: 'Promote' }).click();
      await rollout.getByRole('button', { name: 'Start candidate' }).waitFor();
      const promoted = await d.platform.installations.get(OPERATOR, target.id);
      assert.equal(promoted.versionId, candidate);
      assert.equal(promoted.candidate, null);
    } finally {
      await ctx.close();
    }
  });

  it("a partner sees only its own plug-ins, runs and replays, without tenants' data, and not another's plug-in by link", async () => {
    const ctx = await context();
    try {
      const volume = d.partners.get('volume');
      const loyalty = d.partners.get('loyalty');
      assert.ok(volume !== undefined && loyalty !== undefined);
      // A replay of loyalty's: volume must not see it in its list.
      const loyaltyVersions = await d.platform.versions.list(OPERATOR, loyalty.plugin);
      const ownReplay = await d.platform.replays.create(OPERATOR, { version: loyaltyVersions[0]?.id ?? '', records: 10 });
      const page = await signIn(ctx, d.base, volume.key);
      assert.equal(await page.getByTestId('who').textContent(), 'partner volume');
      assert.equal(await page.getByRole('link', { name: 'Installations' }).count(), 0);
      await page.getByTestId('runs').filter({ hasText: /\d/ }).waitFor();
      const own = await d.platform.records.stats({ kind: 'partner', partnerId: volume.id }, {});
      assert.equal(await page.getByTestId('runs').textContent(), own.runs.toLocaleString('en'));
      await check(page, 'partner-overview');

      await page.getByRole('link', { name: 'Plug-ins' }).click();
      await page.getByRole('link', { name: 'volume' }).waitFor();
      assert.equal(await page.getByRole('link', { name: 'loyalty' }).count(), 0);
      assert.equal(await page.getByTestId('plugins').getByRole('row').count(), 2);

      await page.goto(`${d.base}/#/plugins/${loyalty.plugin}`);
      await page.getByRole('alert').waitFor();
      assert.match((await page.getByRole('alert').textContent()) ?? '', /^NOT_FOUND: /);
      await page.goto(`${d.base}/#/replays/${ownReplay.id}`);
      await page.getByRole('alert').waitFor();
      assert.match((await page.getByRole('alert').textContent()) ?? '', /^NOT_FOUND: /);

      await page.goto(`${d.base}/#/replays`);
      await page
        .getByText(/No replays yet|replayed/)
        .first()
        .waitFor();
      assert.equal(await page.getByText(loyalty.plugin).count(), 0);
      await check(page, 'partner-replays');

      await page.goto(`${d.base}/#/runs`);
      await page.getByTestId('runs').getByRole('button').first().click();
      const detail = page.getByTestId('run-detail');
      await detail.waitFor();
      const text = (await detail.textContent()) ?? '';
      assert.doesNotMatch(text, /atelier|bistro|cycles|INV-|Host calls/);
      assert.match(text, /partners see outcomes and costs only/);
      assert.equal(await page.getByLabel('tenant').count(), 0);
      await check(page, 'partner-runs');
    } finally {
      await ctx.close();
    }
  });
});
