// Installations: a tenant's plug-ins on an extension point, in order, with config and grants that
// never exceed what the point allows. Operator only; each change is one transaction with its event.
import type { Installations } from './api.js';
import { type Context, requireOperator } from './context.js';
import { invalid, notFound, PlatformError } from './errors.js';
import type { ExtensionPointDomain } from './extension-points.js';
import { scopedPlugin } from './plugins.js';
import {
  findInstallation,
  type InstallationRow,
  insertInstallation,
  lastPosition,
  listInstallations,
  updateInstallation,
} from './store/installations.js';
import { findVersion } from './store/plugins.js';
import type { Actor, Candidate, ExtensionPointInfo, Grants, Installation, InstallationPatch, NewInstallation } from './types.js';

export class InstallationDomain implements Installations {
  readonly #ctx: Context;
  readonly #points: ExtensionPointDomain;
  /** Called after a change commits, so runs of that tenant on that point see it. */
  readonly #onChange: (extensionPoint: string, tenant: string) => void;

  constructor(ctx: Context, points: ExtensionPointDomain, onChange: (extensionPoint: string, tenant: string) => void) {
    this.#ctx = ctx;
    this.#points = points;
    this.#onChange = onChange;
  }

  async create(actor: Actor, installation: NewInstallation): Promise<Installation> {
    requireOperator(actor, 'install plug-ins');
    const tenant = checkTenant(installation?.tenant);
    const plugin = await scopedPlugin(this.#ctx, actor, installation.plugin);
    const point = (await this.#points.load(plugin.extension_point)).info;
    await this.installable(plugin.id, installation.version);
    const config = checkConfig(installation.config ?? {});
    const grants = checkGrants(installation.grants ?? {}, point);
    const position = installation.position ?? ((await lastPosition(this.#ctx.db, point.name, tenant)) ?? -1) + 1;
    checkPosition(position);
    const now = this.#ctx.now();
    const row: InstallationRow = {
      id: this.#ctx.id('in'),
      tenant,
      extension_point: point.name,
      plugin_id: plugin.id,
      partner_id: plugin.partner_id,
      version_id: installation.version,
      config: JSON.stringify(config),
      grants: JSON.stringify(grants),
      position,
      enabled: installation.enabled === false ? 0 : 1,
      created_at: now,
      updated_at: now,
      candidate_version_id: null,
      candidate: null,
    };
    const event = await this.#ctx.db.transaction().execute(async (trx) => {
      await insertInstallation(trx, row);
      return this.#ctx.events.append(trx, 'installation.created', row.id, null, {
        tenant,
        extensionPoint: point.name,
        plugin: plugin.id,
        version: row.version_id,
        enabled: row.enabled === 1,
      });
    });
    this.#ctx.events.publish(event);
    this.#onChange(point.name, tenant);
    return toInstallation(row);
  }

  async update(actor: Actor, id: string, patch: InstallationPatch): Promise<Installation> {
    requireOperator(actor, 'change installations');
    if (typeof patch !== 'object' || patch === null) throw invalid('patch', 'must be an object');
    const row = await findInstallation(this.#ctx.db, id);
    if (row === undefined) throw notFound('installation', String(id));
    const point = (await this.#points.load(row.extension_point)).info;
    const changes: Partial<InstallationRow> = {};
    if (patch.version !== undefined && patch.version !== row.version_id) {
      await this.installable(row.plugin_id, patch.version);
      changes.version_id = patch.version;
    }
    if (patch.config !== undefined) changes.config = JSON.stringify(checkConfig(patch.config));
    if (patch.grants !== undefined) changes.grants = JSON.stringify(checkGrants({ ...JSON.parse(row.grants), ...patch.grants }, point));
    if (patch.position !== undefined) changes.position = checkPosition(patch.position);
    if (patch.enabled !== undefined) {
      if (typeof patch.enabled !== 'boolean') throw invalid('enabled', `must be true or false, got ${JSON.stringify(patch.enabled)}`);
      changes.enabled = patch.enabled ? 1 : 0;
    }
    changes.updated_at = this.#ctx.now();
    const updated: InstallationRow = { ...row, ...changes };
    const event = await this.#ctx.db.transaction().execute(async (trx) => {
      await updateInstallation(trx, row.id, changes);
      return this.#ctx.events.append(trx, 'installation.changed', row.id, null, {
        tenant: row.tenant,
        extensionPoint: row.extension_point,
        changed: Object.keys(changes)
          .filter((k) => k !== 'updated_at')
          .map((k) => (k === 'version_id' ? 'version' : k)),
        ...(changes.version_id === undefined ? {} : { from: row.version_id, to: changes.version_id }),
        enabled: updated.enabled === 1,
      });
    });
    this.#ctx.events.publish(event);
    this.#onChange(row.extension_point, row.tenant);
    return toInstallation(updated);
  }

  async get(actor: Actor, id: string): Promise<Installation> {
    requireOperator(actor, 'read installations');
    const row = await findInstallation(this.#ctx.db, id);
    if (row === undefined) throw notFound('installation', String(id));
    return toInstallation(row);
  }

  async list(actor: Actor, filter: { tenant?: string; extensionPoint?: string; plugin?: string } = {}): Promise<Installation[]> {
    requireOperator(actor, 'read installations');
    return (await listInstallations(this.#ctx.db, filter)).map(toInstallation);
  }

  /** A version of this plug-in that passed validation, or why not. */
  async installable(pluginId: string, versionId: unknown): Promise<void> {
    if (typeof versionId !== 'string') throw invalid('version', `must be a version id, got ${JSON.stringify(versionId)}`);
    const version = await findVersion(this.#ctx.db, pluginId, versionId);
    if (version === undefined) throw notFound('version', versionId);
    if (version.status !== 'validated') {
      throw new PlatformError(
        'VERSION_REJECTED',
        `Version "${versionId}" was rejected on upload and can never be installed (see its report)`,
      );
    }
  }
}

export function toInstallation(row: InstallationRow): Installation {
  return {
    id: row.id,
    tenant: row.tenant,
    extensionPoint: row.extension_point,
    pluginId: row.plugin_id,
    partnerId: row.partner_id,
    versionId: row.version_id,
    config: JSON.parse(row.config) as Record<string, string>,
    grants: JSON.parse(row.grants) as Grants,
    position: Number(row.position),
    enabled: Number(row.enabled) === 1,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    candidate: row.candidate === null ? null : (JSON.parse(row.candidate) as Candidate),
  };
}

function checkTenant(tenant: unknown): string {
  if (typeof tenant !== 'string' || tenant.trim() === '' || tenant.length > 200) {
    throw invalid('tenant', `must be a non-blank string of at most 200 characters, got ${JSON.stringify(tenant)?.slice(0, 60)}`);
  }
  return tenant;
}

function checkPosition(position: unknown): number {
  if (!Number.isSafeInteger(position) || (position as number) < 0)
    throw invalid('position', `must be a non-negative integer, got ${position}`);
  return position as number;
}

function checkConfig(config: unknown): Record<string, string> {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw invalid('config', 'must be an object of strings');
  const entries = Object.entries(config);
  if (entries.length > 256) throw invalid('config', `has ${entries.length} keys, at most 256`);
  for (const [key, value] of entries) {
    if (typeof value !== 'string') throw invalid(`config.${key}`, `must be a string, got ${typeof value}`);
    if (key.length > 256 || value.length > 65_536) throw invalid(`config.${key}`, 'is too long (keys 256, values 65,536 characters)');
  }
  return { ...(config as Record<string, string>) };
}

/** Grants within what the point allows (default deny: nothing unless granted). */
function checkGrants(grants: Partial<Grants>, point: ExtensionPointInfo): Grants {
  if (typeof grants !== 'object' || grants === null) throw invalid('grants', 'must be an object');
  const allowedHosts = list(grants.allowedHosts, 'grants.allowedHosts');
  const hostFunctions = list(grants.hostFunctions, 'grants.hostFunctions');
  for (const host of allowedHosts) {
    if (!point.allowedHosts.includes(host)) {
      throw new PlatformError(
        'GRANT_DENIED',
        `"${point.name}" does not allow the host "${host}" (allowed: ${point.allowedHosts.join(', ') || 'none'})`,
        {
          field: 'grants.allowedHosts',
        },
      );
    }
  }
  for (const fn of hostFunctions) {
    if (!point.hostFunctions.includes(fn)) {
      throw new PlatformError(
        'GRANT_DENIED',
        `"${point.name}" does not offer the host function "${fn}" (offered: ${point.hostFunctions.join(', ') || 'none'})`,
        {
          field: 'grants.hostFunctions',
        },
      );
    }
  }
  const wasi = grants.wasi ?? false;
  if (typeof wasi !== 'boolean') throw invalid('grants.wasi', `must be true or false, got ${JSON.stringify(wasi)}`);
  if (wasi && !point.wasi) throw new PlatformError('GRANT_DENIED', `"${point.name}" does not allow WASI`, { field: 'grants.wasi' });
  return { allowedHosts, hostFunctions, wasi };
}

function list(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw invalid(field, 'must be an array of strings');
  return [...new Set(value as string[])];
}
