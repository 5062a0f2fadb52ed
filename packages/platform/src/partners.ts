// Partners and keys. A key is 32 random bytes; only its sha256 is stored, which is enough for a key
// that cannot be guessed (no slow hash needed), and lets authentication be one indexed lookup.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Partners } from './api.js';
import { type Context, partnerScope, requireOperator } from './context.js';
import { invalid, notFound } from './errors.js';
import {
  findPartner,
  findPartnerByKeyHash,
  getSetting,
  insertPartner,
  listPartners,
  type PartnerRow,
  putSetting,
  setPartnerKeyHash,
} from './store/partners.js';
import type { Actor, NewPartner, Partner } from './types.js';

const OPERATOR_KEY = 'operator_key_sha256';

/** Keys remembered at most; past it the memory starts over (each key then costs one lookup again). */
const MAX_REMEMBERED_KEYS = 10_000;

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function newKey(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export class PartnerDomain implements Partners {
  readonly #ctx: Context;
  /**
   * The actor of each key already seen in this process, by sha256: authentication is on every request
   * and was two queries. Only keys that were found are kept (a new partner's key works at once), and a
   * change of key here drops the old one at once. Other processes sharing the store do not tell this
   * one yet (PostgreSQL's LISTEN/NOTIFY will); with SQLite there is one process.
   */
  readonly #actors = new Map<string, Actor>();
  /** Bumped by every forget: a lookup that began before a key changed must not remember what it read. */
  #generation = 0;

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  async create(actor: Actor, partner: { name: string }): Promise<NewPartner> {
    requireOperator(actor, 'create partners');
    const name = checkName(partner?.name, 'name');
    const key = newKey('tpk');
    const row: PartnerRow = { id: this.#ctx.id('pt'), name, key_hash: hashKey(key), created_at: this.#ctx.now() };
    const event = await this.#ctx.db.transaction().execute(async (trx) => {
      await insertPartner(trx, row);
      return this.#ctx.events.append(trx, 'partner.created', row.id, row.id, { name });
    });
    this.#ctx.events.publish(event);
    return { ...toPartner(row), key };
  }

  async get(actor: Actor, id: string): Promise<Partner> {
    const scope = partnerScope(actor);
    if (scope !== undefined && scope !== id) throw notFound('partner', id);
    const row = await findPartner(this.#ctx.db, id);
    if (row === undefined) throw notFound('partner', id);
    return toPartner(row);
  }

  async list(actor: Actor): Promise<Partner[]> {
    const scope = partnerScope(actor);
    if (scope !== undefined) return [await this.get(actor, scope)];
    return (await listPartners(this.#ctx.db)).map(toPartner);
  }

  async rotateKey(actor: Actor, id: string): Promise<NewPartner> {
    requireOperator(actor, 'rotate partner keys');
    const row = await findPartner(this.#ctx.db, id);
    if (row === undefined) throw notFound('partner', id);
    const key = newKey('tpk');
    const event = await this.#ctx.db.transaction().execute(async (trx) => {
      await setPartnerKeyHash(trx, id, hashKey(key));
      return this.#ctx.events.append(trx, 'partner.key-rotated', id, id, {});
    });
    this.#forget((actor) => actor.kind === 'partner' && actor.partnerId === id);
    this.#ctx.events.publish(event);
    return { ...toPartner(row), key };
  }

  /** The actor a key stands for, or undefined for an unknown key. */
  async authenticate(key: string): Promise<Actor | undefined> {
    if (typeof key !== 'string' || key.length === 0 || key.length > 256) return undefined;
    const hash = hashKey(key);
    const known = this.#actors.get(hash);
    if (known !== undefined) return known;
    const generation = this.#generation;
    const actor = await this.#lookup(hash);
    if (actor !== undefined && generation === this.#generation) {
      if (this.#actors.size >= MAX_REMEMBERED_KEYS) this.#actors.clear();
      this.#actors.set(hash, Object.freeze(actor));
    }
    return actor;
  }

  async #lookup(hash: string): Promise<Actor | undefined> {
    const operator = await getSetting(this.#ctx.db, OPERATOR_KEY);
    if (operator !== undefined && timingSafeEqual(Buffer.from(operator), Buffer.from(hash))) return { kind: 'operator' };
    const partner = await findPartnerByKeyHash(this.#ctx.db, hash);
    return partner === undefined ? undefined : { kind: 'partner', partnerId: partner.id };
  }

  /**
   * Stores `given` (hashed) as the operator key; without one, generates a key when none is stored.
   * Returns the key only when it generated it, to be shown once.
   */
  async ensureOperatorKey(given?: string): Promise<string | undefined> {
    if (given !== undefined) {
      if (given.length < 16 || given.length > 256) throw invalid('operatorKey', `must be 16 to 256 characters, got ${given.length}`);
      await putSetting(this.#ctx.db, OPERATOR_KEY, hashKey(given));
      this.#forget((actor) => actor.kind === 'operator');
      return undefined;
    }
    if ((await getSetting(this.#ctx.db, OPERATOR_KEY)) !== undefined) return undefined;
    const key = newKey('tok');
    await putSetting(this.#ctx.db, OPERATOR_KEY, hashKey(key));
    return key;
  }

  #forget(which: (actor: Actor) => boolean): void {
    this.#generation++;
    for (const [hash, actor] of this.#actors) if (which(actor)) this.#actors.delete(hash);
  }
}

function toPartner(row: PartnerRow): Partner {
  return { id: row.id, name: row.name, createdAt: Number(row.created_at) };
}

/** A display name: 1 to 200 characters, not blank. */
export function checkName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 200) {
    throw invalid(field, `must be a non-blank string of at most 200 characters, got ${JSON.stringify(value)?.slice(0, 60)}`);
  }
  return value;
}
