// The same run through webhooks: the host posts each invoice to each partner's HTTP endpoint on
// 127.0.0.1 and judges the answers exactly as it judges the plug-ins' answers.
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import type { InvoicingDatabase } from './database.js';
import type { DiscountAnswer, DiscountLine } from './discounts.js';
import type { InvoicingPlatform } from './host-platform.js';
import { InvoiceReader } from './invoices.js';
import { merchantOf, type Partner } from './partners.js';

export interface WebhookRunOptions {
  host: InvoicingPlatform;
  /** The partners behind webhooks; each invoice goes to those of them its merchant installed, in its order. */
  partners: readonly Partner[];
  /** Invoices to send, from the first; default all. */
  limit?: number;
  onProgress?: (done: number, total: number) => void;
  progressEvery?: number;
}

export interface WebhookPartnerResult {
  /** Round-trip time of each request, in microseconds. */
  callMicros: number[];
  /** Answers that differ from the discounts the in-process run applied for this partner. */
  mismatches: number;
  /** Answers the host rejected or could not get. */
  failures: number;
}

export interface WebhookRunResult {
  invoices: number;
  /** Bytes of invoice data posted to partners. */
  bytesSent: number;
  elapsedMs: number;
  byPartner: Map<string, WebhookPartnerResult>;
}

/** Starts the partners' webhook service in a child process; resolves with its base URL and a stop function. */
export async function startWebhookService(partners: readonly Partner[]): Promise<{ url: string; stop: () => Promise<void> }> {
  const child: ChildProcess = fork(new URL('./webhook-server.js', import.meta.url), [partners.map((p) => p.name).join(',')], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [message] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(() => Promise.reject(new Error('the webhook service exited before it listened'))),
  ])) as [{ port: number }];
  return {
    url: `http://127.0.0.1:${message.port}`,
    stop: async () => {
      const exited = once(child, 'exit');
      child.disconnect();
      await exited;
    },
  };
}

const sameDiscounts = (a: readonly DiscountLine[], b: readonly DiscountLine[]) =>
  a.length === b.length &&
  a.every((d, i) => d.code === b[i]?.code && d.amount_cents === b[i]?.amount_cents && (d.line ?? null) === (b[i]?.line ?? null));

export async function runWebhooks(db: InvoicingDatabase, url: string, options: WebhookRunOptions): Promise<WebhookRunResult> {
  const started = performance.now();
  const applied = db.prepare('SELECT code, line, amount_cents FROM discounts WHERE invoice_id = ? AND partner = ? ORDER BY id');
  const reader = new InvoiceReader(db, 'all');
  const total = Math.min(options.limit ?? Infinity, reader.count());
  const byPartner = new Map(options.partners.map((p) => [p.name, { callMicros: [] as number[], mismatches: 0, failures: 0 }]));
  const every = options.progressEvery ?? 250;
  let bytesSent = 0;
  let done = 0;

  for (const invoice of reader) {
    if (done === total) break;
    const json = JSON.stringify(invoice);
    const earlier: DiscountAnswer[] = [];
    const merchant = merchantOf(invoice.id, options.host.merchants);
    for (const name of merchant.partners) {
      const partner = options.partners.find((p) => p.name === name);
      if (partner === undefined) continue;
      const result = byPartner.get(partner.name) as WebhookPartnerResult;
      const requestStarted = performance.now();
      let answer: string;
      try {
        const response = await fetch(`${url}/partners/${partner.name}/discounts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: json,
          signal: AbortSignal.timeout(options.host.point.info.limits.timeoutMs * 20),
        });
        answer = await response.text();
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
      } catch {
        result.failures++;
        continue;
      } finally {
        result.callMicros.push((performance.now() - requestStarted) * 1000);
        bytesSent += Buffer.byteLength(json);
      }
      // Judged exactly as the platform judges a plug-in's answer: JSON, the schema, the host's rules.
      const verdict = options.host.point.judge(invoice, answer, {
        tenant: merchant.tenant,
        key: invoice.id,
        installation: 'webhook',
        plugin: 'webhook',
        partner: options.host.partnerIds.get(partner.name) ?? partner.name,
        config: partner.config ?? {},
        earlier,
      });
      if (verdict.outcome !== 'ok') {
        result.failures++;
        continue;
      }
      const accepted = verdict.output as DiscountAnswer;
      earlier.push(accepted);
      if (!sameDiscounts(accepted.discounts, applied.all(invoice.id, partner.name) as DiscountLine[])) result.mismatches++;
    }
    done++;
    if (done % every === 0) options.onProgress?.(done, total);
  }
  options.onProgress?.(done, total);
  return { invoices: done, bytesSent, elapsedMs: performance.now() - started, byPartner };
}
