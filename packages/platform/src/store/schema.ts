// The tables, as Kysely sees them. JSON is stored as text and booleans as 0/1, so the same queries
// run on SQLite and PostgreSQL; ids are random opaque strings, except `seq`, the order of the logs.
import type { Generated, Kysely, Transaction } from 'kysely';

export interface Database {
  settings: { key: string; value: string };
  partners: { id: string; name: string; key_hash: string; created_at: number };
  extension_points: { name: string; definition: string; created_at: number; updated_at: number };
  plugins: { id: string; partner_id: string; extension_point: string; name: string; created_at: number };
  versions: {
    id: string;
    plugin_id: string;
    sha256: string;
    size: number;
    status: 'validated' | 'rejected';
    report: string;
    module: Uint8Array;
    created_at: number;
  };
  installations: {
    id: string;
    tenant: string;
    extension_point: string;
    plugin_id: string;
    partner_id: string;
    version_id: string;
    config: string;
    grants: string;
    position: number;
    enabled: number;
    created_at: number;
    updated_at: number;
    candidate_version_id: string | null;
    candidate: string | null;
  };
  replays: {
    id: string;
    version_id: string;
    plugin_id: string;
    partner_id: string;
    extension_point: string;
    passed: number;
    report: string;
    /** The report without its per-record results, JSON; null for replays stored before migration 0005. */
    summary: string | null;
    created_at: number;
  };
  records: {
    seq: Generated<number>;
    id: string;
    extension_point: string;
    tenant: string;
    run_key: string | null;
    installation_id: string;
    plugin_id: string;
    partner_id: string;
    version_id: string;
    outcome: 'ok' | 'contained' | 'rejected';
    code: string | null;
    message: string | null;
    input: string;
    output: string | null;
    config: string;
    /** The run's imports (host function and HTTP answers), JSON; null when it asked for none. */
    imports: string | null;
    /** The plug-in's log lines in the run, JSON `{ lines, dropped }` (migration 0006); null when it logged none. */
    logs: string | null;
    fuel: number;
    budget: number;
    duration_us: number;
    at: number;
  };
  quotas: { partner_id: string; runs_per_minute: number | null; fuel_per_day: number | null };
  quota_usage: { partner_id: string; period: string; amount: number };
  record_batches: { id: string; rows: number; at: number };
  /** Per writing process: records accepted (synced periodically) and committed (with each batch), both since it started. */
  record_writers: { id: string; accepted: number; written: number; seen_at: number; reported_at: number | null };
  events: {
    seq: Generated<number>;
    id: string;
    type: string;
    at: number;
    partner_id: string | null;
    subject: string;
    data: string;
  };
}

/** The database or a transaction on it: every store function takes either. */
export type Db = Kysely<Database> | Transaction<Database>;

export type Row<T extends keyof Database> = { [K in keyof Database[T]]: Database[T][K] extends Generated<infer V> ? V : Database[T][K] };
