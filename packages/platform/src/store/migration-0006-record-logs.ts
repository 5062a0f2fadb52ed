// Migration 0006: a record keeps its plug-in's log lines, JSON `{ lines, dropped }`, null when the
// run logged none. A nullable column with no default: on both engines adding it rewrites no row.
import type { Kysely, Migration } from 'kysely';

export const migration0006: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('records').addColumn('logs', 'text').execute();
  },
};
