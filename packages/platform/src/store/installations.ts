// Installations: a tenant's plug-ins on a point, in order.
import type { Db, Row } from './schema.js';

export type InstallationRow = Row<'installations'>;

export async function insertInstallation(db: Db, row: InstallationRow): Promise<void> {
  await db.insertInto('installations').values(row).execute();
}

export async function updateInstallation(db: Db, id: string, changes: Partial<InstallationRow>): Promise<void> {
  await db.updateTable('installations').set(changes).where('id', '=', id).execute();
}

export function findInstallation(db: Db, id: string): Promise<InstallationRow | undefined> {
  return db.selectFrom('installations').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listInstallations(
  db: Db,
  filter: { tenant?: string | undefined; extensionPoint?: string | undefined; plugin?: string | undefined },
): Promise<InstallationRow[]> {
  let query = db.selectFrom('installations').selectAll();
  if (filter.tenant !== undefined) query = query.where('tenant', '=', filter.tenant);
  if (filter.extensionPoint !== undefined) query = query.where('extension_point', '=', filter.extensionPoint);
  if (filter.plugin !== undefined) query = query.where('plugin_id', '=', filter.plugin);
  return query.orderBy('extension_point').orderBy('tenant').orderBy('position').orderBy('created_at').orderBy('id').execute();
}

export async function lastPosition(db: Db, extensionPoint: string, tenant: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('installations')
    .select((eb) => eb.fn.max('position').as('position'))
    .where('extension_point', '=', extensionPoint)
    .where('tenant', '=', tenant)
    .executeTakeFirst();
  return row?.position ?? undefined;
}
