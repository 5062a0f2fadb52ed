// Versions: an upload is validated first (no transaction is open while a plug-in runs), then stored
// with its event in one transaction. The same bytes again are the same version.
import { createHash } from 'node:crypto';
import type { Versions } from './api.js';
import type { Context } from './context.js';
import { invalid, notFound, PlatformError } from './errors.js';
import type { ExtensionPointDomain } from './extension-points.js';
import { scopedPlugin } from './plugins.js';
import { findVersion, findVersionBySha, insertVersion, listVersions, type VersionSummaryRow } from './store/plugins.js';
import type { Actor, ValidationReport, VersionInfo } from './types.js';
import { validateModule } from './validate.js';

export class VersionDomain implements Versions {
  readonly #ctx: Context;
  readonly #points: ExtensionPointDomain;

  constructor(ctx: Context, points: ExtensionPointDomain) {
    this.#ctx = ctx;
    this.#points = points;
  }

  async maxModuleBytes(actor: Actor, pluginId: string): Promise<number> {
    const plugin = await scopedPlugin(this.#ctx, actor, pluginId);
    return (await this.#points.load(plugin.extension_point)).info.limits.maxModuleBytes;
  }

  async upload(actor: Actor, pluginId: string, bytes: Uint8Array): Promise<VersionInfo> {
    const plugin = await scopedPlugin(this.#ctx, actor, pluginId);
    if (!(bytes instanceof Uint8Array)) throw invalid('module', 'must be the module bytes (a Uint8Array)');
    const point = await this.#points.load(plugin.extension_point);
    const max = point.info.limits.maxModuleBytes;
    if (bytes.length > max) {
      throw new PlatformError('TOO_LARGE', `The module is ${bytes.length} bytes, more than "${point.info.name}" accepts (${max} bytes)`);
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const existing = await findVersionBySha(this.#ctx.db, plugin.id, sha256);
    if (existing !== undefined) return toVersion(existing);
    const { status, report } = await validateModule(point, sha256, bytes, { partner: plugin.partner_id, plugin: plugin.id });
    const row = {
      id: this.#ctx.id('v'),
      plugin_id: plugin.id,
      sha256,
      size: bytes.length,
      status,
      report: JSON.stringify(report),
      module: bytes,
      created_at: this.#ctx.now(),
    };
    try {
      const event = await this.#ctx.db.transaction().execute(async (trx) => {
        await insertVersion(trx, row);
        const failed = report.checks.filter((c) => !c.ok).map((c) => c.name);
        const failedSimulations = report.simulations.filter((s) => !s.ok).map((s) => s.name);
        return this.#ctx.events.append(trx, status === 'validated' ? 'version.validated' : 'version.rejected', row.id, plugin.partner_id, {
          plugin: plugin.id,
          sha256,
          ...(status === 'rejected' ? { failedChecks: failed, failedSimulations } : {}),
        });
      });
      this.#ctx.events.publish(event);
    } catch (error) {
      // The same bytes uploaded twice at once: the other upload stored them first.
      const raced = await findVersionBySha(this.#ctx.db, plugin.id, sha256);
      if (raced !== undefined) return toVersion(raced);
      throw error;
    }
    const { module: _module, ...summary } = row;
    return toVersion(summary);
  }

  async get(actor: Actor, pluginId: string, versionId: string): Promise<VersionInfo> {
    const plugin = await scopedPlugin(this.#ctx, actor, pluginId);
    const row = await findVersion(this.#ctx.db, plugin.id, versionId);
    if (row === undefined) throw notFound('version', versionId);
    return toVersion(row);
  }

  async list(actor: Actor, pluginId: string): Promise<VersionInfo[]> {
    const plugin = await scopedPlugin(this.#ctx, actor, pluginId);
    return (await listVersions(this.#ctx.db, plugin.id)).map(toVersion);
  }
}

export function toVersion(row: VersionSummaryRow): VersionInfo {
  return {
    id: row.id,
    pluginId: row.plugin_id,
    sha256: row.sha256,
    size: Number(row.size),
    status: row.status,
    report: JSON.parse(row.report) as ValidationReport,
    createdAt: Number(row.created_at),
  };
}
