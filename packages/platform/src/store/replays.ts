// Replays and the records they read.
import { sql } from 'kysely';
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

export interface ReplayFilter {
  partnerId?: string | undefined;
  plugin?: string | undefined;
  version?: string | undefined;
}

/**
 * Replays newest first, after the cursor `before` (created_at and id of the last one on the previous
 * page). The whole report only for rows stored without a summary (before migration 0005).
 */
export function listReplays(db: Db, filter: ReplayFilter, before: { at: number; id: string } | undefined, limit: number) {
  let query = db
    .selectFrom('replays')
    .select(['id', 'created_at', 'summary', sql<string | null>`case when summary is null then report end`.as('report')]);
  if (filter.partnerId !== undefined) query = query.where('partner_id', '=', filter.partnerId);
  if (filter.plugin !== undefined) query = query.where('plugin_id', '=', filter.plugin);
  if (filter.version !== undefined) query = query.where('version_id', '=', filter.version);
  if (before !== undefined) {
    query = query.where((eb) =>
      eb.or([eb('created_at', '<', before.at), eb.and([eb('created_at', '=', before.at), eb('id', '<', before.id)])]),
    );
  }
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}
