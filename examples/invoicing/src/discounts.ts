// The `invoice.discounts` extension point: an invoice goes in, discount lines come out, and the
// host checks every line against its own rules before it applies any.
import { ExtensionPoint } from './extension-point.js';
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

export interface DiscountContext {
  /** Codes this partner may use. */
  allowedCodes: readonly string[];
  /** Discounts already granted on this invoice by the partners that answered before. */
  alreadyDiscountedCents: number;
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

function checkDiscounts(invoice: Invoice, answer: DiscountAnswer, context: DiscountContext) {
  let sum = 0;
  for (const discount of answer.discounts) {
    if (!context.allowedCodes.includes(discount.code)) {
      return {
        reason: 'CODE_NOT_ALLOWED',
        detail: `code "${discount.code}" is not one this partner may use (${context.allowedCodes.join(', ')})`,
      };
    }
    if (discount.line !== undefined) {
      const line = invoice.lines[discount.line];
      if (!line)
        return { reason: 'LINE_INVALID', detail: `line ${discount.line} does not exist on ${invoice.id} (${invoice.lines.length} lines)` };
      if (discount.amount_cents > line.amount_cents) {
        return {
          reason: 'EXCEEDS_LINE',
          detail: `${discount.amount_cents} cents off line ${discount.line}, which is ${line.amount_cents} cents`,
        };
      }
    }
    sum += discount.amount_cents;
  }
  if (context.alreadyDiscountedCents + sum > invoice.total_cents) {
    const earlier = context.alreadyDiscountedCents > 0 ? ` with ${context.alreadyDiscountedCents} cents granted by earlier partners` : '';
    return { reason: 'EXCEEDS_TOTAL', detail: `${sum} cents of discounts${earlier} on an invoice of ${invoice.total_cents} cents` };
  }
  return null;
}

export const invoiceDiscounts = new ExtensionPoint<Invoice, DiscountAnswer, DiscountContext>('invoice.discounts', {
  functionName: 'discounts',
  inputSchema: INVOICE_SCHEMA,
  outputSchema: DISCOUNTS_SCHEMA,
  rules: checkDiscounts,
});
