// Migration 0002: what replay and rollout need. Records keep their imports (host function and HTTP
// answers); replays keep their reports; installations may carry a candidate version with a share
// (canary) or a sample (shadow), and the rollout's thresholds. Plain ALTER/CREATE, the same on both engines.
import type { Kysely, Migration } from 'kysely';

export const migration0002: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('records').addColumn('imports', 'text').execute();
    await db.schema.createIndex('records_plugin_seq').on('records').columns(['plugin_id', 'seq']).execute();
    await db.schema
      .createTable('replays')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('version_id', 'text', (c) => c.notNull().references('versions.id'))
      .addColumn('plugin_id', 'text', (c) => c.notNull().references('plugins.id'))
      .addColumn('partner_id', 'text', (c) => c.notNull().references('partners.id'))
      .addColumn('extension_point', 'text', (c) => c.notNull())
      .addColumn('passed', 'integer', (c) => c.notNull())
      .addColumn('report', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('replays_version').on('replays').columns(['version_id', 'created_at']).execute();
    await db.schema.alterTable('installations').addColumn('candidate_version_id', 'text').execute();
    // The candidate's rollout as JSON: mode (canary or shadow), percent, thresholds, since.
    await db.schema.alterTable('installations').addColumn('candidate', 'text').execute();
  },
};
