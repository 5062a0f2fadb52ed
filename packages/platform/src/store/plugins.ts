// Plug-in lines and their versions (with the module bytes). `partnerId` narrows every read to one
// partner's rows when given: the domain passes it for a partner actor.
import type { Db, Row } from './schema.js';

export type PluginRow = Row<'plugins'>;
export type VersionRow = Row<'versions'>;
export type VersionSummaryRow = Omit<VersionRow, 'module'>;

export async function insertPlugin(db: Db, row: PluginRow): Promise<void> {
  await db.insertInto('plugins').values(row).execute();
}

export function findPlugin(db: Db, id: string, partnerId: string | undefined): Promise<PluginRow | undefined> {
  let query = db.selectFrom('plugins').selectAll().where('id', '=', id);
  if (partnerId !== undefined) query = query.where('partner_id', '=', partnerId);
  return query.executeTakeFirst();
}

export function findPluginByName(db: Db, partnerId: string, extensionPoint: string, name: string): Promise<PluginRow | undefined> {
  return db
    .selectFrom('plugins')
    .selectAll()
    .where('partner_id', '=', partnerId)
    .where('extension_point', '=', extensionPoint)
    .where('name', '=', name)
    .executeTakeFirst();
}

export function listPlugins(db: Db, partnerId: string | undefined, extensionPoint: string | undefined): Promise<PluginRow[]> {
  let query = db.selectFrom('plugins').selectAll();
  if (partnerId !== undefined) query = query.where('partner_id', '=', partnerId);
  if (extensionPoint !== undefined) query = query.where('extension_point', '=', extensionPoint);
  return query.orderBy('created_at').orderBy('id').execute();
}

const SUMMARY = ['id', 'plugin_id', 'sha256', 'size', 'status', 'report', 'created_at'] as const;

export async function insertVersion(db: Db, row: VersionRow): Promise<void> {
  await db.insertInto('versions').values(row).execute();
}

export function findVersion(db: Db, pluginId: string, id: string): Promise<VersionSummaryRow | undefined> {
  return db.selectFrom('versions').select(SUMMARY).where('plugin_id', '=', pluginId).where('id', '=', id).executeTakeFirst();
}

export function findVersionBySha(db: Db, pluginId: string, sha256: string): Promise<VersionSummaryRow | undefined> {
  return db.selectFrom('versions').select(SUMMARY).where('plugin_id', '=', pluginId).where('sha256', '=', sha256).executeTakeFirst();
}

export function listVersions(db: Db, pluginId: string): Promise<VersionSummaryRow[]> {
  return db.selectFrom('versions').select(SUMMARY).where('plugin_id', '=', pluginId).orderBy('created_at').orderBy('id').execute();
}

export async function versionModule(db: Db, id: string): Promise<Uint8Array | undefined> {
  return (await db.selectFrom('versions').select('module').where('id', '=', id).executeTakeFirst())?.module;
}

export function findVersionById(db: Db, id: string): Promise<VersionSummaryRow | undefined> {
  return db.selectFrom('versions').select(SUMMARY).where('id', '=', id).executeTakeFirst();
}
