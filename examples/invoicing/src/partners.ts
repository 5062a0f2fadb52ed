// The partners bound to `invoice.discounts`: each one's plug-in, the limits the host gives it, and
// what it may do. Nothing is granted that is not written here.
import { fileURLToPath } from 'node:url';
import { createPlugin, type Plugin } from '@tenon/runtime';

export interface Partner {
  name: string;
  /** What the partner wrote its plug-in in, for the report. */
  language: string;
  /** The partner's compiled plug-in. */
  wasmPath: string;
  /** Host-chosen settings the plug-in reads with config_get. */
  config?: Record<string, string>;
  /** Discount codes the host accepts from this partner. */
  allowedCodes: readonly string[];
  /**
   * `reuse`: one instance serves every invoice (its memory and vars persist between calls).
   * `fresh`: a new instance per invoice (about 30 µs more), so nothing of one customer's invoice
   * can linger for the next: the host's choice for a partner it trusts less.
   */
  instance: 'reuse' | 'fresh';
  /** HTTP hosts (globs) the plug-in may reach; none by default. */
  allowedHosts?: readonly string[];
  limits: {
    /** Fuel per call (about one unit per WebAssembly instruction). */
    fuel: number;
    /** Wall-clock limit per call, in milliseconds. */
    timeoutMs: number;
    /** Pages of 64 KiB each of the plug-in's memories may hold, initial pages included. */
    maxPages: number;
    /** Largest answer, in bytes. */
    maxOutputBytes: number;
  };
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
    instance: 'reuse',
    // A call takes 260,000 to 350,000 fuel and its heap stays in its first page.
    limits: { fuel: 2_000_000, timeoutMs: 50, maxPages: 16, maxOutputBytes: 16 * 1024 },
  },
  {
    name: 'volume',
    language: 'C',
    wasmPath: plugin('volume'),
    allowedCodes: ['VOLUME_10', 'VOLUME_50'],
    instance: 'reuse',
    limits: { fuel: 1_000_000, timeoutMs: 50, maxPages: 8, maxOutputBytes: 16 * 1024 },
  },
  {
    name: 'hostile',
    language: 'AssemblyScript',
    wasmPath: plugin('hostile'),
    allowedCodes: ['PROMO_1'],
    instance: 'fresh',
    allowedHosts: ['api.hostile-partner.example'],
    // Its memory hoarding grows memory a megabyte at a time, which took 20-130 ms on a loaded
    // machine (V8 may collect garbage on a grow); every grow now checks the deadline, so a 50 ms
    // one would turn the memory cap's TRAP into a TIMEOUT that depends on the machine's load.
    limits: { fuel: 5_000_000, timeoutMs: 500, maxPages: 64, maxOutputBytes: 16 * 1024 },
  },
];

/** Loads a partner's plug-in with its limits and grants; logs go nowhere unless a logger is given. */
export function loadPartner(partner: Partner): Promise<Plugin> {
  return createPlugin(partner.wasmPath, {
    config: partner.config ?? {},
    allowedHosts: partner.allowedHosts ?? [],
    fuel: partner.limits.fuel,
    timeoutMs: partner.limits.timeoutMs,
    memory: { maxPages: partner.limits.maxPages },
    limits: { maxOutputBytes: partner.limits.maxOutputBytes },
    instance: partner.instance,
    logLevel: 'off',
  });
}
