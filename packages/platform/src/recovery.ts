// Recovery of the records a dead process left in the spool. A writer is dead when, on this host,
// its pid is gone (or is this process's, under a writer no longer open here); on another host (a
// shared directory, a container started again under a new name), when its row in the store has
// been quiet for `lostAfterMs` (or was reported, or is missing) and so have its segments. Each
// dead writer's batches are inserted in one transaction under their own ids (a batch that had
// committed before the death is refused and only its file goes), added to its committed count, and
// announced by a `records.recovered` event; drops it noted and had not reported, by `records.dropped`.
import type { Context } from './context.js';
import type { Spool, SpooledBatch } from './spool.js';
import type { EventRow } from './store/events.js';
import { claimBatch, creditWriter, insertRecords, writerStates } from './store/records.js';

export interface RecoveryRules {
  /** Writers on other hosts quiet since before this (ms) are dead; undefined: judge none yet. */
  quietBefore: number | undefined;
}

/**
 * Recovers every dead writer's segments; returns the number of records inserted. A writer whose
 * batches cannot be inserted is reported to `onError` and tried again at the next check, without
 * holding up the others (or the platform's start).
 */
export async function recoverSpool(ctx: Context, spool: Spool, rules: RecoveryRules, onError: (error: unknown) => void): Promise<number> {
  const holders = spool.holders();
  if (holders.length === 0) return 0;
  // Asked once per holder: on this host it costs a signal to the holder's pid.
  const deadHere = new Map(holders.map((h) => [h, spool.deadHere(h)]));
  const states = new Map<string, { seen_at: number; reported_at: number | null }>();
  if (rules.quietBefore !== undefined) {
    const elsewhere = holders.filter((h) => deadHere.get(h) === undefined).map((h) => h.writer);
    for (const w of await writerStates(ctx.db, elsewhere)) states.set(w.id, w);
  }
  const byOrigin = new Map<string, SpooledBatch[]>();
  for (const holder of holders) {
    let dead = deadHere.get(holder);
    if (dead === undefined && rules.quietBefore !== undefined) {
      const state = states.get(holder.writer);
      // Its files too: a writer cut off from the store but alive still appends to its segment.
      dead =
        (state === undefined || state.reported_at !== null || Number(state.seen_at) < rules.quietBefore) &&
        spool.modifiedAt(holder.names) < rules.quietBefore;
    }
    if (dead !== true) continue;
    for (const name of holder.names) {
      const batch = spool.claim(name);
      if (batch === undefined) continue;
      const batches = byOrigin.get(batch.origin) ?? [];
      batches.push(batch);
      byOrigin.set(batch.origin, batches);
    }
  }
  let total = 0;
  for (const [writer, batches] of byOrigin) {
    let committed: { recovered: number; events: EventRow[] };
    try {
      committed = await insertBatches(ctx, writer, batches);
    } catch (error) {
      onError(error);
      continue;
    }
    const { recovered, events } = committed;
    // Committed: the claimed files are ours alone and may go; a failure before leaves them to retry.
    for (const batch of batches) spool.remove(batch.path);
    for (const event of events) ctx.events.publish(event);
    total += recovered;
  }
  return total;
}

/** One dead writer's batches in one transaction: the rows of those not yet written, its count, the events. */
function insertBatches(ctx: Context, writer: string, batches: readonly SpooledBatch[]) {
  return ctx.db.transaction().execute(async (trx) => {
    let recovered = 0;
    let dropped = 0;
    for (const batch of batches) {
      if (!(await claimBatch(trx, batch.id, batch.rows.length, ctx.now()))) continue;
      await insertRecords(trx, batch.rows);
      recovered += batch.rows.length;
      dropped += batch.dropped;
    }
    const events: EventRow[] = [];
    if (recovered > 0) {
      await creditWriter(trx, writer, recovered);
      events.push(await ctx.events.append(trx, 'records.recovered', 'records', null, { writer, recovered }));
    }
    if (dropped > 0) events.push(await ctx.events.append(trx, 'records.dropped', 'records', null, { writer, dropped }));
    return { recovered, events };
  });
}
