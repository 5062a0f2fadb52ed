// Following the other processes on a shared store: each announced event is read by cursor and
// applied to this process's in-memory view (installations, point definitions, quotas), then given
// to this process's subscribers. After a lost connection everything past the cursor is read again.
import type { EventLog } from './events.js';
import { type EventRow, lastEventSeq, listEvents } from './store/events.js';
import { findInstallation } from './store/installations.js';
import type { Db } from './store/schema.js';

/** What a change made elsewhere means here. */
export interface Followers {
  installationChanged(extensionPoint: string, tenant: string): void;
  pointRedefined(name: string): void;
  quotaSet(partnerId: string, data: Record<string, unknown>): void;
}

// Events become visible in the order of their numbers (appendEvent's lock), so everything past the
// cursor is everything not yet read, however long this process was away.
const PAGE = 500;

export class Follower {
  readonly #db: Db;
  readonly #log: EventLog;
  readonly #apply: Followers;
  readonly #onError: (error: unknown) => void;
  #cursor = 0;
  #reading: Promise<void> | undefined;
  #again = false;

  constructor(db: Db, log: EventLog, apply: Followers, onError: (error: unknown) => void) {
    this.#db = db;
    this.#log = log;
    this.#apply = apply;
    this.#onError = onError;
  }

  /** Starts from the end of the log: what this process loads from now on is already current. */
  async start(): Promise<void> {
    this.#cursor = await lastEventSeq(this.#db);
    this.#log.markSeenUpTo(this.#cursor);
  }

  /** Reads and applies what is new; coalesces calls made while a read is under way. */
  catchUp(): Promise<void> {
    if (this.#reading !== undefined) {
      this.#again = true;
      return this.#reading;
    }
    this.#reading = (async () => {
      do {
        this.#again = false;
        await this.#read();
      } while (this.#again);
    })()
      .catch(this.#onError)
      .finally(() => {
        this.#reading = undefined;
      });
    return this.#reading;
  }

  async #read(): Promise<void> {
    for (;;) {
      const rows = await listEvents(this.#db, this.#cursor, PAGE, undefined);
      for (const row of rows) {
        if (this.#log.seen(row.seq) || this.#log.mine(row.id)) continue;
        await this.#applyRow(row);
        this.#log.publish(row);
      }
      const last = rows.at(-1)?.seq ?? this.#cursor;
      if (last > this.#cursor) this.#cursor = last;
      this.#log.forgetBelow(this.#cursor);
      if (rows.length < PAGE) return;
    }
  }

  async #applyRow(row: EventRow): Promise<void> {
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(row.data) as Record<string, unknown>;
    } catch {
      return;
    }
    switch (row.type) {
      case 'installation.created':
      case 'installation.changed':
        if (typeof data.extensionPoint === 'string' && typeof data.tenant === 'string') {
          this.#apply.installationChanged(data.extensionPoint, data.tenant);
        }
        break;
      case 'extension-point.defined':
        this.#apply.pointRedefined(row.subject);
        break;
      case 'quota.set':
        this.#apply.quotaSet(row.subject, data);
        break;
      case 'rollout.started':
      case 'rollout.promoted':
      case 'rollout.rolled-back': {
        // A partner reads its rollout events, so they do not name the tenant (the host's data): the
        // installation's row does, and its point and tenant never change.
        const installation = await findInstallation(this.#db, row.subject);
        if (installation !== undefined) this.#apply.installationChanged(installation.extension_point, installation.tenant);
        break;
      }
    }
  }
}
