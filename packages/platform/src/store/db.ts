// Opening the store: which engine a store URL names, the connection, and the migrations.
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import { invalid, PlatformError } from '../errors.js';
import { type Engine, migrationProvider } from './migrations.js';
import type { Database } from './schema.js';

export interface OpenStore {
  db: Kysely<Database>;
  engine: Engine;
}

/**
 * `:memory:` or `sqlite::memory:` (a private in-memory database), `sqlite:PATH` (a file, WAL).
 * PostgreSQL (`postgres://`) is the next engine: a dialect here and a test run, not a rewrite.
 */
export async function openStore(url: string): Promise<OpenStore> {
  let path: string;
  if (url === ':memory:' || url === 'sqlite::memory:') path = ':memory:';
  else if (url.startsWith('sqlite:') && url.length > 'sqlite:'.length) path = url.slice('sqlite:'.length);
  else if (/^postgres(ql)?:\/\//.test(url)) {
    throw invalid('store', `PostgreSQL is not supported yet, got "${url.replace(/:[^:@/]*@/, ':***@')}"`);
  } else throw invalid('store', `expected ":memory:" or "sqlite:PATH", got "${url}"`);
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
  await migrate(db, 'sqlite');
  return { db, engine: 'sqlite' };
}

async function migrate(db: Kysely<Database>, engine: Engine): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider(engine), migrationTableName: 'tenon_migrations' });
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
