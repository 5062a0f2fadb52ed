// Replays and the records they read.
import type { RecordRow } from './records.js';
import type { Db, Row } from './schema.js';

export type ReplayRow = Row<'replays'>;

export async function insertReplay(db: Db, row: ReplayRow): Promise<void> {
  await db.insertInto('replays').values(row).execute();
}

export function findReplay(db: Db, id: string, partnerId: string | undefined): Promise<ReplayRow | undefined> {
  let query = db.selectFrom('replays').selectAll().where('id', '=', id);
  if (partnerId !== undefined) query = query.where('partner_id', '=', partnerId);
  return query.executeTakeFirst();
}

/** The latest replay of a version, or undefined. */
export function latestReplay(db: Db, versionId: string): Promise<ReplayRow | undefined> {
  return db.selectFrom('replays').selectAll().where('version_id', '=', versionId).orderBy('created_at', 'desc').limit(1).executeTakeFirst();
}

/** The newest `limit` records of a plug-in's other versions, newest first. */
export function recordsOfOtherVersions(db: Db, pluginId: string, versionId: string, limit: number): Promise<RecordRow[]> {
  return db
    .selectFrom('records')
    .selectAll()
    .where('plugin_id', '=', pluginId)
    .where('version_id', '!=', versionId)
    .orderBy('seq', 'desc')
    .limit(limit)
    .execute();
}

/** The newest `limit` records of a point, newest first. */
export function recordsOfPoint(db: Db, extensionPoint: string, limit: number): Promise<RecordRow[]> {
  return db.selectFrom('records').selectAll().where('extension_point', '=', extensionPoint).orderBy('seq', 'desc').limit(limit).execute();
}
