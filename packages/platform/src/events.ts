// The event log: appended in the transaction of the change it records, published to in-process
// subscribers after that transaction commits, read back by cursor.
import { invalid } from './errors.js';
import { appendEvent, type EventRow, listEvents } from './store/events.js';
import type { Db } from './store/schema.js';
import type { EventType, Page, PlatformEvent } from './types.js';

interface Subscriber {
  partnerId: string | undefined;
  listener: (event: PlatformEvent) => void;
}

export class EventLog {
  readonly #subscribers = new Set<Subscriber>();
  readonly #now: () => number;
  readonly #id: (prefix: string) => string;
  /** Called when a subscriber throws: the log goes on. */
  readonly #onError: (error: unknown) => void;

  constructor(now: () => number, id: (prefix: string) => string, onError: (error: unknown) => void) {
    this.#now = now;
    this.#id = id;
    this.#onError = onError;
  }

  /** Appends within the caller's transaction; publish the result after it commits. */
  append(db: Db, type: EventType, subject: string, partnerId: string | null, data: Record<string, unknown>): Promise<EventRow> {
    const id = this.#id('ev');
    if (this.#seen !== undefined) {
      // A follower may read it back before this process publishes it: it is this process's to publish.
      if (this.#mine.size > 10_000) this.#mine.clear();
      this.#mine.add(id);
    }
    return appendEvent(db, { id, type, at: this.#now(), partner_id: partnerId, subject, data: JSON.stringify(data) });
  }

  /** Ids of events this process appended and has not published yet. */
  readonly #mine = new Set<string>();

  /** Whether this process appended the event itself (it publishes it after its commit). */
  mine(id: string): boolean {
    return this.#mine.has(id);
  }

  /** Sequence numbers published here, when following other processes (undefined: not following). */
  #seen: Set<number> | undefined;
  /** Every sequence number up to this one counts as published. */
  #floor = 0;

  /** Every sequence number up to `seq` counts as published here; from now on publications are remembered. */
  markSeenUpTo(seq: number): void {
    this.#seen ??= new Set();
    this.#floor = Math.max(this.#floor, seq);
  }

  /** Whether this process already published the event (its own change, or one it followed). */
  seen(seq: number): boolean {
    return seq <= this.#floor || (this.#seen?.has(seq) ?? false);
  }

  /** Forgets remembered numbers up to `seq`, which all count as published from now on. */
  forgetBelow(seq: number): void {
    if (seq <= this.#floor) return;
    this.#floor = seq;
    if (this.#seen !== undefined) for (const n of this.#seen) if (n <= seq) this.#seen.delete(n);
  }

  publish(row: EventRow): void {
    this.#seen?.add(row.seq);
    this.#mine.delete(row.id);
    const event = toEvent(row);
    for (const subscriber of this.#subscribers) {
      if (subscriber.partnerId !== undefined && subscriber.partnerId !== row.partner_id) continue;
      try {
        subscriber.listener(event);
      } catch (error) {
        this.#onError(error);
      }
    }
  }

  async list(db: Db, partnerId: string | undefined, query: { after?: string; limit?: number } = {}): Promise<Page<PlatformEvent>> {
    const after = parseCursor(query.after);
    const limit = pageLimit(query.limit);
    const rows = await listEvents(db, after, limit, partnerId);
    return { items: rows.map(toEvent), next: rows.length === limit ? String(rows.at(-1)?.seq) : undefined };
  }

  subscribe(partnerId: string | undefined, listener: (event: PlatformEvent) => void): () => void {
    const subscriber = { partnerId, listener };
    this.#subscribers.add(subscriber);
    return () => this.#subscribers.delete(subscriber);
  }
}

function toEvent(row: EventRow): PlatformEvent {
  return {
    cursor: String(row.seq),
    id: row.id,
    type: row.type as EventType,
    at: Number(row.at),
    partnerId: row.partner_id,
    subject: row.subject,
    data: JSON.parse(row.data) as Record<string, unknown>,
  };
}

/** A cursor is the decimal sequence number of the last item seen. */
export function parseCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  if (!/^\d{1,15}$/.test(cursor)) throw invalid('after', `not a cursor from a previous page: "${cursor.slice(0, 40)}"`);
  return Number(cursor);
}

/** Page sizes are 1 to 1000, default 100. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw invalid('limit', `must be an integer from 1 to 1000, got ${limit}`);
  return limit;
}
