// Plug-in lines: a partner's module line on one extension point.
import type { Plugins } from './api.js';
import { type Context, partnerScope } from './context.js';
import { invalid, notFound, PlatformError } from './errors.js';
import type { ExtensionPointDomain } from './extension-points.js';
import { checkName } from './partners.js';
import { findPartner } from './store/partners.js';
import { findPlugin, findPluginByName, insertPlugin, listPlugins, type PluginRow } from './store/plugins.js';
import type { Actor, PluginInfo } from './types.js';

export class PluginDomain implements Plugins {
  readonly #ctx: Context;
  readonly #points: ExtensionPointDomain;

  constructor(ctx: Context, points: ExtensionPointDomain) {
    this.#ctx = ctx;
    this.#points = points;
  }

  async create(actor: Actor, plugin: { name: string; extensionPoint: string; partnerId?: string }): Promise<PluginInfo> {
    const scope = partnerScope(actor);
    const name = checkName(plugin?.name, 'name');
    const partnerId = scope ?? plugin.partnerId;
    if (partnerId === undefined) throw invalid('partnerId', 'the operator creates a plug-in for a partner: give its partnerId');
    if (scope !== undefined && plugin.partnerId !== undefined && plugin.partnerId !== scope) throw notFound('partner', plugin.partnerId);
    if (scope === undefined && (await findPartner(this.#ctx.db, partnerId)) === undefined) throw notFound('partner', partnerId);
    const point = await this.#points.load(plugin.extensionPoint);
    if ((await findPluginByName(this.#ctx.db, partnerId, point.info.name, name)) !== undefined) {
      throw new PlatformError('CONFLICT', `A plug-in named "${name}" already exists on "${point.info.name}"`);
    }
    const row: PluginRow = {
      id: this.#ctx.id('pl'),
      partner_id: partnerId,
      extension_point: point.info.name,
      name,
      created_at: this.#ctx.now(),
    };
    const event = await this.#ctx.db.transaction().execute(async (trx) => {
      await insertPlugin(trx, row);
      return this.#ctx.events.append(trx, 'plugin.created', row.id, partnerId, { name, extensionPoint: row.extension_point });
    });
    this.#ctx.events.publish(event);
    return toPlugin(row);
  }

  async get(actor: Actor, id: string): Promise<PluginInfo> {
    return toPlugin(await scopedPlugin(this.#ctx, actor, id));
  }

  async list(actor: Actor, filter: { extensionPoint?: string } = {}): Promise<PluginInfo[]> {
    return (await listPlugins(this.#ctx.db, partnerScope(actor), filter.extensionPoint)).map(toPlugin);
  }
}

/** The plug-in as this actor may see it: another partner's is NOT_FOUND. */
export async function scopedPlugin(ctx: Context, actor: Actor, id: string): Promise<PluginRow> {
  const row = typeof id === 'string' ? await findPlugin(ctx.db, id, partnerScope(actor)) : undefined;
  if (row === undefined) throw notFound('plug-in', String(id));
  return row;
}

function toPlugin(row: PluginRow): PluginInfo {
  return { id: row.id, partnerId: row.partner_id, extensionPoint: row.extension_point, name: row.name, createdAt: Number(row.created_at) };
}
