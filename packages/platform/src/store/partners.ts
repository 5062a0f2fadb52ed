// Partners, their key hashes, and the operator key's hash (a setting).
import type { Db, Row } from './schema.js';

export type PartnerRow = Row<'partners'>;

export async function insertPartner(db: Db, row: PartnerRow): Promise<void> {
  await db.insertInto('partners').values(row).execute();
}

export function findPartner(db: Db, id: string): Promise<PartnerRow | undefined> {
  return db.selectFrom('partners').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findPartnerByKeyHash(db: Db, keyHash: string): Promise<PartnerRow | undefined> {
  return db.selectFrom('partners').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
}

export function listPartners(db: Db): Promise<PartnerRow[]> {
  return db.selectFrom('partners').selectAll().orderBy('created_at').orderBy('id').execute();
}

export async function setPartnerKeyHash(db: Db, id: string, keyHash: string): Promise<void> {
  await db.updateTable('partners').set({ key_hash: keyHash }).where('id', '=', id).execute();
}

export async function getSetting(db: Db, key: string): Promise<string | undefined> {
  return (await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst())?.value;
}

export async function putSetting(db: Db, key: string, value: string): Promise<void> {
  await db
    .insertInto('settings')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute();
}
