// Per-partner quotas.
import type { Db, Row } from './schema.js';

export type QuotaRow = Row<'quotas'>;

export function findQuota(db: Db, partnerId: string): Promise<QuotaRow | undefined> {
  return db.selectFrom('quotas').selectAll().where('partner_id', '=', partnerId).executeTakeFirst();
}

export function listQuotas(db: Db): Promise<QuotaRow[]> {
  return db.selectFrom('quotas').selectAll().execute();
}

export async function upsertQuota(db: Db, row: QuotaRow): Promise<void> {
  await db
    .insertInto('quotas')
    .values(row)
    .onConflict((oc) => oc.column('partner_id').doUpdateSet({ runs_per_minute: row.runs_per_minute, fuel_per_day: row.fuel_per_day }))
    .execute();
}

/** Adds `amount` to a partner's counter for a period, atomically, and returns the new total (every process's). */
export async function addQuotaUsage(db: Db, partnerId: string, period: string, amount: number): Promise<number> {
  const row = await db
    .insertInto('quota_usage')
    .values({ partner_id: partnerId, period, amount })
    .onConflict((oc) =>
      oc.columns(['partner_id', 'period']).doUpdateSet((eb) => ({ amount: eb('quota_usage.amount', '+', eb.ref('excluded.amount')) })),
    )
    .returning('amount')
    .executeTakeFirstOrThrow();
  return Number(row.amount);
}

/** Forgets a partner's counters of every period but `keep` (ended periods no longer decide anything). */
export async function trimQuotaUsage(db: Db, partnerId: string, keep: readonly string[]): Promise<void> {
  await db.deleteFrom('quota_usage').where('partner_id', '=', partnerId).where('period', 'not in', keep).execute();
}
