// A discount run: every pending invoice through every partner, each invoice applied in one
// transaction. A crash loses at most the invoice in flight, which the next run redoes; an invoice
// is marked with its run in the same transaction as its discounts, so none is applied twice.
import type { Plugin } from '@tenon/runtime';
import type { InvoicingDatabase } from './database.js';
import { type DiscountAnswer, invoiceDiscounts, totalOf } from './discounts.js';
import type { Invocation } from './extension-point.js';
import { type Invoice, InvoiceReader } from './invoices.js';
import { loadPartner, type Partner } from './partners.js';

export interface RunOptions {
  partners: readonly Partner[];
  /** Called every `progressEvery` invoices (default 250) and at the end, with invoices done and pending at the start. */
  onProgress?: (done: number, total: number) => void;
  progressEvery?: number;
  /**
   * Fault injection for crash tests: this process kills itself (SIGKILL) inside the transaction of
   * the n-th invoice it applies, after the writes and before the commit.
   */
  killInsideTransactionAt?: number;
}

export interface RunResult {
  runId: number;
  /** Whether this continued a run an earlier process did not finish. */
  resumed: boolean;
  /** Invoices this process applied. */
  invoices: number;
  elapsedMs: number;
}

interface PartnerCall {
  partner: Partner;
  invocation: Invocation<DiscountAnswer>;
}

export async function runDiscounts(db: InvoicingDatabase, options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const unfinished = db.prepare('SELECT id FROM runs WHERE finished_at IS NULL ORDER BY id DESC LIMIT 1').get() as
    | { id: number }
    | undefined;
  const runId =
    unfinished?.id ??
    Number(
      db
        .prepare('INSERT INTO runs (started_at, partners) VALUES (?, ?)')
        .run(new Date().toISOString(), options.partners.map((p) => p.name).join(',')).lastInsertRowid,
    );

  const plugins = new Map<Partner, Plugin>();
  try {
    for (const partner of options.partners) plugins.set(partner, await loadPartner(partner));
    const apply = applier(db, runId, options.killInsideTransactionAt);
    const pending = new InvoiceReader(db, 'pending');
    const total = pending.count();
    const every = options.progressEvery ?? 250;
    let done = 0;

    for (const invoice of pending) {
      const prepared = invoiceDiscounts.prepare(invoice);
      const calls: PartnerCall[] = [];
      let discounted = 0;
      for (const [partner, plugin] of plugins) {
        const invocation = invoiceDiscounts.invoke(plugin, prepared, {
          allowedCodes: partner.allowedCodes,
          alreadyDiscountedCents: discounted,
        });
        if (invocation.verdict.ok) discounted += totalOf(invocation.verdict.value.discounts);
        calls.push({ partner, invocation });
      }
      apply(invoice, calls, discounted);
      done++;
      if (done % every === 0) options.onProgress?.(done, total);
    }
    options.onProgress?.(done, total);
    db.prepare('UPDATE runs SET finished_at = ? WHERE id = ?').run(new Date().toISOString(), runId);
    return { runId, resumed: unfinished !== undefined, invoices: done, elapsedMs: performance.now() - started };
  } finally {
    for (const plugin of plugins.values()) plugin.close();
  }
}

function applier(db: InvoicingDatabase, runId: number, killAt: number | undefined) {
  const mark = db.prepare('UPDATE invoices SET discount_cents = ?, discount_run_id = ? WHERE id = ? AND discount_run_id IS NULL');
  const insertDiscount = db.prepare(
    'INSERT INTO discounts (run_id, invoice_id, partner, code, line, amount_cents, reason) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const insertCall = db.prepare('INSERT INTO partner_calls VALUES (?, ?, ?, ?, ?, ?, ?)');
  const insertRequest = db.prepare('INSERT INTO partner_requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  let applied = 0;
  return db.transaction((invoice: Invoice, calls: readonly PartnerCall[], discounted: number) => {
    if (mark.run(discounted, runId, invoice.id).changes !== 1) {
      throw new Error(`invoice ${invoice.id} was discounted by another run while this one worked on it`);
    }
    for (const { partner, invocation } of calls) {
      const { verdict } = invocation;
      if (verdict.ok) {
        for (const d of verdict.value.discounts)
          insertDiscount.run(runId, invoice.id, partner.name, d.code, d.line ?? null, d.amount_cents, d.reason ?? null);
      }
      const outcome = verdict.ok ? 'ok' : verdict.reason;
      insertCall.run(
        runId,
        invoice.id,
        partner.name,
        invocation.callMicros,
        invocation.fuel ?? null,
        outcome,
        verdict.ok ? null : verdict.detail,
      );
      invocation.httpRequests.forEach((r, seq) => {
        insertRequest.run(runId, invoice.id, partner.name, seq, r.method, r.host, r.outcome, r.bytesOut, r.bytesIn);
      });
    }
    if (++applied === killAt) process.kill(process.pid, 'SIGKILL');
  });
}
