// The event log: appended in the transaction of the change it records, read by sequence.
import type { Db, Row } from './schema.js';

export type EventRow = Row<'events'>;

/** Appends and returns the row with its sequence number. */
export async function appendEvent(db: Db, row: Omit<EventRow, 'seq'>): Promise<EventRow> {
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
