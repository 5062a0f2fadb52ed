import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OPERATOR, type RuleContext } from '@tenon/platform';
import { type InvoicingPlatform, openPlatform } from '../dist/host-platform.js';
import { MERCHANTS, PARTNERS } from '../dist/partners.js';
import { alone, invoice, invoicingHost } from './invoices.js';

let host: InvoicingPlatform & AsyncDisposable;
before(async () => {
  host = await invoicingHost();
});
after(() => host.close());

/** The context a run gives the host's rules for the hostile partner (allowed: PROMO_1), after `earlier` answers. */
const context = (earlier: unknown[] = []): RuleContext => ({
  tenant: 'atelier-nord',
  key: undefined,
  installation: 'test',
  plugin: 'test',
  partner: host.partnerIds.get('hostile') as string,
  config: {},
  earlier,
});
const judge = (answer: unknown, earlier: unknown[] = [], input = invoice(1)) => {
  const verdict = host.point.judge(input, typeof answer === 'string' ? answer : JSON.stringify(answer), context(earlier));
  return verdict.outcome === 'ok' ? 'accepted' : `${verdict.code}: ${verdict.message}`;
};

describe('invoice.discounts judges every answer before the host applies it', () => {
  it('accepts discounts on the invoice and on a line, within the rules', () => {
    const answer = {
      discounts: [
        { code: 'PROMO_1', amount_cents: 500, reason: 'welcome' },
        { code: 'PROMO_1', amount_cents: 1490, line: 1 },
      ],
    };
    assert.deepEqual(host.point.judge(invoice(1), JSON.stringify(answer), context()), { outcome: 'ok', output: answer });
    assert.equal(judge({ discounts: [] }), 'accepted');
  });

  it('rejects an answer that is not JSON', () => {
    assert.equal(judge('{"discounts": ['), 'ANSWER_NOT_JSON: the answer is not JSON: "{\\"discounts\\": ["');
  });

  for (const [what, answer, detail] of [
    ['a missing list', {}, /must have required property 'discounts'/],
    ['an amount that is a string', { discounts: [{ code: 'PROMO_1', amount_cents: '5' }] }, /\/discounts\/0\/amount_cents must be integer/],
    ['a negative amount', { discounts: [{ code: 'PROMO_1', amount_cents: -5 }] }, /amount_cents must be >= 1/],
    ['a fractional amount', { discounts: [{ code: 'PROMO_1', amount_cents: 1.5 }] }, /must be integer/],
    ['a code that is not a code', { discounts: [{ code: 'promo 1', amount_cents: 5 }] }, /code must match pattern/],
    [
      'a property the schema does not know',
      { discounts: [{ code: 'PROMO_1', amount_cents: 5, customer_email: 'x' }] },
      /must NOT have additional properties/,
    ],
    [
      'more than 50 discounts',
      { discounts: Array.from({ length: 51 }, () => ({ code: 'PROMO_1', amount_cents: 1 })) },
      /must NOT have more than 50 items/,
    ],
    [
      'a reason over 200 characters',
      { discounts: [{ code: 'PROMO_1', amount_cents: 5, reason: 'x'.repeat(201) }] },
      /reason must NOT have more than 200 characters/,
    ],
  ] as const) {
    it(`rejects ${what} with SCHEMA`, () => {
      const verdict = judge(answer);
      assert.match(verdict, /^SCHEMA: the answer breaks the invoice.discounts output schema: /);
      assert.match(verdict, detail);
    });
  }

  it('rejects a code outside the partner’s allowed set, naming the set', () => {
    assert.equal(
      judge({ discounts: [{ code: 'FREE_MONEY', amount_cents: 1 }] }),
      'CODE_NOT_ALLOWED: code "FREE_MONEY" is not one this partner may use (PROMO_1)',
    );
  });

  it('rejects a discount on a line the invoice does not have, or over that line', () => {
    assert.equal(
      judge({ discounts: [{ code: 'PROMO_1', amount_cents: 1, line: 2 }] }),
      'LINE_INVALID: line 2 does not exist on INV-0000001 (2 lines)',
    );
    assert.equal(
      judge({ discounts: [{ code: 'PROMO_1', amount_cents: 1491, line: 1 }] }),
      'EXCEEDS_LINE: 1491 cents off line 1, which is 1490 cents',
    );
  });

  it('rejects discounts that add up past the invoice total, alone or with the partners that answered before', () => {
    assert.equal(
      judge({
        discounts: [
          { code: 'PROMO_1', amount_cents: 516290 },
          { code: 'PROMO_1', amount_cents: 1 },
        ],
      }),
      'EXCEEDS_TOTAL: 516291 cents of discounts on an invoice of 516290 cents',
    );
    assert.equal(judge({ discounts: [{ code: 'PROMO_1', amount_cents: 516290 }] }), 'accepted');
    const earlier = [
      { discounts: [{ code: 'LOYALTY_GOLD', amount_cents: 516000 }] },
      { discounts: [{ code: 'VOLUME_10', amount_cents: 100 }] },
    ];
    assert.equal(
      judge({ discounts: [{ code: 'PROMO_1', amount_cents: 200 }] }, earlier),
      'EXCEEDS_TOTAL: 200 cents of discounts with 516100 cents granted by earlier partners on an invoice of 516290 cents',
    );
  });

  it('refuses to run an invoice outside its own schema (a host bug), with INVALID', async () => {
    await assert.rejects(host.point.run({ tenant: 'atelier-nord', input: invoice(1, { lines: [] }) }), {
      name: 'PlatformError',
      code: 'INVALID',
      message: 'input.lines: breaks the invoice.discounts input schema: must NOT have fewer than 1 items',
    });
    await assert.rejects(host.point.run({ tenant: 'atelier-nord', input: { ...invoice(1), extra: true } as never }), {
      code: 'INVALID',
      message: /must NOT have additional properties/,
    });
  });
});

describe('partners upload through the platform', () => {
  it('every partner’s plug-in passes every check and simulation within its budget', () => {
    for (const partner of PARTNERS) {
      const upload = host.uploads.find((u) => u.partner.name === partner.name);
      assert.equal(upload?.version.status, 'validated', partner.name);
      assert.equal(upload?.version.report.simulations.length, 10);
      for (const s of upload?.version.report.simulations ?? []) assert.ok(s.ok && s.fuel < s.budget, `${partner.name}: ${s.name}`);
    }
  });

  it('a plug-in importing a host function the point does not offer is refused, and can never be installed', async () => {
    const refused = host.uploads.find((u) => u.partner.name === 'fx-rates');
    assert.equal(refused?.version.status, 'rejected');
    assert.deepEqual(refused?.version.report.checks.at(-1), {
      name: 'imports',
      ok: false,
      message: 'imports what the extension point does not offer: extism:host/user.exchange_rate (offered: extism:host/env)',
    });
    await assert.rejects(
      host.platform.installations.create(OPERATOR, {
        tenant: 'atelier-nord',
        plugin: refused?.version.pluginId as string,
        version: refused?.version.id as string,
      }),
      { code: 'VERSION_REJECTED' },
    );
  });

  it('each merchant runs the partners it installed, in its order', async () => {
    for (const merchant of MERCHANTS) {
      const { results } = await host.point.run({ tenant: merchant.tenant, input: invoice(1) });
      assert.deepEqual(
        results.map((r) => host.partnerById.get(r.partner)?.name),
        merchant.partners,
      );
    }
  });

  it('setting the platform up again on its store (a resumed run) finds everything and changes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tenon-invoicing-platform-'));
    try {
      const store = `sqlite:${join(dir, 'platform.db')}`;
      const first = await openPlatform(store);
      const events = (await first.platform.events.list(OPERATOR, { limit: 1000 })).items;
      await first.close();
      const second = await openPlatform(store);
      try {
        assert.deepEqual((await second.platform.events.list(OPERATOR, { limit: 1000 })).items, events);
        assert.deepEqual(second.installations, first.installations);
        assert.deepEqual(
          second.uploads.map((u) => u.version),
          first.uploads.map((u) => u.version),
        );
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the partners answer through the extension point', () => {
  it('loyalty (AssemblyScript, config) gives a gold customer 5% and a tenth-year bonus', async () => {
    const outcome = await (await alone(host, 'loyalty'))(invoice(1));
    assert.deepEqual(outcome.output, {
      discounts: [
        { code: 'LOYALTY_GOLD', amount_cents: 25814, reason: 'gold customer: 500 basis points' },
        { code: 'LOYALTY_ANNIVERSARY', amount_cents: 1500, reason: '10 years a customer' },
      ],
    });
    assert.ok(outcome.fuel > 0 && outcome.fuel < outcome.budget);
  });

  it('loyalty gives nothing to a customer without a tier under the minimum', async () => {
    const small = invoice(1, {
      customer: { id: 'C-1', tier: 'none', country: 'FR', customer_since: '2025-01-01' },
      total_cents: 1490,
      lines: [invoice(1).lines[1] as never],
    });
    assert.deepEqual((await (await alone(host, 'loyalty'))(small)).output, { discounts: [] });
  });

  it('volume (C) takes 5% off a line of 10 units or more, 10% from 50', async () => {
    const bulk = invoice(1, {
      lines: [
        { sku: 'A', description: 'Pens "blue", 10\\box', quantity: 60, unit_price_cents: 100, amount_cents: 6000 },
        { sku: 'B', description: 'Desk', quantity: 12, unit_price_cents: 1000, amount_cents: 12000 },
        { sku: 'C', description: 'Chair', quantity: 9, unit_price_cents: 1000, amount_cents: 9000 },
      ],
      total_cents: 27000,
    });
    assert.deepEqual((await (await alone(host, 'volume'))(bulk)).output, {
      discounts: [
        { code: 'VOLUME_50', amount_cents: 600, line: 0, reason: '60 units: 10%' },
        { code: 'VOLUME_10', amount_cents: 600, line: 1, reason: '12 units: 5%' },
      ],
    });
  });

  it('uses the same fuel for the same invoice, run after run', async () => {
    const ask = await alone(host, 'volume');
    const fuel = [(await ask(invoice(1))).fuel, (await ask(invoice(1))).fuel, (await ask(invoice(1))).fuel];
    assert.equal(new Set(fuel).size, 1, String(fuel));
  });
});
