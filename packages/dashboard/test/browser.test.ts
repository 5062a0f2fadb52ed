// The dashboard in a real browser: Debian's Chromium driven by playwright-core, against the API
// server on a loopback port with two partners' plug-ins, installations and recorded runs. axe-core
// checks every page; each page's screenshot goes to .screenshots/ (gitignored).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { fixture, OPERATOR_KEY, type World, world } from '../../server/test/world.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SHOTS = new URL('../../../.screenshots/', import.meta.url);
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const present = existsSync(CHROMIUM);
if (!present) console.log(`# dashboard browser tests SKIPPED: ${CHROMIUM} is missing (apt-get install -y chromium)`);

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

async function check(page: Page, name: string): Promise<void> {
  assert.deepEqual(await axe(page), [], `axe on ${name}`);
  await page.screenshot({ path: new URL(`${name}.png`, SHOTS).pathname, fullPage: true });
}

async function signIn(context: BrowserContext, base: string, key: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(base);
  await page.getByLabel('API key (operator or partner)').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return page;
}

describe('the dashboard in Chromium', { skip: present ? false : `${CHROMIUM} is missing` }, () => {
  let w: World;
  let browser: Browser;
  let base: string;
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    w = await world();
    // Demo-like traffic: Bob installed for a second tenant too, and a few hundred recorded runs.
    const bobInstall = await w.call({
      method: 'POST',
      url: '/v1/installations',
      payload: { tenant: 'merchant-b', plugin: w.bob.plugin, version: w.bob.version },
    });
    assert.equal(bobInstall.statusCode, 201, bobInstall.body);
    for (let i = 0; i < 150; i++) {
      for (const tenant of ['merchant-secret', 'merchant-b']) {
        await w.platform.run({ kind: 'operator' }, 'text.vowels', { tenant, input: `invoice ${i} ${'aeiou'.repeat(i % 20)}` });
      }
    }
    await w.platform.flush();
    base = await w.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  after(async () => {
    await browser?.close();
    await w?.close();
  });

  it('an operator signs in, sees charts with data, reads every page, uploads a version and reads its report, signs out', async () => {
    // axe is injected as a script: the page's CSP would refuse it, as it refuses anything not ours.
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
    try {
      const first = await context.newPage();
      await first.goto(base);
      await first.getByLabel('API key (operator or partner)').waitFor();
      await check(first, 'sign-in');
      const wrong = first.getByLabel('API key (operator or partner)');
      await wrong.fill('tpk_wrong');
      await first.getByRole('button', { name: 'Sign in' }).click();
      await first.getByRole('alert').filter({ hasText: 'UNAUTHORIZED' }).waitFor();
      await first.close();

      const page = await signIn(context, base, OPERATOR_KEY);
      const cookies = await context.cookies();
      assert.deepEqual(
        cookies.map((c) => [c.name, c.httpOnly, c.sameSite]),
        [['tenon_session', true, 'Strict']],
      );
      await page.getByTestId('runs').filter({ hasText: /\d/ }).waitFor();
      assert.equal(await page.getByTestId('runs').textContent(), '301');
      // The outcomes chart holds data: its canvas carries the bars' colour (ok's green), drawn by Chart.js.
      const green = await page.evaluate(() => {
        const canvas = document.querySelector('canvas');
        if (canvas === null) return 0;
        const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? [];
        let n = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i] === 46 && data[i + 1] === 125 && data[i + 2] === 50) n++;
        return n;
      });
      assert.ok(green > 50, `the outcomes chart has bars (${green} green pixels)`);
      await page.getByTestId('events').getByText('version.validated').first().waitFor();
      await check(page, 'overview');

      await page.getByRole('link', { name: 'Extension points' }).click();
      await page.getByTestId('budget').waitFor();
      assert.equal(await page.getByTestId('budget').textContent(), 'fuel = 1,000,000 + 100,000 × input KiB, at most 10,000,000');
      await page.getByRole('cell', { name: 'merchant-b' }).waitFor();
      await check(page, 'extension-points');

      await page.getByRole('link', { name: 'Plug-ins' }).click();
      await page.getByRole('link', { name: 'alice-vowels' }).click();
      await page.getByRole('heading', { name: 'Plug-in alice-vowels' }).waitFor();
      // A drop of a .wasm, as the browser makes it: a DataTransfer holding the file.
      const bytes = [...fixture('count_vowels_c')];
      await page.getByTestId('drop').evaluate((zone, data) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(data)], 'plugin.wasm', { type: 'application/wasm' }));
        zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      }, bytes);
      const report = page.getByTestId('upload-report');
      await report.getByText('validated').waitFor();
      assert.match((await report.textContent()) ?? '', /simulation greeting.*ok.*fuel [\d,]+ of 1,001,464/);
      await check(page, 'plugin');

      await page.getByRole('link', { name: 'Installations' }).click();
      await page.getByRole('button', { name: 'Disable' }).first().click();
      await page.getByRole('button', { name: 'Enable' }).first().waitFor();
      const installed = (await w.call({ method: 'GET', url: '/v1/installations' })).json() as { enabled: boolean }[];
      assert.equal(installed.filter((i) => !i.enabled).length, 1, 'exactly the one installation disabled');
      assert.ok(installed.length > 1);
      await page.getByRole('button', { name: 'Enable' }).first().click();
      await page.getByRole('button', { name: 'Enable' }).first().waitFor({ state: 'detached' });
      await check(page, 'installations');

      await page.getByRole('link', { name: 'Runs' }).click();
      await page.getByLabel('tenant').fill('merchant-secret');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.getByTestId('runs').getByRole('cell', { name: 'merchant-b' }).first().waitFor({ state: 'detached' });
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByText('page 2').waitFor();
      await page.getByTestId('runs').getByRole('button').first().click();
      const detail = page.getByTestId('run-detail');
      await detail.waitFor();
      assert.match((await detail.textContent()) ?? '', /tenant merchant-secret/);
      await check(page, 'runs');

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      const status = await page.evaluate(async () => (await fetch('v1/session')).status);
      assert.equal(status, 401);
    } finally {
      await context.close();
    }
  });

  it("a partner sees only its own plug-ins and runs, without tenants' data, and not another partner's plug-in by link", async () => {
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
    try {
      const page = await signIn(context, base, w.bob.key);
      assert.equal(await page.getByTestId('who').textContent(), 'partner bob');
      assert.equal(await page.getByRole('link', { name: 'Installations' }).count(), 0);
      await page.getByTestId('runs').filter({ hasText: /\d/ }).waitFor();
      assert.equal(await page.getByTestId('runs').textContent(), '150');
      await check(page, 'partner-overview');

      await page.getByRole('link', { name: 'Plug-ins' }).click();
      await page.getByRole('link', { name: 'bob-vowels' }).waitFor();
      assert.equal(await page.getByRole('link', { name: 'alice-vowels' }).count(), 0);
      assert.equal(await page.getByTestId('plugins').getByRole('row').count(), 2);

      await page.goto(`${base}/#/plugins/${w.alice.plugin}`);
      await page.getByRole('alert').waitFor();
      assert.match((await page.getByRole('alert').textContent()) ?? '', /^NOT_FOUND: /);
      assert.equal(await page.getByText('alice-vowels').count(), 0);

      await page.goto(`${base}/#/runs`);
      await page.getByTestId('runs').getByRole('button').first().click();
      const detail = page.getByTestId('run-detail');
      await detail.waitFor();
      const text = (await detail.textContent()) ?? '';
      assert.doesNotMatch(text, /merchant|invoice|aeiou/);
      assert.match(text, /partners see outcomes and costs only/);
      assert.equal(await page.getByLabel('tenant').count(), 0);
      await check(page, 'partner-runs');
    } finally {
      await context.close();
    }
  });
});
