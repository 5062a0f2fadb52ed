// Numbered, forward-only migrations. A released migration is never edited: a change is a new one.
// Only the sequence column differs between engines (SQLite's autoincrement, PostgreSQL's identity).

import type { Migration, MigrationProvider } from 'kysely';
import { type Kysely, sql } from 'kysely';
import { migration0002 } from './migration-0002-replay-rollout.js';
import { migration0004 } from './migration-0004-record-writers.js';
import { migration0005 } from './migration-0005-dashboard.js';
import { migration0006 } from './migration-0006-record-logs.js';
import { migration0007 } from './migration-0007-record-recovery.js';

export type Engine = 'sqlite' | 'postgres';

function seqColumn(engine: Engine) {
  return engine === 'sqlite' ? sql`integer primary key autoincrement` : sql`bigint generated always as identity primary key`;
}

function migrations(engine: Engine): Record<string, Migration> {
  return {
    '0001_initial': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('settings')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('partners')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('key_hash', 'text', (c) => c.notNull().unique())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('extension_points')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('definition', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('plugins')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('partner_id', 'text', (c) => c.notNull().references('partners.id'))
          .addColumn('extension_point', 'text', (c) => c.notNull().references('extension_points.name'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addUniqueConstraint('plugins_partner_point_name', ['partner_id', 'extension_point', 'name'])
          .execute();
        await db.schema
          .createTable('versions')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('plugin_id', 'text', (c) => c.notNull().references('plugins.id'))
          .addColumn('sha256', 'text', (c) => c.notNull())
          .addColumn('size', 'integer', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('report', 'text', (c) => c.notNull())
          .addColumn('module', engine === 'sqlite' ? 'blob' : 'bytea', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addUniqueConstraint('versions_plugin_sha256', ['plugin_id', 'sha256'])
          .execute();
        await db.schema
          .createTable('installations')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant', 'text', (c) => c.notNull())
          .addColumn('extension_point', 'text', (c) => c.notNull().references('extension_points.name'))
          .addColumn('plugin_id', 'text', (c) => c.notNull().references('plugins.id'))
          .addColumn('partner_id', 'text', (c) => c.notNull().references('partners.id'))
          .addColumn('version_id', 'text', (c) => c.notNull().references('versions.id'))
          .addColumn('config', 'text', (c) => c.notNull())
          .addColumn('grants', 'text', (c) => c.notNull())
          .addColumn('position', 'integer', (c) => c.notNull())
          .addColumn('enabled', 'integer', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('installations_point_tenant').on('installations').columns(['extension_point', 'tenant']).execute();
        await db.schema
          .createTable('records')
          // `id` is random (16 bytes) and never looked up alone: no unique index, which would cost
          // a third of the write rate (random keys into a B-tree).
          .addColumn('seq', sql``, (c) => c.modifyFront(seqColumn(engine)))
          .addColumn('id', 'text', (c) => c.notNull())
          .addColumn('extension_point', 'text', (c) => c.notNull())
          .addColumn('tenant', 'text', (c) => c.notNull())
          .addColumn('run_key', 'text')
          .addColumn('installation_id', 'text', (c) => c.notNull())
          .addColumn('plugin_id', 'text', (c) => c.notNull())
          .addColumn('partner_id', 'text', (c) => c.notNull())
          .addColumn('version_id', 'text', (c) => c.notNull())
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('code', 'text')
          .addColumn('message', 'text')
          .addColumn('input', 'text', (c) => c.notNull())
          .addColumn('output', 'text')
          .addColumn('config', 'text', (c) => c.notNull())
          .addColumn('fuel', 'bigint', (c) => c.notNull())
          .addColumn('budget', 'bigint', (c) => c.notNull())
          .addColumn('duration_us', 'bigint', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('records_point_seq').on('records').columns(['extension_point', 'seq']).execute();
        await db.schema.createIndex('records_partner_seq').on('records').columns(['partner_id', 'seq']).execute();
        await db.schema
          .createTable('quotas')
          .addColumn('partner_id', 'text', (c) => c.primaryKey().references('partners.id'))
          .addColumn('runs_per_minute', 'bigint')
          .addColumn('fuel_per_day', 'bigint')
          .execute();
        await db.schema
          .createTable('events')
          .addColumn('seq', sql``, (c) => c.modifyFront(seqColumn(engine)))
          .addColumn('id', 'text', (c) => c.notNull().unique())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('partner_id', 'text')
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('data', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('events_partner_seq').on('events').columns(['partner_id', 'seq']).execute();
      },
    },
    '0002_scale_out': {
      async up(db: Kysely<unknown>) {
        // Quota usage shared by every process: one counter per partner and period ("m:<minute>"
        // runs, "d:<day>" fuel), incremented atomically.
        await db.schema
          .createTable('quota_usage')
          .addColumn('partner_id', 'text', (c) => c.notNull())
          .addColumn('period', 'text', (c) => c.notNull())
          .addColumn('amount', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('quota_usage_pk', ['partner_id', 'period'])
          .execute();
        // Record batches written, by id: a batch retried after a lost commit acknowledgement is
        // recognised and not written twice.
        await db.schema
          .createTable('record_batches')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('rows', 'integer', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .execute();
        if (engine === 'postgres') {
          // Every appended event is announced to every process (LISTEN tenon_events) at its commit,
          // with the schema so stores sharing a database tell their events apart.
          await sql`create function tenon_notify_event() returns trigger language plpgsql as $$
            begin perform pg_notify('tenon_events', TG_TABLE_SCHEMA || ':' || NEW.seq); return null; end $$`.execute(db);
          await sql`create trigger events_notify after insert on events for each row execute function tenon_notify_event()`.execute(db);
        }
      },
    },
    '0003_replay_rollout': migration0002,
    '0004_record_writers': migration0004,
    '0005_dashboard': migration0005,
    '0006_record_logs': migration0006,
    '0007_record_recovery': migration0007,
  };
}

/** The migrations for one engine, in order. */
export function migrationProvider(engine: Engine): MigrationProvider {
  return { getMigrations: async () => migrations(engine) };
}
