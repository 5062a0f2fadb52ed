import { createHash, randomBytes } from 'node:crypto';

/** The cookie that carries a dashboard session's id (never the key itself). */
export const SESSION_COOKIE = 'tenon_session';

/** Options of the session store. */
export interface SessionOptions {
  /** How long a session lasts from sign-in, in milliseconds. Default 12 hours. */
  ttlMs?: number;
  /** Most sessions held at once; past it the oldest is dropped. Default 10,000. */
  max?: number;
}

/**
 * Browser sessions of this process: a random id in an HttpOnly cookie stands for the API key the
 * user signed in with. The key is resolved again on every request, so a rotated key ends its
 * sessions at once. Held in memory, by the sha256 of the id: a restart signs everyone out.
 */
export class Sessions {
  readonly #byHash = new Map<string, { key: string; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: SessionOptions = {}, now: () => number = Date.now) {
    this.#ttlMs = options.ttlMs ?? 12 * 60 * 60 * 1000;
    this.#max = options.max ?? 10_000;
    this.#now = now;
  }

  /** Lifetime of a new session, in seconds (the cookie's Max-Age). */
  get maxAgeSeconds(): number {
    return Math.floor(this.#ttlMs / 1000);
  }

  /** Starts a session for a key already checked; returns its id for the cookie. */
  open(key: string): string {
    const id = randomBytes(32).toString('base64url');
    if (this.#byHash.size >= this.#max) {
      // Maps iterate in insertion order: the first entry is the oldest session.
      const oldest = this.#byHash.keys().next().value;
      if (oldest !== undefined) this.#byHash.delete(oldest);
    }
    this.#byHash.set(hash(id), { key, expiresAt: this.#now() + this.#ttlMs });
    return id;
  }

  /** The key a live session stands for, or undefined (unknown or expired). */
  keyOf(id: string): string | undefined {
    const h = hash(id);
    const session = this.#byHash.get(h);
    if (session === undefined) return undefined;
    if (session.expiresAt <= this.#now()) {
      this.#byHash.delete(h);
      return undefined;
    }
    return session.key;
  }

  /** Ends a session (sign-out); unknown ids are ignored. */
  close(id: string): void {
    this.#byHash.delete(hash(id));
  }
}

function hash(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}
