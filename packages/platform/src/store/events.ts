// The event log: appended in the transaction of the change it records, read by sequence.
import { PostgresAdapter, sql } from 'kysely';
import type { Db, Row } from './schema.js';

export type EventRow = Row<'events'>;

/**
 * Appends and returns the row with its sequence number. Call it last in the change's transaction:
 * on PostgreSQL it holds the log's append lock until that transaction ends.
 */
export async function appendEvent(db: Db, row: Omit<EventRow, 'seq'>): Promise<EventRow> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    // A sequence number is taken at insert but visible at commit: without this lock, held to the
    // end of the transaction, a slow transaction could commit its number after a reader's cursor
    // had passed it. With it, numbers become visible in order, so reading past a cursor is complete
    // (SQLite has one writer at a time already). Per schema: stores sharing a database do not wait
    // for each other.
    await sql`select pg_advisory_xact_lock(hashtext('tenon_events:' || current_schema()))`.execute(db);
  }
  const { seq } = await db.insertInto('events').values(row).returning('seq').executeTakeFirstOrThrow();
  return { ...row, seq: Number(seq) };
}

export function listEvents(db: Db, after: number, limit: number, partnerId: string | undefined): Promise<EventRow[]> {
  let query = db.selectFrom('events').selectAll().where('seq', '>', after);
  if (partnerId !== undefined) query = query.where('partner_id', '=', partnerId);
  return query.orderBy('seq').limit(limit).execute();
}

/** The newest sequence number, 0 for an empty log. */
export async function lastEventSeq(db: Db): Promise<number> {
  const row = await db
    .selectFrom('events')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .executeTakeFirst();
  return Number(row?.seq ?? 0);
}
