// The invoicing host on @tenon/platform: it defines `invoice.discounts`, its partners upload their
// plug-ins (each upload validated against the point's checks and simulations), and each merchant
// installs the partners it chose. Every step is idempotent, so a resumed run finds what it set up.
import { readFileSync } from 'node:fs';
import {
  type Actor,
  createPlatform,
  type ExtensionPoint,
  type ExtensionPointDefinition,
  type Installation,
  OPERATOR,
  type Platform,
  type VersionInfo,
} from '@tenon/platform';
import { DISCOUNTS_POINT, discountRules } from './discounts.js';
import type { Invoice } from './invoices.js';
import { MERCHANTS, type Merchant, PARTNERS, type Partner, REFUSED_PARTNER } from './partners.js';

export interface Upload {
  partner: Partner;
  version: VersionInfo;
}

/** What the host sets up; the demo's by default (tests add a partner, or grant a host). */
export interface HostSetup {
  /** The point's definition (its rules are always the host's). Default DISCOUNTS_POINT. */
  point?: ExtensionPointDefinition;
  /** The partners who upload, besides the refused one. Default PARTNERS. */
  partners?: readonly Partner[];
  /** The merchants and the partners each installs. Default MERCHANTS. */
  merchants?: readonly Merchant[];
}

export interface InvoicingPlatform {
  platform: Platform;
  point: ExtensionPoint<Invoice>;
  /** The merchants set up, whose invoices a run asks their partners about. */
  merchants: readonly Merchant[];
  /** Each partner's platform id. */
  partnerIds: ReadonlyMap<string, string>;
  /** The partner of each platform partner id. */
  partnerById: ReadonlyMap<string, Partner>;
  /** Every upload, the refused one last. */
  uploads: readonly Upload[];
  installations: readonly Installation[];
  close(): Promise<void>;
}

export async function openPlatform(store: string, setup: HostSetup = {}): Promise<InvoicingPlatform> {
  const { point: definition = DISCOUNTS_POINT, partners = PARTNERS, merchants = MERCHANTS } = setup;
  const platform = await createPlatform({ store });
  try {
    const partnerById = new Map<string, Partner>();
    const point = await platform.extensionPoint<Invoice>(definition, {
      rules: discountRules((partnerId) => partnerById.get(partnerId)?.allowedCodes ?? []),
    });
    const known = new Map((await platform.partners.list(OPERATOR)).map((p) => [p.name, p.id]));
    const uploads: Upload[] = [];
    const versions = new Map<string, { plugin: string; version: string }>();
    for (const partner of [...partners, REFUSED_PARTNER]) {
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
    for (const merchant of merchants) {
      const existing = await platform.installations.list(OPERATOR, { tenant: merchant.tenant, extensionPoint: point.name });
      for (const [position, name] of merchant.partners.entries()) {
        const chosen = versions.get(name);
        const partner = partners.find((p) => p.name === name);
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
      merchants,
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
