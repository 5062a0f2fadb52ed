// A discount run: every pending invoice through `invoice.discounts` on the platform, for the
// merchant it belongs to (its installed partners, in its order), each invoice applied in one
// transaction. A crash loses at most the invoice in flight, which the next run redoes; an invoice
// is marked with its run in the same transaction as its discounts, so none is applied twice.
import type { RunOutcome } from '@tenon/platform';
import type { InvoicingDatabase } from './database.js';
import { type DiscountAnswer, totalOf } from './discounts.js';
import type { InvoicingPlatform } from './host-platform.js';
import { type Invoice, InvoiceReader } from './invoices.js';
import { merchantOf } from './partners.js';

export interface RunOptions {
  host: InvoicingPlatform;
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

export async function runDiscounts(db: InvoicingDatabase, options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const unfinished = db.prepare('SELECT id FROM runs WHERE finished_at IS NULL ORDER BY id DESC LIMIT 1').get() as
    | { id: number }
    | undefined;
  const runId =
    unfinished?.id ??
    Number(
      db.prepare('INSERT INTO runs (started_at, extension_point) VALUES (?, ?)').run(new Date().toISOString(), options.host.point.name)
        .lastInsertRowid,
    );

  const { host } = options;
  const apply = applier(db, runId, host, options.killInsideTransactionAt);
  const pending = new InvoiceReader(db, 'pending');
  const total = pending.count();
  const every = options.progressEvery ?? 250;
  let done = 0;
  for (const invoice of pending) {
    const tenant = merchantOf(invoice.id, host.merchants).tenant;
    const run = await host.point.run({ tenant, key: invoice.id, input: invoice });
    apply(invoice, tenant, run.results);
    done++;
    if (done % every === 0) options.onProgress?.(done, total);
  }
  options.onProgress?.(done, total);
  db.prepare('UPDATE runs SET finished_at = ? WHERE id = ?').run(new Date().toISOString(), runId);
  return { runId, resumed: unfinished !== undefined, invoices: done, elapsedMs: performance.now() - started };
}

function applier(db: InvoicingDatabase, runId: number, host: InvoicingPlatform, killAt: number | undefined) {
  const mark = db.prepare('UPDATE invoices SET discount_cents = ?, discount_run_id = ? WHERE id = ? AND discount_run_id IS NULL');
  const insertDiscount = db.prepare(
    'INSERT INTO discounts (run_id, invoice_id, partner, code, line, amount_cents, reason) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const insertCall = db.prepare('INSERT INTO partner_calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const insertRequest = db.prepare('INSERT INTO partner_requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  let applied = 0;
  return db.transaction((invoice: Invoice, tenant: string, results: readonly RunOutcome[]) => {
    let discounted = 0;
    for (const result of results) if (result.outcome === 'ok') discounted += totalOf((result.output as DiscountAnswer).discounts);
    if (mark.run(discounted, runId, invoice.id).changes !== 1) {
      throw new Error(`invoice ${invoice.id} was discounted by another run while this one worked on it`);
    }
    for (const result of results) {
      const partner = host.partnerById.get(result.partner)?.name ?? result.partner;
      if (result.outcome === 'ok') {
        for (const d of (result.output as DiscountAnswer).discounts)
          insertDiscount.run(runId, invoice.id, partner, d.code, d.line ?? null, d.amount_cents, d.reason ?? null);
      }
      const outcome = result.outcome === 'ok' ? 'ok' : (result.code ?? result.outcome);
      insertCall.run(runId, invoice.id, tenant, partner, result.durationUs, result.fuel, outcome, result.outcome, result.message ?? null);
      // What the plug-in sent or tried to send over HTTP in this call, kept with the call: the privacy line's source.
      result.httpRequests.forEach((r, seq) => {
        insertRequest.run(runId, invoice.id, partner, seq, r.method, r.host, r.outcome, r.bytesOut, r.bytesIn);
      });
    }
    if (++applied === killAt) process.kill(process.pid, 'SIGKILL');
  });
}
