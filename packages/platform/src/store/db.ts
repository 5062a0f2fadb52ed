// Opening the store: which engine a store URL names, the connection, and the migrations.
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { invalid, PlatformError } from '../errors.js';
import { type Engine, migrationProvider } from './migrations.js';
import type { Database } from './schema.js';
import { SchemaDialect } from './schema-introspector.js';
import { UnavailableMapping } from './unavailable.js';

export interface OpenStore {
  db: Kysely<Database>;
  engine: Engine;
  /** PostgreSQL only: how to open a dedicated connection (LISTEN) to the same database and schema. */
  postgres?: { config: pg.ClientConfig; schema: string };
}

/** How the store URL is shown in messages: never with its password. */
export function redact(url: string): string {
  return url.replace(/:[^:@/]*@/, ':***@');
}

/**
 * `:memory:` or `sqlite::memory:` (a private in-memory database), `sqlite:PATH` (a file, WAL), or
 * `postgres://user:password@host:port/database[?schema=NAME]` (PostgreSQL; `schema` defaults to public).
 */
export async function openStore(url: string): Promise<OpenStore> {
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgres(url);
  let path: string;
  if (url === ':memory:' || url === 'sqlite::memory:') path = ':memory:';
  else if (url.startsWith('sqlite:') && url.length > 'sqlite:'.length) path = url.slice('sqlite:'.length);
  else throw invalid('store', `expected ":memory:", "sqlite:PATH" or "postgres://...", got "${redact(url)}"`);
  let sqlite: BetterSqlite3.Database;
  try {
    sqlite = new BetterSqlite3(path);
  } catch (error) {
    throw invalid('store', `cannot open "${path}": ${(error as Error).message}`);
  }
  // WAL: readers never block the writer, and a commit survives a killed process (synchronous=NORMAL).
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  await migrate(db, 'sqlite', undefined);
  return { db, engine: 'sqlite' };
}

// int8 (bigint) columns hold milliseconds, fuel and sequence numbers, all far below 2^53: read them
// as numbers, as SQLite gives them, instead of pg's default strings. Per pool, not pg's global table,
// so a host's own use of pg is untouched.
const INT8 = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

async function openPostgres(url: string): Promise<OpenStore> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid('store', `not a valid PostgreSQL URL: "${redact(url)}"`);
  }
  const schema = parsed.searchParams.get('schema') ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw invalid('store', `schema must be a lower-case SQL identifier, got "${schema}"`);
  parsed.searchParams.delete('schema');
  const config: pg.ClientConfig = {
    connectionString: parsed.toString(),
    types,
    // Every connection works in the store's schema; a change fails fast when the server is gone.
    options: `-c search_path=${schema}`,
    connectionTimeoutMillis: 5000,
  };
  const pool = new pg.Pool({ ...config, max: 10 });
  // An idle connection the server dropped (restart, failover) is reported here; without a listener
  // pg would crash the process. The next query opens a new connection.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new UnavailableMapping(new SchemaDialect({ pool }, schema), redact(url)) });
  try {
    // The identifier was checked above: lower-case letters, digits and underscores only.
    await sql.raw(`create schema if not exists "${schema}"`).execute(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  await migrate(db, 'postgres', schema);
  return { db, engine: 'postgres', postgres: { config, schema } };
}

async function migrate(db: Kysely<Database>, engine: Engine, schema: string | undefined): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: migrationProvider(engine),
    migrationTableName: 'tenon_migrations',
    // Named, so migrations in one schema never see another schema's migration table.
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new PlatformError('INVALID', `Cannot migrate the store (migration "${failed}"): ${(error as Error).message}`, {
      cause: error,
      field: 'store',
    });
  }
}
