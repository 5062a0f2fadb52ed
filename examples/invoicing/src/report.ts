// What a run did, read back from the database: the figures `npm start` prints.
import type { InvoicingDatabase } from './database.js';

export interface PartnerFigures {
  partner: string;
  calls: number;
  /** Calls whose answer was applied. */
  answered: number;
  /** Each call's time, in microseconds. */
  callMicros: number[];
  p50Micros: number;
  p99Micros: number;
  p50Fuel: number;
  p99Fuel: number;
}

export interface Incident {
  partner: string;
  reason: string;
  count: number;
  /** One example of the message, as the host logged it. */
  example: string;
}

/** One merchant's invoices: how its partners' answers ended. */
export interface TenantFigures {
  tenant: string;
  invoices: number;
  /** The partners it installed, in order. */
  partners: string;
  ok: number;
  contained: number;
  rejected: number;
  discountCents: number;
}

export interface RunReport {
  invoices: number;
  discounts: number;
  discountCents: number;
  partners: PartnerFigures[];
  tenants: TenantFigures[];
  incidents: Incident[];
}

/** The value at quantile q (0..1) of `values`, by the nearest-rank method; NaN when empty. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

export function runReport(db: InvoicingDatabase, runId: number): RunReport {
  const invoices = (db.prepare('SELECT count(*) AS n FROM invoices WHERE discount_run_id = ?').get(runId) as { n: number }).n;
  const applied = db
    .prepare('SELECT count(*) AS n, coalesce(sum(amount_cents), 0) AS cents FROM discounts WHERE run_id = ?')
    .get(runId) as { n: number; cents: number };
  const calls = db.prepare('SELECT partner, call_us, fuel, outcome FROM partner_calls WHERE run_id = ?').all(runId) as {
    partner: string;
    call_us: number;
    fuel: number | null;
    outcome: string;
  }[];
  const byPartner = new Map<string, { micros: number[]; fuel: number[]; answered: number }>();
  for (const call of calls) {
    let figures = byPartner.get(call.partner);
    if (!figures) {
      figures = { micros: [], fuel: [], answered: 0 };
      byPartner.set(call.partner, figures);
    }
    figures.micros.push(call.call_us);
    if (call.fuel !== null) figures.fuel.push(call.fuel);
    if (call.outcome === 'ok') figures.answered++;
  }
  const incidents = db
    .prepare(`SELECT partner, outcome AS reason, count(*) AS count, min(detail) AS example FROM partner_calls
              WHERE run_id = ? AND outcome != 'ok' GROUP BY partner, outcome ORDER BY partner, count DESC`)
    .all(runId) as Incident[];
  const tenants = db
    .prepare(
      `SELECT c.tenant, count(DISTINCT c.invoice_id) AS invoices, group_concat(DISTINCT c.partner) AS partners,
              sum(c.kind = 'ok') AS ok, sum(c.kind = 'contained') AS contained, sum(c.kind = 'rejected') AS rejected,
              (SELECT coalesce(sum(i.discount_cents), 0) FROM invoices i
               WHERE i.discount_run_id = c.run_id AND i.id IN (SELECT invoice_id FROM partner_calls WHERE run_id = c.run_id AND tenant = c.tenant)) AS discountCents
       FROM partner_calls c WHERE c.run_id = ? GROUP BY c.tenant ORDER BY c.tenant`,
    )
    .all(runId) as TenantFigures[];
  return {
    invoices,
    tenants,
    discounts: applied.n,
    discountCents: applied.cents,
    partners: [...byPartner].map(([partner, f]) => ({
      partner,
      calls: f.micros.length,
      answered: f.answered,
      callMicros: f.micros,
      p50Micros: percentile(f.micros, 0.5),
      p99Micros: percentile(f.micros, 0.99),
      p50Fuel: percentile(f.fuel, 0.5),
      p99Fuel: percentile(f.fuel, 0.99),
    })),
    incidents,
  };
}
