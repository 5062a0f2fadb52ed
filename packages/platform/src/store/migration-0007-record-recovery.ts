// Migration 0007: a writer reported dead keeps its row, marked with when it was reported, instead of
// losing it: records recovered later from its spool are added to its `written`, so its count stays
// exact after the `records.lost` event (a `records.recovered` event says by how much). Nullable, no
// default: on both engines adding it rewrites no row.
import type { Kysely, Migration } from 'kysely';

export const migration0007: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('record_writers').addColumn('reported_at', 'bigint').execute();
  },
};
