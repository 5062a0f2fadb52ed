// Migration 0004: one row per process writing records, with how many records it accepted (synced
// every few tenths of a second) and how many it committed (in each batch's transaction), so the
// records a killed process had not committed are counted by whoever finds its row gone quiet.
import type { Kysely, Migration } from 'kysely';

export const migration0004: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('record_writers')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('accepted', 'bigint', (c) => c.notNull())
      .addColumn('written', 'bigint', (c) => c.notNull())
      .addColumn('seen_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};
