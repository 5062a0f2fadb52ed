import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openDatabase } from '../dist/database.js';
import { runReport } from '../dist/report.js';
import { runDiscounts } from '../dist/run.js';
import { seedDatabase } from '../dist/seed.js';
import { invoicingHost, seededDatabase } from './invoices.js';

describe('the figures `npm start` prints count what happened', () => {
  it('seeding reports the rows the database took', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tenon-seed-'));
    const db = openDatabase(join(dir, 'seed.db'));
    try {
      const summary = seedDatabase(db, { invoices: 1234, seed: 3 });
      const rows = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
      assert.deepEqual(summary, { customers: rows('customers'), invoices: rows('invoices'), lines: rows('invoice_lines') });
      assert.equal(summary.invoices, 1234);
      assert.equal(summary.customers, 247);
      assert.ok(summary.lines >= 1234 && summary.lines <= 6 * 1234, `${summary.lines} lines`);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('"discounts applied" counts the discount lines applied, apart from the answers accepted (empty ones included)', async () => {
    using data = seededDatabase(300);
    await using host = await invoicingHost();
    const run = await runDiscounts(data.db, { host });
    const report = runReport(data.db, run.runId);
    for (const figures of report.partners) {
      const { n } = data.db
        .prepare('SELECT count(*) AS n FROM discounts WHERE run_id = ? AND partner = ?')
        .get(run.runId, figures.partner) as {
        n: number;
      };
      assert.equal(figures.discountsApplied, n, figures.partner);
      const { ok } = data.db
        .prepare("SELECT count(*) AS ok FROM partner_calls WHERE run_id = ? AND partner = ? AND outcome = 'ok'")
        .get(run.runId, figures.partner) as { ok: number };
      assert.equal(figures.answered, ok, figures.partner);
    }
    // the hostile partner answers most invoices with no discount at all: accepted, nothing applied
    const hostile = report.partners.find((p) => p.partner === 'hostile');
    assert.ok(hostile && hostile.answered > hostile.discountsApplied, JSON.stringify(hostile));
    assert.equal(
      report.partners.reduce((sum, p) => sum + p.discountsApplied, 0),
      report.discounts,
    );
  });
});
