// The partners who write plug-ins for `invoice.discounts`, and the merchants (the platform's
// tenants) who choose which of them run on their invoices. The limits are the extension point's;
// what a partner may do beyond computing is the installation's grant, and nothing else.
import { fileURLToPath } from 'node:url';
import { createPlugin, type Plugin } from '@tenon/runtime';

export interface Partner {
  name: string;
  /** What the partner wrote its plug-in in, for the report. */
  language: string;
  /** The partner's compiled plug-in, as it uploads it. */
  wasmPath: string;
  /** Host-chosen settings the plug-in reads with config_get (the installation's config). */
  config?: Record<string, string>;
  /** Discount codes the host accepts from this partner. */
  allowedCodes: readonly string[];
  /** HTTP hosts (globs) its installations are granted; none by default. */
  allowedHosts?: readonly string[];
}

const plugin = (name: string) => fileURLToPath(new URL(`../partners/${name}/build/plugin.wasm`, import.meta.url));

export const PARTNERS: readonly Partner[] = [
  {
    name: 'loyalty',
    language: 'AssemblyScript',
    wasmPath: plugin('loyalty'),
    config: {
      gold_basis_points: '500',
      silver_basis_points: '200',
      min_total_cents: '5000',
      anniversary_years: '5',
      anniversary_bonus_cents: '1500',
    },
    allowedCodes: ['LOYALTY_GOLD', 'LOYALTY_SILVER', 'LOYALTY_ANNIVERSARY'],
  },
  {
    name: 'volume',
    language: 'C',
    wasmPath: plugin('volume'),
    allowedCodes: ['VOLUME_10', 'VOLUME_50'],
  },
  {
    name: 'hostile',
    language: 'AssemblyScript',
    wasmPath: plugin('hostile'),
    allowedCodes: ['PROMO_1'],
    allowedHosts: ['api.hostile-partner.example'],
  },
];

/**
 * A partner whose upload the platform refuses on screen: its currency plug-in imports a host
 * function (`exchange_rate`) that `invoice.discounts` does not offer.
 */
export const REFUSED_PARTNER: Partner = {
  name: 'fx-rates',
  language: 'AssemblyScript',
  wasmPath: fileURLToPath(new URL('../../plugins/currency-convert/build/plugin.wasm', import.meta.url)),
  allowedCodes: [],
};

/** A merchant (tenant) and the partners it installed, in the order they answer. */
export interface Merchant {
  tenant: string;
  partners: readonly string[];
}

export const MERCHANTS: readonly Merchant[] = [
  { tenant: 'atelier-nord', partners: ['loyalty', 'volume', 'hostile'] },
  { tenant: 'bistro-sud', partners: ['loyalty', 'hostile'] },
  { tenant: 'cycles-est', partners: ['volume', 'hostile'] },
];

/** The merchant an invoice belongs to: the demo spreads the seeded invoices over the merchants by number. */
export function merchantOf(invoiceId: string, merchants: readonly Merchant[] = MERCHANTS): Merchant {
  return merchants[Number(invoiceId.slice(4)) % merchants.length] as Merchant;
}

/** The partner's plug-in as the partner itself runs it behind its webhook (the contrast: not on the platform). */
export function loadPartner(partner: Partner): Promise<Plugin> {
  return createPlugin(partner.wasmPath, { config: partner.config ?? {}, allowedHosts: partner.allowedHosts ?? [], logLevel: 'off' });
}
