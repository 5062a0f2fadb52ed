// Invoices made up from a number, for demos and benchmarks that need many varied ones without a
// database: every tier, totals spread over four orders of magnitude, and every 50th invoice the
// same bulk order of standing desks (total 473,390 cents).
import type { Invoice } from './invoices.js';

const TIERS = ['none', 'silver', 'gold'] as const;

export function sampleInvoice(n: number): Invoice {
  const id = `INV-${String(n).padStart(7, '0')}`;
  const customer = {
    id: `C-${String(n % 997).padStart(6, '0')}`,
    tier: TIERS[n % 3] as Invoice['customer']['tier'],
    country: 'DE',
    customer_since: `${2010 + (n % 15)}-03-01`,
  };
  if (n % 50 === 0) {
    return {
      id,
      issued_on: '2026-06-01',
      currency: 'EUR',
      customer,
      lines: [
        { sku: 'SKU-0001', description: 'Standing desk', quantity: 11, unit_price_cents: 42900, amount_cents: 471900 },
        { sku: 'SKU-0002', description: 'Delivery', quantity: 1, unit_price_cents: 1490, amount_cents: 1490 },
      ],
      total_cents: 473390,
    };
  }
  const quantity = 1 + (n % 17);
  const unit = 990 + ((n * 7919) % 50_000);
  const amount = quantity * unit;
  return {
    id,
    issued_on: '2026-06-01',
    currency: n % 3 === 0 ? 'USD' : 'EUR',
    customer,
    lines: [{ sku: `SKU-${n % 50}`, description: 'Item', quantity, unit_price_cents: unit, amount_cents: amount }],
    total_cents: amount,
  };
}
