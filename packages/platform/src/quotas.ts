// Per-partner quotas: runs per minute and fuel per day, counted in this process on the run path
// (no query per run) and shared with every other process on the store: every `syncMs` this process
// adds what it counted to one atomic counter per partner and period in the store and reads back the
// total of all processes. So a burst across P processes can pass a limit by what the other P-1
// processes admitted since their last sync (see docs/scale-out.md). Over quota, a partner's run is
// contained with QUOTA_EXCEEDED and the host goes on; the first refusal in each window appends a
// `quota.exceeded` event.
import type { Quotas } from './api.js';
import { type Context, partnerScope, requireOperator } from './context.js';
import { invalid, notFound } from './errors.js';
import { findPartner } from './store/partners.js';
import { addQuotaUsage, findQuota, listQuotas, trimQuotaUsage, upsertQuota } from './store/quotas.js';
import type { Actor, Quota } from './types.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

interface Usage {
  minute: number;
  /** Runs this minute: every process's as of the last sync, plus this process's since. */
  runs: number;
  /** This process's runs this minute not yet added to the store's counter. */
  pendingRuns: number;
  day: number;
  fuel: number;
  pendingFuel: number;
  /** The windows in which a refusal was already reported as an event. */
  reportedMinute: number;
  reportedDay: number;
  /** The minute whose older counters this process last deleted. */
  trimmedMinute: number;
}

export class QuotaDomain implements Quotas {
  readonly #ctx: Context;
  readonly #limits = new Map<string, Quota>();
  readonly #usage = new Map<string, Usage>();
  readonly #onError: (error: unknown) => void;

  readonly #syncMs: number;
  #timer: NodeJS.Timeout | undefined;
  #syncing: Promise<void> | undefined;

  /** `syncMs`: how often counts are shared with the other processes, in milliseconds. */
  constructor(ctx: Context, onError: (error: unknown) => void, syncMs = 100) {
    this.#ctx = ctx;
    this.#onError = onError;
    this.#syncMs = syncMs;
  }

  /** A quota set through another process (its `quota.set` event). */
  applied(partnerId: string, data: Record<string, unknown>): void {
    const number = (v: unknown) => (typeof v === 'number' ? v : null);
    this.#limits.set(partnerId, { partnerId, runsPerMinute: number(data.runsPerMinute), fuelPerDay: number(data.fuelPerDay) });
  }

  /** Adds this process's counts to the store's shared counters and reads back every process's totals. */
  sync(): Promise<void> {
    if (this.#syncing === undefined) {
      this.#syncing = this.#sync().finally(() => {
        this.#syncing = undefined;
      });
    }
    return this.#syncing;
  }

  async #sync(): Promise<void> {
    for (const [partnerId, usage] of this.#usage) {
      const { minute, day } = usage;
      const runs = usage.pendingRuns;
      const fuel = usage.pendingFuel;
      usage.pendingRuns = 0;
      usage.pendingFuel = 0;
      try {
        const totalRuns = await addQuotaUsage(this.#ctx.db, partnerId, `m:${minute}`, runs);
        const totalFuel = await addQuotaUsage(this.#ctx.db, partnerId, `d:${day}`, fuel);
        // Totals of every process, plus what this process counted while the queries ran.
        if (usage.minute === minute) usage.runs = totalRuns + usage.pendingRuns;
        if (usage.day === day) usage.fuel = totalFuel + usage.pendingFuel;
        if (usage.trimmedMinute !== minute) {
          usage.trimmedMinute = minute;
          await trimQuotaUsage(this.#ctx.db, partnerId, [`m:${minute}`, `d:${day}`]);
        }
      } catch (error) {
        // The store is unreachable: keep counting here and add it all at the next sync.
        if (usage.minute === minute) usage.pendingRuns += runs;
        if (usage.day === day) usage.pendingFuel += fuel;
        this.#onError(error);
        return;
      }
    }
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.sync();
    }, this.#syncMs);
    this.#timer.unref();
  }

  #closed = false;

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Reads every quota once, at start. */
  async load(): Promise<void> {
    for (const row of await listQuotas(this.#ctx.db)) this.#limits.set(row.partner_id, toQuota(row));
  }

  async set(actor: Actor, partnerId: string, quota: { runsPerMinute?: number | null; fuelPerDay?: number | null }): Promise<Quota> {
    requireOperator(actor, 'set quotas');
    if ((await findPartner(this.#ctx.db, partnerId)) === undefined) throw notFound('partner', String(partnerId));
    const current = this.#limits.get(partnerId);
    const next: Quota = {
      partnerId,
      runsPerMinute: limit(quota?.runsPerMinute, current?.runsPerMinute ?? null, 'runsPerMinute'),
      fuelPerDay: limit(quota?.fuelPerDay, current?.fuelPerDay ?? null, 'fuelPerDay'),
    };
    const event = await this.#ctx.db.transaction().execute(async (trx) => {
      await upsertQuota(trx, { partner_id: partnerId, runs_per_minute: next.runsPerMinute, fuel_per_day: next.fuelPerDay });
      return this.#ctx.events.append(trx, 'quota.set', partnerId, partnerId, {
        runsPerMinute: next.runsPerMinute,
        fuelPerDay: next.fuelPerDay,
      });
    });
    this.#ctx.events.publish(event);
    this.#limits.set(partnerId, next);
    return next;
  }

  async get(actor: Actor, partnerId: string): Promise<Quota> {
    const scope = partnerScope(actor);
    if (scope !== undefined && scope !== partnerId) throw notFound('partner', String(partnerId));
    const row = await findQuota(this.#ctx.db, partnerId);
    if (row !== undefined) return toQuota(row);
    if (scope === undefined && (await findPartner(this.#ctx.db, partnerId)) === undefined) throw notFound('partner', String(partnerId));
    return { partnerId, runsPerMinute: null, fuelPerDay: null };
  }

  /** Counts one run for the partner, or says why it may not run now. */
  admit(partnerId: string): string | undefined {
    const quota = this.#limits.get(partnerId);
    if (quota === undefined) return undefined;
    const now = this.#ctx.now();
    const usage = this.#current(partnerId, now);
    if (quota.fuelPerDay !== null && usage.fuel >= quota.fuelPerDay) {
      if (usage.reportedDay !== usage.day) {
        usage.reportedDay = usage.day;
        this.#report(partnerId, 'fuelPerDay', quota.fuelPerDay);
      }
      return `partner "${partnerId}" used its ${quota.fuelPerDay} fuel for the day`;
    }
    if (quota.runsPerMinute !== null && usage.runs >= quota.runsPerMinute) {
      if (usage.reportedMinute !== usage.minute) {
        usage.reportedMinute = usage.minute;
        this.#report(partnerId, 'runsPerMinute', quota.runsPerMinute);
      }
      return `partner "${partnerId}" made its ${quota.runsPerMinute} runs for the minute`;
    }
    usage.runs++;
    usage.pendingRuns++;
    this.#schedule();
    return undefined;
  }

  /** Adds a run's fuel to the partner's day. */
  charge(partnerId: string, fuel: number): void {
    if (!this.#limits.has(partnerId)) return;
    const usage = this.#current(partnerId, this.#ctx.now());
    usage.fuel += fuel;
    usage.pendingFuel += fuel;
    this.#schedule();
  }

  #current(partnerId: string, now: number): Usage {
    const minute = Math.floor(now / MINUTE);
    const day = Math.floor(now / DAY);
    let usage = this.#usage.get(partnerId);
    if (usage === undefined) {
      usage = { minute, runs: 0, pendingRuns: 0, day, fuel: 0, pendingFuel: 0, reportedMinute: -1, reportedDay: -1, trimmedMinute: -1 };
      this.#usage.set(partnerId, usage);
    }
    if (usage.minute !== minute) {
      usage.minute = minute;
      usage.runs = 0;
      usage.pendingRuns = 0;
    }
    if (usage.day !== day) {
      usage.day = day;
      usage.fuel = 0;
      usage.pendingFuel = 0;
    }
    return usage;
  }

  /** Resolves when every quota.exceeded event started so far is written. */
  async settled(): Promise<void> {
    while (this.#reports.size > 0) await Promise.all(this.#reports);
    await this.sync();
  }

  readonly #reports = new Set<Promise<void>>();

  /** Appends the event off the run's path; flush() and close() wait for it. */
  #report(partnerId: string, quota: 'runsPerMinute' | 'fuelPerDay', limit: number): void {
    const ctx = this.#ctx;
    const report = ctx.db
      .transaction()
      .execute((trx) => ctx.events.append(trx, 'quota.exceeded', partnerId, partnerId, { quota, limit }))
      .then((event) => ctx.events.publish(event), this.#onError)
      .finally(() => this.#reports.delete(report));
    this.#reports.add(report);
  }
}

function limit(value: number | null | undefined, current: number | null, field: string): number | null {
  if (value === undefined) return current;
  if (value === null) return null;
  if (!Number.isSafeInteger(value) || value < 0) throw invalid(field, `must be a non-negative integer or null, got ${value}`);
  return value;
}

function toQuota(row: { partner_id: string; runs_per_minute: number | null; fuel_per_day: number | null }): Quota {
  return {
    partnerId: row.partner_id,
    runsPerMinute: row.runs_per_minute === null ? null : Number(row.runs_per_minute),
    fuelPerDay: row.fuel_per_day === null ? null : Number(row.fuel_per_day),
  };
}
