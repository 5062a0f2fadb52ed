// A dialect wrapper that turns "the database cannot be reached" into one coded error, so a change
// made while PostgreSQL is down is refused with UNAVAILABLE and a message saying nothing was changed,
// instead of a raw socket error. Errors from the database itself (constraints, syntax) pass unchanged.
import type {
  CompiledQuery,
  DatabaseConnection,
  Dialect,
  DialectAdapter,
  Driver,
  Kysely,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
} from 'kysely';
import { PlatformError } from '../errors.js';

// Socket errors, and the server's "shutting down / starting up / connection lost" SQLSTATEs
// (class 57P: operator intervention, class 08: connection exception).
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);

export function isConnectionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || code.startsWith('57P') || code.startsWith('08'))) return true;
  const message = String((error as { message?: unknown }).message ?? '');
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/.test(
    message,
  );
}

export class UnavailableMapping implements Dialect {
  readonly #inner: Dialect;
  readonly #where: string;

  constructor(inner: Dialect, where: string) {
    this.#inner = inner;
    this.#where = where;
  }

  createDriver(): Driver {
    return new MappingDriver(this.#inner.createDriver(), this.#where);
  }

  createQueryCompiler(): QueryCompiler {
    return this.#inner.createQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return this.#inner.createAdapter();
  }

  createIntrospector(db: Kysely<unknown>) {
    return this.#inner.createIntrospector(db);
  }
}

class MappingDriver implements Driver {
  readonly #inner: Driver;
  readonly #where: string;
  readonly #connections = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(inner: Driver, where: string) {
    this.#inner = inner;
    this.#where = where;
  }

  #map(error: unknown): unknown {
    if (!isConnectionError(error)) return error;
    return new PlatformError(
      'UNAVAILABLE',
      `The store "${this.#where}" cannot be reached (${(error as Error).message || (error as { code?: string }).code}): nothing was changed, try again when it is back`,
      { cause: error },
    );
  }

  init(): Promise<void> {
    return this.#inner.init().catch((error: unknown) => Promise.reject(this.#map(error)));
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    let inner: DatabaseConnection;
    try {
      inner = await this.#inner.acquireConnection();
    } catch (error) {
      throw this.#map(error);
    }
    const outer: DatabaseConnection = {
      executeQuery: <R>(query: CompiledQuery): Promise<QueryResult<R>> =>
        inner.executeQuery<R>(query).catch((error: unknown) => Promise.reject(this.#map(error))),
      streamQuery: <R>(query: CompiledQuery, chunkSize: number) => inner.streamQuery<R>(query, chunkSize),
    };
    this.#connections.set(outer, inner);
    return outer;
  }

  #unwrap(connection: DatabaseConnection): DatabaseConnection {
    return this.#connections.get(connection) ?? connection;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.rollbackTransaction(this.#unwrap(connection));
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(this.#unwrap(connection));
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}
