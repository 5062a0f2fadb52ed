// Shared by the invoicing tests: a seeded database in a temporary directory, an invoice to order,
// The tests run the compiled app (dist/, built by `npm test`'s pretest), as `npm start` does.
// and the invariants every database must keep whatever happened to the process that wrote it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPERATOR, type RunOutcome } from '@tenon/platform';
import { type InvoicingDatabase, openDatabase } from '../dist/database.js';
import { type HostSetup, type InvoicingPlatform, openPlatform } from '../dist/host-platform.js';
import type { Invoice } from '../dist/invoices.js';
import { invoiceId, seedDatabase } from '../dist/seed.js';

export function seededDatabase(invoices: number): { db: InvoicingDatabase; path: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tenon-invoicing-'));
  const path = join(dir, 'invoicing.db');
  const db = openDatabase(path);
  seedDatabase(db, { invoices, seed: 7 });
  return {
    db,
    path,
    [Symbol.dispose]() {
      if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An invoice numbered `n` (the hostile partner picks its trick from the number). */
export function invoice(n: number, overrides: Partial<Invoice> = {}): Invoice {
  return {
    id: invoiceId(n),
    issued_on: '2026-06-01',
    currency: 'EUR',
    customer: { id: 'C-000001', tier: 'gold', country: 'DE', customer_since: '2016-03-01' },
    lines: [
      { sku: 'SKU-0001', description: 'Standing desk', quantity: 12, unit_price_cents: 42900, amount_cents: 514800 },
      { sku: 'SKU-0002', description: 'Delivery', quantity: 1, unit_price_cents: 1490, amount_cents: 1490 },
    ],
    total_cents: 516290,
    ...overrides,
  };
}

/** Every discount applied, as sortable text: what two runs must agree on. */
export function appliedDiscounts(db: InvoicingDatabase): string[] {
  const rows = db
    .prepare('SELECT invoice_id, partner, code, line, amount_cents FROM discounts ORDER BY invoice_id, partner, id')
    .all() as Record<string, unknown>[];
  return rows.map((r) => `${r.invoice_id} ${r.partner} ${r.code} ${r.line ?? '-'} ${r.amount_cents}`);
}

/** What a crash must never break: each invoice applied at most once, its total matching its rows, never over its total. */
export function assertConsistent(db: InvoicingDatabase): void {
  const orphans = db
    .prepare('SELECT count(*) AS n FROM discounts d JOIN invoices i ON i.id = d.invoice_id WHERE i.discount_run_id IS NULL')
    .get() as { n: number };
  assert.equal(orphans.n, 0, 'discounts on an invoice no run has applied');
  const wrongTotals = db
    .prepare(
      `SELECT i.id, i.discount_cents, coalesce(sum(d.amount_cents), 0) AS applied FROM invoices i LEFT JOIN discounts d ON d.invoice_id = i.id
       GROUP BY i.id HAVING i.discount_cents != applied OR applied > i.total_cents`,
    )
    .all();
  assert.deepEqual(wrongTotals, [], 'an invoice whose discount total does not match its discounts');
  const callsWithoutInvoice = db
    .prepare('SELECT count(*) AS n FROM partner_calls c JOIN invoices i ON i.id = c.invoice_id WHERE i.discount_run_id IS NULL')
    .get() as { n: number };
  assert.equal(callsWithoutInvoice.n, 0, 'partner calls recorded for an invoice that was not applied');
}

/** The host's platform on an in-memory store: point defined, partners uploaded, merchants installed (the demo's, or `setup`'s). */
export async function invoicingHost(setup: HostSetup = {}): Promise<InvoicingPlatform & AsyncDisposable> {
  const host = await openPlatform(':memory:', setup);
  return Object.assign(host, { [Symbol.asyncDispose]: () => host.close() });
}

/** A tenant that installed only this partner (its validated version, its config and grants), for asking it alone. */
export async function alone(host: InvoicingPlatform, name: string): Promise<(input: Invoice) => Promise<RunOutcome>> {
  const tenant = `alone-${name}`;
  const template = host.installations.find((i) => i.partnerId === host.partnerIds.get(name));
  assert.ok(template, `partner "${name}" is installed somewhere`);
  if ((await host.platform.installations.list(OPERATOR, { tenant })).length === 0) {
    await host.platform.installations.create(OPERATOR, {
      tenant,
      plugin: template.pluginId,
      version: template.versionId,
      config: template.config,
      grants: template.grants,
    });
  }
  return async (input) => {
    const { results } = await host.point.run({ tenant, key: input.id, input });
    assert.equal(results.length, 1);
    return results[0] as RunOutcome;
  };
}
