/**
 * @tenon/platform: extension points, versioned plug-ins checked on upload, per-tenant installations,
 * recorded runs, quotas and events, embedded in the host's process on its own database.
 *
 *   const platform = await createPlatform({ store: 'sqlite:./tenon.db' });
 *   const discounts = await platform.extensionPoint(definition, { rules });
 *   const { results } = await discounts.run({ tenant: 'merchant-42', key: invoice.id, input: invoice });
 */

/** Each domain's functions (every one takes the actor first). */
export type {
  Events,
  ExtensionPoint,
  ExtensionPoints,
  Installations,
  Judgement,
  Partners,
  Plugins,
  Quotas,
  Records,
  Versions,
} from './api.js';
export { extensionPointDefinitionSchema, fuelBudget } from './definition.js';
/** The coded error every refusal is, and its codes. */
export { isPlatformError, PlatformError, type PlatformErrorCode } from './errors.js';
export { createPlatform, Platform, type PlatformOptions, type RunObservation, type RunObserver } from './platform.js';
/** The platform: createPlatform() and what it holds. */
/** Aggregates of recorded runs for dashboards. */
export type { RunCostStats, RunStats, RunStatsQuery } from './run-stats.js';
/** The data the platform takes and returns. */
export {
  type Actor,
  type EventType,
  type ExtensionPointCode,
  type ExtensionPointDefinition,
  type ExtensionPointInfo,
  type Grants,
  type Installation,
  type InstallationPatch,
  type JsonSchema,
  type Limits,
  type NewInstallation,
  type NewPartner,
  OPERATOR,
  type Outcome,
  type Page,
  type Partner,
  type PartnerRunRecord,
  type PlatformEvent,
  type PluginInfo,
  type Quota,
  type RecordQuery,
  type RuleContext,
  type RuleRefusal,
  type RunOutcome,
  type RunRecord,
  type RunRequest,
  type RunResult,
  type Simulation,
  type SimulationResult,
  type ValidationCheck,
  type ValidationReport,
  type VersionInfo,
} from './types.js';
