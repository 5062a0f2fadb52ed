import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Invoice } from '../dist/invoices.js';
import { merchantOf, PARTNERS } from '../dist/partners.js';
import { runDiscounts } from '../dist/run.js';
import { runWebhooks, startWebhookService } from '../dist/webhooks.js';
import { alone, appliedDiscounts, assertConsistent, invoice, invoicingHost, seededDatabase } from './invoices.js';

let host: Awaited<ReturnType<typeof invoicingHost>>;
before(async () => {
  host = await invoicingHost();
});
after(() => host.close());

describe('the hostile partner is contained, and the host goes on', () => {
  let hostile: (input: Invoice) => Promise<{ outcome: string; output?: unknown; code?: string; message?: string }>;
  before(async () => {
    hostile = await alone(host, 'hostile');
  });

  const ask = async (n: number) => {
    const { outcome, output, code, message } = await hostile(invoice(n));
    return outcome === 'ok' ? { outcome, output } : { outcome, code, message };
  };
  // The plug-in answers like a real partner on most invoices: after each trick, it still must.
  const answersNormally = async () =>
    assert.deepEqual(await ask(1), {
      outcome: 'ok',
      output: { discounts: [{ code: 'PROMO_1', amount_cents: 5162, reason: '1% off large invoices' }] },
    });

  const tricks: [string, number, string, RegExp][] = [
    ['an endless loop is stopped by its fuel budget, scaled to the invoice', 7, 'FUEL_EXHAUSTED', /ran out of fuel: used \d+ of 5\d{6}/],
    ['an output bomb is refused at the output limit', 11, 'OUTPUT_LIMIT', /returned 1048576 bytes, over limits.maxOutputBytes \(16384\)/],
    [
      'a request to a host it was not granted is denied, naming the host',
      13,
      'CAPABILITY_DENIED',
      /"collector\.exfil\.example": it is not in allowedHosts \(allowed: api\.hostile-partner\.example\)/,
    ],
    ['eating memory stops at the memory cap', 29, 'TRAP', /unreachable/],
  ];
  for (const [what, n, reason, detail] of tricks) {
    it(`${what} (${reason})`, async () => {
      const verdict = await ask(n);
      assert.equal(verdict.outcome, 'contained');
      assert.equal(verdict.code, reason);
      assert.match(verdict.message ?? '', detail);
      await answersNormally();
    });
  }

  for (const [what, n, reason] of [
    ['a discount larger than the invoice', 17, 'EXCEEDS_TOTAL'],
    ['a code the host never allowed', 19, 'CODE_NOT_ALLOWED'],
    ['an answer outside the schema', 23, 'SCHEMA'],
  ] as const) {
    it(`${what} is rejected by the host (${reason})`, async () => {
      assert.deepEqual({ ...(await ask(n)), message: undefined }, { outcome: 'rejected', code: reason, message: undefined });
      await answersNormally();
    });
  }
});

describe('a run with the hostile partner', () => {
  it('applies only accepted answers, records every incident, and processes every invoice', async () => {
    using data = seededDatabase(1500);
    const run = await runDiscounts(data.db, { host });
    assert.equal(run.invoices, 1500);
    assert.equal(run.resumed, false);
    assertConsistent(data.db);

    const outcomes = data.db
      .prepare("SELECT outcome, count(*) AS n FROM partner_calls WHERE partner = 'hostile' GROUP BY outcome")
      .all() as { outcome: string; n: number }[];
    const count = (outcome: string) => outcomes.find((o) => o.outcome === outcome)?.n ?? 0;
    for (const reason of ['FUEL_EXHAUSTED', 'OUTPUT_LIMIT', 'CAPABILITY_DENIED', 'TRAP', 'EXCEEDS_TOTAL', 'CODE_NOT_ALLOWED', 'SCHEMA']) {
      assert.ok(count(reason) >= 10, `${reason}: ${count(reason)}`);
    }
    assert.equal(
      outcomes.reduce((sum, o) => sum + o.n, 0),
      1500,
    );
    const hostileCodes = data.db.prepare("SELECT DISTINCT code FROM discounts WHERE partner = 'hostile'").all() as { code: string }[];
    assert.deepEqual(hostileCodes, [{ code: 'PROMO_1' }]);
    const others = data.db.prepare("SELECT count(*) AS n FROM partner_calls WHERE partner != 'hostile' AND outcome != 'ok'").get() as {
      n: number;
    };
    assert.equal(others.n, 0, 'the well-behaved partners answered every invoice');
  });

  it('gives the same discounts when run again on the same data: plug-ins are deterministic', async () => {
    using first = seededDatabase(300);
    using second = seededDatabase(300);
    // Two new hosts: with isolation "tenant" an instance's history (its first call's start-up, its
    // heap) is part of its fuel, so both runs start from the same state.
    await using one = await invoicingHost();
    await runDiscounts(first.db, { host: one });
    await using other = await invoicingHost();
    await runDiscounts(second.db, { host: other });
    assert.deepEqual(appliedDiscounts(second.db), appliedDiscounts(first.db));
    const fuel = (db: typeof first.db) =>
      db.prepare('SELECT invoice_id, partner, fuel FROM partner_calls ORDER BY invoice_id, partner').all();
    assert.deepEqual(fuel(second.db), fuel(first.db));
  });
});

describe('the webhook contrast', () => {
  it('gets the same answers from the same partner logic over HTTP on 127.0.0.1', async () => {
    using data = seededDatabase(100);
    const partners = PARTNERS.filter((p) => p.name !== 'hostile');
    await runDiscounts(data.db, { host });
    const service = await startWebhookService(partners);
    try {
      const result = await runWebhooks(data.db, service.url, { host, partners });
      assert.equal(result.invoices, 100);
      for (const [name, figures] of result.byPartner) {
        // Each invoice goes to the partners its merchant installed.
        let installedBy = 0;
        for (let n = 1; n <= 100; n++) if (merchantOf(invoice(n).id).partners.includes(name)) installedBy++;
        assert.deepEqual(
          { name, requests: figures.callMicros.length, mismatches: figures.mismatches, failures: figures.failures },
          { name, requests: installedBy, mismatches: 0, failures: 0 },
        );
      }
      assert.ok(result.bytesSent > 100 * 2 * 200, `${result.bytesSent} bytes of invoices posted`);
    } finally {
      await service.stop();
    }
  });
});
