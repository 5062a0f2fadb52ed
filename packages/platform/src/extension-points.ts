// Extension points: defined by the operator (idempotently, so a host may define its points at every
// start), read by everyone, loaded once per process with their schemas compiled.
import { isDeepStrictEqual } from 'node:util';
import type { ExtensionPoints } from './api.js';
import { type Context, partnerScope, requireOperator } from './context.js';
import { normalizeDefinition } from './definition.js';
import { notFound } from './errors.js';
import { LoadedPoint } from './point.js';
import { type ExtensionPointRow, findExtensionPoint, listExtensionPoints, upsertExtensionPoint } from './store/extension-points.js';
import type { Actor, ExtensionPointCode, ExtensionPointDefinition, ExtensionPointInfo } from './types.js';

export class ExtensionPointDomain implements ExtensionPoints {
  readonly #ctx: Context;
  readonly #loaded = new Map<string, LoadedPoint>();
  /** The host's code per point, kept across redefinitions in this process. */
  readonly #code = new Map<string, ExtensionPointCode>();
  /** Called when a point is redefined: what was built on its old definition must go. */
  readonly #onRedefined: (name: string) => void;

  constructor(ctx: Context, onRedefined: (name: string) => void) {
    this.#ctx = ctx;
    this.#onRedefined = onRedefined;
  }

  async define(actor: Actor, definition: ExtensionPointDefinition, code?: ExtensionPointCode): Promise<ExtensionPointInfo> {
    requireOperator(actor, 'define extension points');
    const now = this.#ctx.now();
    const name = (definition as { name?: unknown } | null)?.name;
    const existing = typeof name === 'string' ? await findExtensionPoint(this.#ctx.db, name) : undefined;
    let info = normalizeDefinition(definition, now, existing === undefined ? now : Number(existing.created_at));
    const effectiveCode = code ?? this.#code.get(info.name);
    const unchanged =
      existing !== undefined && isDeepStrictEqual(JSON.parse(existing.definition), JSON.parse(JSON.stringify(stored(info))));
    if (unchanged) info = toInfo(existing);
    // Schemas compile (or are refused) before anything is stored.
    const loaded = new LoadedPoint(info, effectiveCode);
    if (!unchanged) {
      const row: ExtensionPointRow = {
        name: info.name,
        definition: JSON.stringify(stored(info)),
        created_at: info.createdAt,
        updated_at: now,
      };
      const event = await this.#ctx.db.transaction().execute(async (trx) => {
        await upsertExtensionPoint(trx, row);
        return this.#ctx.events.append(trx, 'extension-point.defined', info.name, null, { redefined: existing !== undefined });
      });
      this.#ctx.events.publish(event);
    }
    if (effectiveCode !== undefined) this.#code.set(info.name, effectiveCode);
    const previous = this.#loaded.get(info.name);
    this.#loaded.set(info.name, loaded);
    if (previous !== undefined) this.#onRedefined(info.name);
    return info;
  }

  async get(actor: Actor, name: string): Promise<ExtensionPointInfo> {
    partnerScope(actor);
    return (await this.load(name)).info;
  }

  async list(actor: Actor): Promise<ExtensionPointInfo[]> {
    partnerScope(actor);
    return (await listExtensionPoints(this.#ctx.db)).map(toInfo);
  }

  /** The point loaded in this process (schemas compiled, the host's code attached), or NOT_FOUND. */
  async load(name: string): Promise<LoadedPoint> {
    const loaded = this.#loaded.get(name);
    if (loaded !== undefined) return loaded;
    const row = typeof name === 'string' ? await findExtensionPoint(this.#ctx.db, name) : undefined;
    if (row === undefined) throw notFound('extension point', String(name));
    const point = this.#loaded.get(name) ?? new LoadedPoint(toInfo(row), this.#code.get(name));
    this.#loaded.set(name, point);
    return point;
  }

  /** Drops this process's copy of a point another process redefined; the next use loads the new one. */
  forget(name: string): void {
    if (this.#loaded.delete(name)) this.#onRedefined(name);
  }

  /** The loaded point if this process has it, without a query: the run path's fast case. */
  cached(name: string): LoadedPoint | undefined {
    return this.#loaded.get(name);
  }
}

function stored(info: ExtensionPointInfo): Omit<ExtensionPointInfo, 'createdAt' | 'updatedAt'> {
  const { createdAt: _c, updatedAt: _u, ...definition } = info;
  return definition;
}

function toInfo(row: ExtensionPointRow): ExtensionPointInfo {
  return { ...(JSON.parse(row.definition) as ExtensionPointInfo), createdAt: Number(row.created_at), updatedAt: Number(row.updated_at) };
}
