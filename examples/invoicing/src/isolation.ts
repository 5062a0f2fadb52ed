// What a fresh instance for every invoice costs, partner by partner: the same invoices through one
// kept instance and through a new instance each (instantiate, call, close: what the platform does
// for `isolation: 'fresh'`), taken in turn so a busy machine weighs on both alike. Invoices come
// one per event-loop turn, as a server's do (a closed instance is restored in the turn between),
// and then back to back (each instantiate() restores the instance the last close() gave back).
import { setImmediate as turn } from 'node:timers/promises';
import type { Limits } from '@tenon/platform';
import { compilePlugin } from '@tenon/runtime';
import type { Partner } from './partners.js';
import { percentile } from './report.js';
import { sampleInvoice } from './sample-invoices.js';

export interface IsolationFigures {
  partner: string;
  invoices: number;
  /** p50 of one call on an instance kept across invoices, in µs. */
  reusedMicros: number;
  /** p50 of instantiate + call + close, in µs, one invoice per event-loop turn. */
  freshMicros: number;
  /** The kept instance's p50, invoices back to back. */
  reusedBackToBackMicros: number;
  /** The fresh p50, invoices back to back. */
  backToBackMicros: number;
}

export async function compareIsolation(partners: readonly Partner[], limits: Limits, invoices = 1000): Promise<IsolationFigures[]> {
  const inputs = Array.from({ length: invoices }, (_, n) => Buffer.from(JSON.stringify(sampleInvoice(n + 1))));
  const figures: IsolationFigures[] = [];
  for (const partner of partners) {
    const compiled = await compilePlugin(partner.wasmPath, {
      config: partner.config ?? {},
      allowedHosts: partner.allowedHosts ?? [],
      logLevel: 'off',
      meter: true,
      fuel: limits.fuel,
      timeoutMs: limits.timeoutMs,
      memory: { maxPages: limits.maxPages },
      limits: { maxOutputBytes: limits.maxOutputBytes },
    });
    using kept = compiled.instantiate();
    const reused: number[] = [];
    const fresh: number[] = [];
    // a hostile partner's refused answers are part of its cost: what it throws is not the point here
    const attempt = (call: () => unknown) => {
      try {
        call();
      } catch {}
    };
    const once = (input: Uint8Array) =>
      attempt(() => {
        using plugin = compiled.instantiate();
        plugin.call('discounts', input);
      });
    for (const input of inputs) {
      await turn();
      let started = performance.now();
      attempt(() => kept.call('discounts', input));
      reused.push((performance.now() - started) * 1000);
      await turn();
      started = performance.now();
      once(input);
      fresh.push((performance.now() - started) * 1000);
    }
    const backToBack: number[] = [];
    const reusedBackToBack: number[] = [];
    for (const input of inputs) {
      let started = performance.now();
      attempt(() => kept.call('discounts', input));
      reusedBackToBack.push((performance.now() - started) * 1000);
      started = performance.now();
      once(input);
      backToBack.push((performance.now() - started) * 1000);
    }
    figures.push({
      partner: partner.name,
      invoices,
      reusedMicros: percentile(reused, 0.5),
      freshMicros: percentile(fresh, 0.5),
      reusedBackToBackMicros: percentile(reusedBackToBack, 0.5),
      backToBackMicros: percentile(backToBack, 0.5),
    });
  }
  return figures;
}
