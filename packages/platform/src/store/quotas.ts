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
