// What every domain module shares: the store, the injected clock and ids, the event log, and the
// two questions about an actor that scoping needs.
import type { Kysely } from 'kysely';
import { PlatformError } from './errors.js';
import type { EventLog } from './events.js';
import type { Database } from './store/schema.js';
import type { Actor } from './types.js';

export interface Context {
  readonly db: Kysely<Database>;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** A random opaque id with a readable prefix (`pl_...`). */
  readonly id: (prefix: string) => string;
  /** A number in [0, 1), for sampling. */
  readonly random: () => number;
  readonly events: EventLog;
}

/** Operator-only actions: a partner is told FORBIDDEN (the server answers 404, revealing nothing). */
export function requireOperator(actor: Actor, action: string): void {
  if (actor?.kind !== 'operator') throw new PlatformError('FORBIDDEN', `Only the operator can ${action}`);
}

/** The partner whose rows an actor may read, or undefined for the operator (every row). */
export function partnerScope(actor: Actor): string | undefined {
  if (actor?.kind === 'operator') return undefined;
  if (actor?.kind === 'partner' && typeof actor.partnerId === 'string') return actor.partnerId;
  throw new TypeError('actor must be { kind: "operator" } or { kind: "partner", partnerId }');
}
