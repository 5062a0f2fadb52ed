// The `invoice.discounts` extension point, as the host defines it on the platform: an invoice goes
// in, discount lines come out; the limits, the simulations every partner's upload must pass, and
// the host's rules every answer must pass before the host applies any line.
import type { ExtensionPointDefinition, RuleContext, RuleRefusal } from '@tenon/platform';
import type { Invoice } from './invoices.js';

export interface DiscountLine {
  /** The partner's code for the discount; must be one the host allows that partner. */
  code: string;
  amount_cents: number;
  /** The invoice line (from 0) the discount is on, or absent for the whole invoice. */
  line?: number;
  reason?: string;
}

export interface DiscountAnswer {
  discounts: DiscountLine[];
}

const cents = { type: 'integer', minimum: 0, maximum: 1e12 };

export const INVOICE_SCHEMA = {
  $id: 'invoice.discounts/input',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'issued_on', 'currency', 'customer', 'lines', 'total_cents'],
  properties: {
    id: { type: 'string', pattern: '^INV-[0-9]{7}$' },
    issued_on: { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' },
    currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    customer: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'tier', 'country', 'customer_since'],
      properties: {
        id: { type: 'string' },
        tier: { enum: ['none', 'silver', 'gold'] },
        country: { type: 'string', pattern: '^[A-Z]{2}$' },
        customer_since: { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' },
      },
    },
    lines: {
      type: 'array',
      minItems: 1,
      maxItems: 500,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['sku', 'description', 'quantity', 'unit_price_cents', 'amount_cents'],
        properties: {
          sku: { type: 'string' },
          description: { type: 'string' },
          quantity: { type: 'integer', minimum: 1 },
          unit_price_cents: cents,
          amount_cents: cents,
        },
      },
    },
    total_cents: cents,
  },
};

export const DISCOUNTS_SCHEMA = {
  $id: 'invoice.discounts/output',
  type: 'object',
  additionalProperties: false,
  required: ['discounts'],
  properties: {
    discounts: {
      type: 'array',
      maxItems: 50,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['code', 'amount_cents'],
        properties: {
          code: { type: 'string', pattern: '^[A-Z][A-Z0-9_]{0,31}$' },
          amount_cents: { type: 'integer', minimum: 1, maximum: 1e12 },
          line: { type: 'integer', minimum: 0 },
          reason: { type: 'string', maxLength: 200 },
        },
      },
    },
  },
};

/** What the discounts of one answer add up to, in cents. */
export function totalOf(discounts: readonly DiscountLine[]): number {
  return discounts.reduce((sum, d) => sum + d.amount_cents, 0);
}

/**
 * The host's rules on a schema-valid answer: only the codes the host allows this partner, lines
 * that exist, and never more off than the line or (with the partners that answered before in
 * this run) the invoice.
 */
export function discountRules(codesOf: (partnerId: string) => readonly string[]) {
  return (invoice: Invoice, answer: DiscountAnswer, context: RuleContext): RuleRefusal | null => {
    const allowedCodes = codesOf(context.partner);
    let sum = 0;
    for (const discount of answer.discounts) {
      if (!allowedCodes.includes(discount.code)) {
        return {
          rule: 'CODE_NOT_ALLOWED',
          message: `code "${discount.code}" is not one this partner may use (${allowedCodes.join(', ')})`,
        };
      }
      if (discount.line !== undefined) {
        const line = invoice.lines[discount.line];
        if (!line) {
          return { rule: 'LINE_INVALID', message: `line ${discount.line} does not exist on ${invoice.id} (${invoice.lines.length} lines)` };
        }
        if (discount.amount_cents > line.amount_cents) {
          return {
            rule: 'EXCEEDS_LINE',
            message: `${discount.amount_cents} cents off line ${discount.line}, which is ${line.amount_cents} cents`,
          };
        }
      }
      sum += discount.amount_cents;
    }
    let already = 0;
    for (const earlier of context.earlier) already += totalOf((earlier as DiscountAnswer).discounts);
    if (already + sum > invoice.total_cents) {
      const earlier = already > 0 ? ` with ${already} cents granted by earlier partners` : '';
      return { rule: 'EXCEEDS_TOTAL', message: `${sum} cents of discounts${earlier} on an invoice of ${invoice.total_cents} cents` };
    }
    return null;
  };
}

/** A simulation invoice: a small one by default (no discount due from any honest partner). */
function simulated(n: number, overrides: Partial<Invoice>): Invoice {
  return {
    id: `INV-${String(n).padStart(7, '0')}`,
    issued_on: '2026-06-01',
    currency: 'EUR',
    customer: { id: 'C-SIM', tier: 'none', country: 'FR', customer_since: '2025-02-01' },
    lines: [{ sku: 'SKU-SIM', description: 'Notebook', quantity: 2, unit_price_cents: 450, amount_cents: 900 }],
    total_cents: 900,
    ...overrides,
  };
}

const gold = { id: 'C-SIM', tier: 'gold', country: 'DE', customer_since: '2016-03-01' } as const;
const bulk = [
  { sku: 'SKU-D', description: 'Standing desk', quantity: 12, unit_price_cents: 42_900, amount_cents: 514_800 },
  { sku: 'SKU-C', description: 'Chair', quantity: 60, unit_price_cents: 9_900, amount_cents: 594_000 },
];

/**
 * `invoice.discounts`: every partner's plug-in exports `discounts`. Its fuel grows with the
 * invoice (5M + 400k per KiB of JSON, at most 20M: a real partner needs 60k to 420k, and the PDK's
 * strict JSON input about 390k per KiB, twice json-as's decode alone: bench/strict-json.ts). Every
 * invoice gets an instance of its own (isolation "fresh"): nothing of one invoice, or one merchant's
 * invoices, can reach the next. A closed instance restored to its snapshot serves the next run, so
 * this costs a copy of the plug-in's memory, not a new instance. 5% of runs are recorded.
 */
export const DISCOUNTS_POINT: ExtensionPointDefinition = {
  name: 'invoice.discounts',
  function: 'discounts',
  input: INVOICE_SCHEMA,
  output: DISCOUNTS_SCHEMA,
  limits: {
    fuel: 5_000_000,
    fuelPerInputKiB: 400_000,
    maxFuelScale: 4,
    // Fuel stops a runaway plug-in first; the deadline is the backstop, wide enough that a busy
    // machine does not turn an output bomb's OUTPUT_LIMIT into a TIMEOUT.
    timeoutMs: 250,
    maxPages: 64,
    maxOutputBytes: 16_384,
    maxModuleBytes: 1024 * 1024,
  },
  // Partners may be granted this host, and nothing else.
  allowedHosts: ['api.hostile-partner.example'],
  simulations: [
    ...[1, 2, 3, 4].map((n) => ({
      name: `no discount is due on small invoice ${n}`,
      input: simulated(n, { currency: n % 2 ? 'EUR' : 'USD' }),
      expect: { output: { discounts: [] } },
    })),
    {
      name: 'one cent',
      input: simulated(5, { lines: [{ sku: 'S', description: 'Pin', quantity: 1, unit_price_cents: 1, amount_cents: 1 }], total_cents: 1 }),
      expect: { output: { discounts: [] } },
    },
    {
      name: 'a gold customer of ten years, in bulk',
      input: simulated(6, { customer: gold, lines: bulk, total_cents: 1_108_800 }),
      expect: { accepted: true },
    },
    {
      name: 'a silver customer',
      input: simulated(8, { customer: { ...gold, tier: 'silver' }, lines: bulk, total_cents: 1_108_800 }),
      expect: { accepted: true },
    },
    {
      name: 'forty lines',
      input: simulated(9, { lines: Array.from({ length: 40 }, () => bulk[0]!), total_cents: 20_592_000 }),
      expect: { accepted: true },
    },
    { name: 'one bulk line', input: simulated(10, { lines: [bulk[1]!], total_cents: 594_000 }), expect: { accepted: true } },
    { name: 'a large invoice, no tier', input: simulated(12, { lines: [bulk[0]!], total_cents: 514_800 }), expect: { accepted: true } },
  ],
  record: { sample: 0.05 },
  isolation: 'fresh',
  default: { discounts: [] },
};
