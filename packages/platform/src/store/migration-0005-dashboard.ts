// Migration 0005: what the dashboard reads at 100,000 runs. The overview's aggregates read a window
// of runs by time: one index on `at` that also holds every column they group and sum, so the scan
// never touches the rows (whose inputs and outputs are most of their bytes). The runs list filters
// by tenant, version and outcome in `seq` order: an index each, so a rare filter value (a failing
// outcome, an old version) does not scan every run to fill a page. Replays keep their summary beside
// the report, so listing them does not parse every per-record result. Plain CREATE/ALTER, the same
// on both engines.
import type { Kysely, Migration } from 'kysely';

export const migration0005: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createIndex('records_at_costs')
      .on('records')
      .columns(['at', 'extension_point', 'plugin_id', 'partner_id', 'outcome', 'code', 'fuel', 'budget'])
      .execute();
    await db.schema.createIndex('records_tenant_seq').on('records').columns(['tenant', 'seq']).execute();
    await db.schema.createIndex('records_version_seq').on('records').columns(['version_id', 'seq']).execute();
    await db.schema.createIndex('records_outcome_seq').on('records').columns(['outcome', 'seq']).execute();
    await db.schema.alterTable('replays').addColumn('summary', 'text').execute();
    await db.schema.createIndex('replays_created').on('replays').columns(['created_at', 'id']).execute();
    await db.schema.createIndex('replays_partner_created').on('replays').columns(['partner_id', 'created_at', 'id']).execute();
  },
};
