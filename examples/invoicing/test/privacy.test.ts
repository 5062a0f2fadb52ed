import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { DISCOUNTS_POINT } from '../dist/discounts.js';
import { InvoiceReader } from '../dist/invoices.js';
import { MERCHANTS, PARTNERS, type Partner } from '../dist/partners.js';
import { egressLine, runReport } from '../dist/report.js';
import { runDiscounts } from '../dist/run.js';
import { invoicingHost, seededDatabase } from './invoices.js';

// The privacy line `npm start` prints is computed from the run's audit trail (every request a
// plug-in made or tried, as point.run reports it, recorded with its call), never written in: a
// partner that does send invoices out must show up in it, byte for byte.

const hostile = PARTNERS.find((p) => p.name === 'hostile');
assert.ok(hostile);

/**
 * A collector on 127.0.0.1 that counts the request bodies it receives. It runs in a worker thread:
 * a plug-in's HTTP request blocks this one until the answer comes.
 */
async function startCollector(): Promise<{ url: string; received(): Promise<{ requests: number; bytes: number }>; stop(): Promise<void> }> {
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     let requests = 0, bytes = 0;
     const server = require('node:http').createServer((request, response) => {
       request.on('data', (chunk) => { bytes += chunk.length; });
       request.on('end', () => { requests++; response.end('thanks'); });
     });
     server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
     parentPort.on('message', () => parentPort.postMessage({ requests, bytes }));`,
    { eval: true },
  );
  const [port] = (await once(worker, 'message')) as [number];
  return {
    url: `http://127.0.0.1:${port}/invoices`,
    async received() {
      worker.postMessage('count');
      const [counts] = (await once(worker, 'message')) as [{ requests: number; bytes: number }];
      return counts;
    },
    async stop() {
      await worker.terminate();
    },
  };
}

// The hostile plug-in posts invoice n when n % 107 == 13: 13, 120, 227, 334, 441; every merchant installed it.
const EXFIL_ATTEMPTS = 5;

describe('the privacy line', () => {
  it('says 0 bytes left when no partner reached a host, with the denied attempts beside it', async () => {
    using data = seededDatabase(500);
    await using host = await invoicingHost();
    const run = await runDiscounts(data.db, { host });
    const report = runReport(data.db, run.runId);
    const byPartner = new Map(report.egress.map((e) => [e.partner, e]));
    assert.deepEqual(byPartner.get('loyalty'), { partner: 'loyalty', requests: 0, bytesSent: 0, denied: 0, bytesDenied: 0 });
    assert.deepEqual(byPartner.get('volume'), { partner: 'volume', requests: 0, bytesSent: 0, denied: 0, bytesDenied: 0 });
    const denied = byPartner.get('hostile');
    assert.equal(denied?.requests, 0);
    assert.equal(denied?.bytesSent, 0);
    assert.equal(denied?.denied, EXFIL_ATTEMPTS);
    // what was held back is those invoices, as the plug-in was handed them (the run's input JSON)
    const posted = [...new InvoiceReader(data.db, 'all')]
      .filter((invoice) => Number(invoice.id.slice(4)) % 107 === 13)
      .reduce((sum, invoice) => sum + Buffer.byteLength(JSON.stringify(invoice)), 0);
    assert.ok(posted > EXFIL_ATTEMPTS * 200, `${posted} bytes`);
    assert.equal(denied?.bytesDenied, posted);
    assert.equal(
      egressLine(report),
      `0 bytes left the host in 0 HTTP requests by partners' plug-ins (bytes by partner: hostile 0, loyalty 0, volume 0); ` +
        `${EXFIL_ATTEMPTS} denied by the allow-list, holding back ${denied?.bytesDenied.toLocaleString('en-US')} bytes (hostile ${EXFIL_ATTEMPTS})`,
    );
  });

  it('counts every byte a partner granted a host sends, as the server received them', async () => {
    const collector = await startCollector();
    try {
      // the hostile plug-in, uploaded by another partner and granted the collector it posts invoices to
      const leaky: Partner = { ...hostile, name: 'leaky', config: { exfil_url: collector.url }, allowedHosts: ['127.0.0.1'] };
      await using host = await invoicingHost({
        point: {
          ...DISCOUNTS_POINT,
          allowedHosts: [...(DISCOUNTS_POINT.allowedHosts ?? []), '127.0.0.1'],
          // a deadline no loaded machine reaches: a request's round trip (and the HTTP thread's start) is inside it
          limits: { ...DISCOUNTS_POINT.limits, timeoutMs: 10_000 },
        },
        partners: [...PARTNERS, leaky],
        merchants: MERCHANTS.map((m) => ({ ...m, partners: [...m.partners, 'leaky'] })),
      });
      using data = seededDatabase(500);
      const run = await runDiscounts(data.db, { host });
      const report = runReport(data.db, run.runId);
      const received = await collector.received();
      assert.equal(received.requests, EXFIL_ATTEMPTS);
      assert.ok(received.bytes > EXFIL_ATTEMPTS * 200, `${received.bytes} bytes received`);
      assert.deepEqual(
        report.egress.find((e) => e.partner === 'leaky'),
        { partner: 'leaky', requests: EXFIL_ATTEMPTS, bytesSent: received.bytes, denied: 0, bytesDenied: 0 },
      );
      // the hostile partner, not granted the collector, still only tried
      assert.equal(report.egress.find((e) => e.partner === 'hostile')?.denied, EXFIL_ATTEMPTS);
      const line = egressLine(report);
      const bytes = received.bytes.toLocaleString('en-US');
      assert.match(line, new RegExp(`^${bytes} bytes left the host in ${EXFIL_ATTEMPTS} HTTP requests`));
      assert.ok(line.includes(`(bytes by partner: hostile 0, leaky ${bytes}, loyalty 0, volume 0)`), line);
    } finally {
      await collector.stop();
    }
  });
});
