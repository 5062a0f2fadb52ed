// What a run did, read back from the database: the figures `npm start` prints.
import type { InvoicingDatabase } from './database.js';

export interface PartnerFigures {
  partner: string;
  calls: number;
  /** Calls whose answer the host accepted (an empty answer included). */
  answered: number;
  /** Discount lines of this partner the host applied. */
  discountsApplied: number;
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

/** What a partner's plug-in sent out over HTTP during the run, from the requests recorded with its calls. */
export interface PartnerEgress {
  partner: string;
  /** Requests the allow-list let out (whether or not the server answered), and their body bytes. */
  requests: number;
  bytesSent: number;
  /** Requests the allow-list refused, and the body bytes they would have carried. */
  denied: number;
  bytesDenied: number;
}

export interface RunReport {
  invoices: number;
  discounts: number;
  discountCents: number;
  partners: PartnerFigures[];
  tenants: TenantFigures[];
  incidents: Incident[];
  /** One entry per partner called in the run, in the order of `partners`. */
  egress: PartnerEgress[];
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
  const calls = db.prepare('SELECT partner, call_us, fuel, outcome FROM partner_calls WHERE run_id = ? ORDER BY partner').all(runId) as {
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
  const appliedBy = new Map(
    (
      db.prepare('SELECT partner, count(*) AS n FROM discounts WHERE run_id = ? GROUP BY partner').all(runId) as {
        partner: string;
        n: number;
      }[]
    ).map((r) => [r.partner, r.n]),
  );
  const requests = db
    .prepare(
      `SELECT partner,
              sum(outcome != 'denied') AS requests, coalesce(sum(CASE WHEN outcome != 'denied' THEN bytes_out END), 0) AS bytesSent,
              sum(outcome = 'denied') AS denied, coalesce(sum(CASE WHEN outcome = 'denied' THEN bytes_out END), 0) AS bytesDenied
       FROM partner_requests WHERE run_id = ? GROUP BY partner`,
    )
    .all(runId) as PartnerEgress[];
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
      discountsApplied: appliedBy.get(partner) ?? 0,
      callMicros: f.micros,
      p50Micros: percentile(f.micros, 0.5),
      p99Micros: percentile(f.micros, 0.99),
      p50Fuel: percentile(f.fuel, 0.5),
      p99Fuel: percentile(f.fuel, 0.99),
    })),
    incidents,
    egress: [...byPartner.keys()].map(
      (partner) => requests.find((r) => r.partner === partner) ?? { partner, requests: 0, bytesSent: 0, denied: 0, bytesDenied: 0 },
    ),
  };
}

const count = (n: number) => n.toLocaleString('en-US');

/**
 * The privacy line `npm start` prints, computed from the run's audit trail: the request body bytes
 * partners' plug-ins sent out (by partner), and beside them the requests the allow-list denied.
 */
export function egressLine(report: RunReport): string {
  const sent = report.egress.reduce((sum, e) => sum + e.bytesSent, 0);
  const requests = report.egress.reduce((sum, e) => sum + e.requests, 0);
  const denied = report.egress.filter((e) => e.denied > 0);
  const byPartner = report.egress.map((e) => `${e.partner} ${count(e.bytesSent)}`).join(', ');
  const held =
    denied.length === 0
      ? 'none denied'
      : `${count(denied.reduce((sum, e) => sum + e.denied, 0))} denied by the allow-list, holding back ${count(
          denied.reduce((sum, e) => sum + e.bytesDenied, 0),
        )} bytes (${denied.map((e) => `${e.partner} ${count(e.denied)}`).join(', ')})`;
  return `${count(sent)} bytes left the host in ${count(requests)} HTTP requests by partners' plug-ins (bytes by partner: ${byPartner}); ${held}`;
}
