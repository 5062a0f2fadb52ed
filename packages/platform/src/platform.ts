// createPlatform(): the store opened and migrated, and every domain wired to it with the injected
// clock, ids and randomness.
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Events, ExtensionPoint } from './api.js';
import type { Context } from './context.js';
import { PlatformError } from './errors.js';
import { EventLog } from './events.js';
import { ExtensionPointDomain } from './extension-points.js';
import { Follower } from './follow.js';
import { InstallationDomain } from './installations.js';
import { PartnerDomain } from './partners.js';
import { PluginDomain } from './plugins.js';
import { QuotaDomain } from './quotas.js';
import { Recorder, type RecorderOptions } from './records.js';
import { ReplayDomain } from './replay.js';
import { RolloutDomain } from './rollout.js';
import { Runner, type RunObserver } from './runs.js';
import { spoolDirectory } from './spool.js';
import { type OpenStore, openStore } from './store/db.js';
import { EventListener } from './store/listener.js';
import type { Database } from './store/schema.js';
import { type Actor, type ExtensionPointCode, type ExtensionPointDefinition, OPERATOR, type RunRequest, type RunResult } from './types.js';
import { VersionDomain } from './versions.js';

export type { RunObservation, RunObserver } from './runs.js';

export interface PlatformOptions {
  /** `:memory:` (default), `sqlite::memory:` or `sqlite:PATH` (a file; WAL). */
  store?: string;
  /** The clock, in milliseconds since the epoch. Default Date.now. */
  now?: () => number;
  /** Random opaque ids: called with a prefix (`pl`, `v`, `in`...). Default 16 random bytes, base64url. */
  randomId?: (prefix: string) => string;
  /** A number in [0, 1) for record sampling. Default Math.random. */
  random?: () => number;
  /** How records are batched. */
  records?: RecorderOptions;
  /** Errors off the caller's path (a record batch that failed, a subscriber that threw). Default console.error. */
  onError?: (error: unknown) => void;
  /** How often quota counts are shared with the other processes on the store, in milliseconds. Default 100. */
  quotaSyncMs?: number;
}

/** What a process holds in memory and how it stands with the store: for health checks and metrics. */
export interface PlatformStatus {
  engine: 'sqlite' | 'postgres';
  /** PostgreSQL: whether this process is told of other processes' changes now (LISTEN in place). */
  following: boolean;
  records: {
    /** Taken into the buffer by this process since it started (the store keeps this count too, see `records.lost`). */
    accepted: number;
    /** Held in memory, not yet written (waiting for a batch, or kept while the store is down). */
    buffered: number;
    /** Written by this process since it started. */
    written: number;
    /** Dropped because the buffer was full (reported by a `records.dropped` event once written). */
    dropped: number;
  };
}

export class Platform {
  readonly partners: PartnerDomain;
  readonly extensionPoints: ExtensionPointDomain;
  readonly plugins: PluginDomain;
  readonly versions: VersionDomain;
  readonly installations: InstallationDomain;
  readonly records: Recorder;
  readonly quotas: QuotaDomain;
  readonly replays: ReplayDomain;
  readonly rollouts: RolloutDomain;
  readonly events: Events;
  readonly #db: Kysely<Database>;
  readonly #runner: Runner;
  readonly #engine: 'sqlite' | 'postgres';
  readonly #follower: Follower;
  #listener: EventListener | undefined;
  #closed = false;
  readonly #onError: (error: unknown) => void;

  /** @internal use createPlatform() */
  constructor(store: OpenStore, options: PlatformOptions) {
    const { db } = store;
    this.#engine = store.engine;
    const onError = options.onError ?? ((error: unknown) => console.error('@tenon/platform:', error));
    this.#onError = onError;
    const now = options.now ?? Date.now;
    const id = options.randomId ?? ((prefix: string) => `${prefix}_${randomBytes(16).toString('base64url')}`);
    const log = new EventLog(now, id, onError);
    const ctx: Context = { db, now, id, random: options.random ?? Math.random, events: log };
    this.#db = db;
    this.partners = new PartnerDomain(ctx);
    this.extensionPoints = new ExtensionPointDomain(ctx, (name) => this.#runner.invalidatePoint(name));
    this.plugins = new PluginDomain(ctx, this.extensionPoints);
    this.versions = new VersionDomain(ctx, this.extensionPoints);
    this.installations = new InstallationDomain(ctx, this.extensionPoints, (point, tenant) => this.#runner.invalidate(point, tenant));
    this.records = new Recorder(ctx, options.records ?? {}, onError);
    this.quotas = new QuotaDomain(ctx, onError, options.quotaSyncMs);
    this.rollouts = new RolloutDomain(ctx, this.installations, (point, tenant) => this.#runner.invalidate(point, tenant), onError);
    this.#runner = new Runner(ctx, this.extensionPoints, this.quotas, this.records, this.rollouts);
    this.replays = new ReplayDomain(ctx, this.extensionPoints);
    this.#follower = new Follower(
      db,
      log,
      {
        installationChanged: (point, tenant) => this.#runner.invalidate(point, tenant, true),
        pointRedefined: (name) => this.extensionPoints.forget(name),
        quotaSet: (partnerId, data) => this.quotas.applied(partnerId, data),
      },
      onError,
    );
    this.events = {
      list: (actor, query) => log.list(db, scopeOf(actor), query),
      subscribe: (actor, listener) => log.subscribe(scopeOf(actor), listener),
    };
  }

  /** The actor an API key stands for (operator or partner), or undefined. */
  authenticate(key: string): Promise<Actor | undefined> {
    return this.partners.authenticate(key);
  }

  /** Stores the operator key (hashed); without one, generates it on first use and returns it, once. */
  ensureOperatorKey(given?: string): Promise<string | undefined> {
    return this.partners.ensureOperatorKey(given);
  }

  /** Runs an extension point for a tenant (operator only). */
  run(actor: Actor, extensionPoint: string, request: RunRequest): Promise<RunResult> {
    if (this.#closed) return Promise.reject(new PlatformError('CLOSED', `Cannot run "${extensionPoint}": the platform is closed`));
    return this.#runner.run(actor, extensionPoint, request);
  }

  /** Defines (or redefines) a point as the host, with its code, and returns its handle for runs. */
  async extensionPoint<Input = unknown>(
    definition: ExtensionPointDefinition,
    code?: ExtensionPointCode<Input, never>,
  ): Promise<ExtensionPoint<Input>> {
    const info = await this.extensionPoints.define(OPERATOR, definition, code as ExtensionPointCode | undefined);
    const name = info.name;
    const point = await this.extensionPoints.load(name);
    return {
      name,
      info,
      run: (request) => this.run(OPERATOR, name, request),
      judge: (input, answer, context) => {
        const judged = point.judge(input, answer, context);
        return judged.outcome === 'ok'
          ? { outcome: 'ok', output: judged.output }
          : { outcome: 'rejected', code: judged.code as string, message: judged.message as string };
      },
    };
  }

  /** Told of every installation's outcome in this process (metrics). Returns the unsubscribe. */
  onRun(observer: RunObserver): () => void {
    return this.#runner.observe(observer);
  }

  /** Writes the buffered records and pending events now. */
  async flush(): Promise<void> {
    await this.rollouts.settled();
    await this.records.flush();
    await this.quotas.settled();
  }

  /** How this process stands with the store, and what it holds. */
  status(): PlatformStatus {
    return {
      engine: this.#engine,
      following: this.#listener?.connected ?? false,
      records: {
        accepted: this.records.accepted,
        buffered: this.records.buffered,
        written: this.records.written,
        dropped: this.records.dropped,
      },
    };
  }

  /** @internal PostgreSQL: LISTEN for other processes' events, from the end of the log. */
  async follow(store: OpenStore): Promise<void> {
    if (store.postgres === undefined) return;
    await this.#follower.start();
    const listener = new EventListener({
      ...store.postgres,
      onNotify: () => void this.#follower.catchUp(),
      // Also after a reconnect: whatever was announced while the connection was down is read by cursor.
      onConnected: () => void this.#follower.catchUp(),
      onLost: this.#onError,
    });
    this.#listener = listener;
    await listener.start();
  }

  /** Writes buffered records, closes every instance and the store. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.flush();
    } catch (error) {
      // The store is gone: what could not be written is counted as dropped, unless it waits in the
      // spool for the next platform to open on it.
      if (!this.records.spooled) this.records.dropped += this.records.buffered;
      this.#onError(error);
    }
    this.records.close();
    await this.records.retire().catch(this.#onError);
    this.quotas.close();
    this.#runner.close();
    await this.#listener?.close();
    await this.#db.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function scopeOf(actor: Actor): string | undefined {
  if (actor?.kind === 'operator') return undefined;
  if (actor?.kind === 'partner' && typeof actor.partnerId === 'string') return actor.partnerId;
  throw new TypeError('actor must be { kind: "operator" } or { kind: "partner", partnerId }');
}

/** Opens (and migrates) the store and returns the platform on it. */
export async function createPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const store = await openStore(options.store ?? ':memory:');
  let spool: string | undefined;
  try {
    spool = spoolDirectory(options.store ?? ':memory:', options.records?.spool);
  } catch (error) {
    await store.db.destroy();
    throw error;
  }
  const platform = new Platform(store, { ...options, records: { ...options.records, spool: spool ?? false } });
  try {
    await platform.quotas.load();
    await platform.records.reportLost();
    await platform.follow(store);
  } catch (error) {
    await platform.close().catch(() => {});
    throw error;
  }
  return platform;
}
