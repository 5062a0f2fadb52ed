import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Plugin } from '@tenon/runtime';
import { type DiscountContext, invoiceDiscounts } from '../dist/discounts.js';
import { loadPartner, PARTNERS } from '../dist/partners.js';
import { invoice } from './invoices.js';

/** A verdict as one line, `REASON: detail`, to match in one assertion. */
const refusal = (verdict: { ok: true } | { ok: false; reason: string; detail: string }) =>
  verdict.ok ? 'accepted' : `${verdict.reason}: ${verdict.detail}`;
const context = (codes: string[], alreadyDiscountedCents = 0): DiscountContext => ({
  allowedCodes: codes,
  alreadyDiscountedCents,
});
const judge = (answer: unknown, ctx = context(['PROMO_1']), input = invoice(1)) =>
  invoiceDiscounts.judge(input, typeof answer === 'string' ? answer : JSON.stringify(answer), ctx);

describe('invoice.discounts judges every answer before the host applies it', () => {
  it('accepts discounts on the invoice and on a line, within the rules', () => {
    const answer = {
      discounts: [
        { code: 'PROMO_1', amount_cents: 500, reason: 'welcome' },
        { code: 'PROMO_1', amount_cents: 1490, line: 1 },
      ],
    };
    assert.deepEqual(judge(answer), { ok: true, value: answer });
    assert.deepEqual(judge({ discounts: [] }), { ok: true, value: { discounts: [] } });
  });

  it('rejects an answer that is not JSON', () => {
    assert.deepEqual(judge('{"discounts": ['), {
      ok: false,
      kind: 'rejected',
      reason: 'ANSWER_NOT_JSON',
      detail: 'the answer is not JSON: "{\\"discounts\\": ["',
    });
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
    it(`rejects ${what} with ANSWER_INVALID`, () => {
      const verdict = refusal(judge(answer));
      assert.match(verdict, /^ANSWER_INVALID: the answer breaks the invoice.discounts schema: /);
      assert.match(verdict, detail);
    });
  }

  it('rejects a code outside the partner allowed set, naming the set', () => {
    assert.deepEqual(judge({ discounts: [{ code: 'FREE_MONEY', amount_cents: 1 }] }, context(['PROMO_1', 'PROMO_2'])), {
      ok: false,
      kind: 'rejected',
      reason: 'CODE_NOT_ALLOWED',
      detail: 'code "FREE_MONEY" is not one this partner may use (PROMO_1, PROMO_2)',
    });
  });

  it('rejects a discount on a line the invoice does not have, or over that line', () => {
    assert.equal(
      refusal(judge({ discounts: [{ code: 'PROMO_1', amount_cents: 1, line: 2 }] })),
      'LINE_INVALID: line 2 does not exist on INV-0000001 (2 lines)',
    );
    assert.equal(
      refusal(judge({ discounts: [{ code: 'PROMO_1', amount_cents: 1491, line: 1 }] })),
      'EXCEEDS_LINE: 1491 cents off line 1, which is 1490 cents',
    );
  });

  it('rejects discounts that add up past the invoice total, alone or with earlier partners', () => {
    const alone = judge({
      discounts: [
        { code: 'PROMO_1', amount_cents: 516290 },
        { code: 'PROMO_1', amount_cents: 1 },
      ],
    });
    assert.equal(refusal(alone), 'EXCEEDS_TOTAL: 516291 cents of discounts on an invoice of 516290 cents');
    assert.equal(refusal(judge({ discounts: [{ code: 'PROMO_1', amount_cents: 516290 }] })), 'accepted');
    const together = judge({ discounts: [{ code: 'PROMO_1', amount_cents: 200 }] }, context(['PROMO_1'], 516100));
    assert.equal(
      refusal(together),
      'EXCEEDS_TOTAL: 200 cents of discounts with 516100 cents granted by earlier partners on an invoice of 516290 cents',
    );
  });

  it('refuses to send a partner an invoice outside its own schema (a host bug), with a TypeError', () => {
    assert.throws(() => invoiceDiscounts.prepare(invoice(1, { lines: [] })), {
      name: 'TypeError',
      message: /invalid input: \/lines must NOT have fewer than 1 items/,
    });
    assert.throws(() => invoiceDiscounts.prepare({ ...invoice(1), extra: true } as never), {
      name: 'TypeError',
      message: /must NOT have additional properties/,
    });
  });
});

describe('the partners answer through the extension point', () => {
  const plugins = new Map<string, Plugin>();
  before(async () => {
    for (const partner of PARTNERS) plugins.set(partner.name, await loadPartner(partner));
  });
  after(() => {
    for (const plugin of plugins.values()) plugin.close();
  });
  const ask = (name: string, input = invoice(1), already = 0) => {
    const partner = PARTNERS.find((p) => p.name === name);
    assert.ok(partner);
    return invoiceDiscounts.invoke(
      plugins.get(name) as Plugin,
      invoiceDiscounts.prepare(input),
      context([...partner.allowedCodes], already),
    );
  };

  it('loyalty (AssemblyScript, config) gives a gold customer 5% and a tenth-year bonus', () => {
    const { verdict, fuel, callMicros } = ask('loyalty');
    assert.deepEqual(verdict, {
      ok: true,
      value: {
        discounts: [
          { code: 'LOYALTY_GOLD', amount_cents: 25814, reason: 'gold customer: 500 basis points' },
          { code: 'LOYALTY_ANNIVERSARY', amount_cents: 1500, reason: '10 years a customer' },
        ],
      },
    });
    assert.ok(fuel !== undefined && fuel > 0 && callMicros > 0);
  });

  it('loyalty gives nothing to a customer without a tier under the minimum', () => {
    const small = invoice(1, {
      customer: { id: 'C-1', tier: 'none', country: 'FR', customer_since: '2025-01-01' },
      total_cents: 1490,
      lines: [invoice(1).lines[1] as never],
    });
    assert.deepEqual(ask('loyalty', small).verdict, { ok: true, value: { discounts: [] } });
  });

  it('volume (C) takes 5% off a line of 10 units or more, 10% from 50', () => {
    const bulk = invoice(1, {
      lines: [
        { sku: 'A', description: 'Pens "blue", 10\\box', quantity: 60, unit_price_cents: 100, amount_cents: 6000 },
        { sku: 'B', description: 'Desk', quantity: 12, unit_price_cents: 1000, amount_cents: 12000 },
        { sku: 'C', description: 'Chair', quantity: 9, unit_price_cents: 1000, amount_cents: 9000 },
      ],
      total_cents: 27000,
    });
    assert.deepEqual(ask('volume', bulk).verdict, {
      ok: true,
      value: {
        discounts: [
          { code: 'VOLUME_50', amount_cents: 600, line: 0, reason: '60 units: 10%' },
          { code: 'VOLUME_10', amount_cents: 600, line: 1, reason: '12 units: 5%' },
        ],
      },
    });
  });

  it('uses the same fuel for the same invoice, call after call', () => {
    const fuel = [ask('volume').fuel, ask('volume').fuel, ask('volume').fuel];
    assert.equal(new Set(fuel).size, 1, String(fuel));
  });
});
