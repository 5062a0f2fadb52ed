// The invoicing host on @tenon/platform: it defines `invoice.discounts`, its partners upload their
// plug-ins (each upload validated against the point's checks and simulations), and each merchant
// installs the partners it chose. Every step is idempotent, so a resumed run finds what it set up.
import { readFileSync } from 'node:fs';
import {
  type Actor,
  createPlatform,
  type ExtensionPoint,
  type Installation,
  OPERATOR,
  type Platform,
  type VersionInfo,
} from '@tenon/platform';
import { DISCOUNTS_POINT, discountRules } from './discounts.js';
import type { Invoice } from './invoices.js';
import { MERCHANTS, PARTNERS, type Partner, REFUSED_PARTNER } from './partners.js';

export interface Upload {
  partner: Partner;
  version: VersionInfo;
}

export interface InvoicingPlatform {
  platform: Platform;
  point: ExtensionPoint<Invoice>;
  /** Each partner's platform id. */
  partnerIds: ReadonlyMap<string, string>;
  /** The partner of each platform partner id. */
  partnerById: ReadonlyMap<string, Partner>;
  /** Every upload, the refused one last. */
  uploads: readonly Upload[];
  installations: readonly Installation[];
  close(): Promise<void>;
}

export async function openPlatform(store: string): Promise<InvoicingPlatform> {
  const platform = await createPlatform({ store });
  try {
    const partnerById = new Map<string, Partner>();
    const point = await platform.extensionPoint<Invoice>(DISCOUNTS_POINT, {
      rules: discountRules((partnerId) => partnerById.get(partnerId)?.allowedCodes ?? []),
    });
    const known = new Map((await platform.partners.list(OPERATOR)).map((p) => [p.name, p.id]));
    const uploads: Upload[] = [];
    const versions = new Map<string, { plugin: string; version: string }>();
    for (const partner of [...PARTNERS, REFUSED_PARTNER]) {
      let partnerId = known.get(partner.name);
      if (partnerId === undefined) {
        const created = await platform.partners.create(OPERATOR, { name: partner.name });
        partnerId = created.id;
      }
      partnerById.set(partnerId, partner);
      // From here on the partner acts for itself: its own plug-in line and uploads.
      const actor: Actor = { kind: 'partner', partnerId };
      const plugin =
        (await platform.plugins.list(actor)).find((p) => p.name === partner.name) ??
        (await platform.plugins.create(actor, { name: partner.name, extensionPoint: point.name }));
      const version = await platform.versions.upload(actor, plugin.id, readFileSync(partner.wasmPath));
      uploads.push({ partner, version });
      if (version.status === 'validated') versions.set(partner.name, { plugin: plugin.id, version: version.id });
    }
    const installations: Installation[] = [];
    for (const merchant of MERCHANTS) {
      const existing = await platform.installations.list(OPERATOR, { tenant: merchant.tenant, extensionPoint: point.name });
      for (const [position, name] of merchant.partners.entries()) {
        const chosen = versions.get(name);
        const partner = PARTNERS.find((p) => p.name === name);
        if (chosen === undefined || partner === undefined) {
          const report = uploads.find((u) => u.partner.name === name)?.version.report;
          const failed = [...(report?.checks ?? []), ...(report?.simulations ?? [])]
            .filter((c) => !c.ok)
            .map((c) => `${c.name}: ${c.message}`);
          throw new Error(`partner "${name}" has no validated version to install (${failed.join('; ')})`);
        }
        installations.push(
          existing.find((i) => i.pluginId === chosen.plugin) ??
            (await platform.installations.create(OPERATOR, {
              tenant: merchant.tenant,
              plugin: chosen.plugin,
              version: chosen.version,
              position,
              config: partner.config ?? {},
              grants: { allowedHosts: [...(partner.allowedHosts ?? [])] },
            })),
        );
      }
    }
    return {
      platform,
      point,
      partnerIds: new Map([...partnerById].map(([id, partner]) => [partner.name, id])),
      partnerById,
      uploads,
      installations,
      close: () => platform.close(),
    };
  } catch (error) {
    await platform.close();
    throw error;
  }
}
