// Extension points: the definition as JSON text.
import type { Db, Row } from './schema.js';

export type ExtensionPointRow = Row<'extension_points'>;

export function findExtensionPoint(db: Db, name: string): Promise<ExtensionPointRow | undefined> {
  return db.selectFrom('extension_points').selectAll().where('name', '=', name).executeTakeFirst();
}

export function listExtensionPoints(db: Db): Promise<ExtensionPointRow[]> {
  return db.selectFrom('extension_points').selectAll().orderBy('name').execute();
}

export async function upsertExtensionPoint(db: Db, row: ExtensionPointRow): Promise<void> {
  await db
    .insertInto('extension_points')
    .values(row)
    .onConflict((oc) => oc.column('name').doUpdateSet({ definition: row.definition, updated_at: row.updated_at }))
    .execute();
}
