// Invoices as the extension point hands them to partners: one JSON object per invoice.
import type { InvoicingDatabase } from './database.js';

export interface InvoiceLine {
  sku: string;
  description: string;
  quantity: number;
  unit_price_cents: number;
  amount_cents: number;
}

export interface Invoice {
  id: string;
  issued_on: string;
  currency: string;
  customer: { id: string; tier: 'none' | 'silver' | 'gold'; country: string; customer_since: string };
  lines: InvoiceLine[];
  total_cents: number;
}

interface InvoiceRow {
  id: string;
  issued_on: string;
  currency: string;
  total_cents: number;
  customer_id: string;
  tier: Invoice['customer']['tier'];
  country: string;
  customer_since: string;
}

interface LineRow extends InvoiceLine {
  invoice_id: string;
}

/**
 * Reads invoices in id order, in batches: those no run has discounted yet (`pending`), or all. The
 * customer's name and e-mail are not part of what a partner gets: data minimisation is the host's decision.
 */
export class InvoiceReader {
  readonly #invoices: import('better-sqlite3').Statement<[string, number], InvoiceRow>;
  readonly #lines: import('better-sqlite3').Statement<[string, string], LineRow>;
  readonly #count: import('better-sqlite3').Statement<[], { n: number }>;

  constructor(db: InvoicingDatabase, which: 'pending' | 'all') {
    const where = which === 'pending' ? 'i.discount_run_id IS NULL AND' : '';
    this.#invoices = db.prepare(`
      SELECT i.id, i.issued_on, i.currency, i.total_cents, c.id AS customer_id, c.tier, c.country, c.customer_since
      FROM invoices i JOIN customers c ON c.id = i.customer_id
      WHERE ${where} i.id > ?
      ORDER BY i.id LIMIT ?`);
    this.#lines = db.prepare(`
      SELECT invoice_id, sku, description, quantity, unit_price_cents, amount_cents
      FROM invoice_lines WHERE invoice_id BETWEEN ? AND ? ORDER BY invoice_id, line`);
    this.#count = db.prepare(`SELECT count(*) AS n FROM invoices ${which === 'pending' ? 'WHERE discount_run_id IS NULL' : ''}`);
  }

  count(): number {
    return this.#count.get()?.n ?? 0;
  }

  /** Yields the invoices with their lines, `batchSize` rows read at a time. */
  *[Symbol.iterator](batchSize = 500): Generator<Invoice> {
    let after = '';
    for (;;) {
      const rows = this.#invoices.all(after, batchSize);
      const last = rows.at(-1);
      if (!last) return;
      const byInvoice = new Map<string, Invoice>();
      for (const row of rows) {
        byInvoice.set(row.id, {
          id: row.id,
          issued_on: row.issued_on,
          currency: row.currency,
          customer: { id: row.customer_id, tier: row.tier, country: row.country, customer_since: row.customer_since },
          lines: [],
          total_cents: row.total_cents,
        });
      }
      for (const { invoice_id, ...line } of this.#lines.iterate((rows[0] as InvoiceRow).id, last.id)) {
        byInvoice.get(invoice_id)?.lines.push(line);
      }
      yield* byInvoice.values();
      after = last.id;
    }
  }
}
