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
/** The platform: createPlatform() and what it holds. */
export { createPlatform, Platform, type PlatformOptions, type PlatformStatus, type RunObservation, type RunObserver } from './platform.js';
/** Replay: a candidate version run on recorded runs, compared record by record, with a verdict. */
export {
  diffJson,
  type FuelSummary,
  type JsonChange,
  type ReplayClass,
  ReplayDomain,
  type ReplayedRecord,
  type ReplayQuery,
  type ReplayReport,
  type ReplayRequest,
  type ReplaySummary,
} from './replay.js';
/** Rollout: a candidate on an installation as a canary or in shadow, rolled back or promoted by itself or by hand. */
export { type Lane, RolloutDomain, type RolloutStatus, type ShadowDifference, type VersionStats } from './rollout.js';
/** Aggregates of recorded runs for dashboards. */
export type { RunCostStats, RunStats, RunStatsQuery } from './run-stats.js';
/** A run's imports (host function and HTTP answers) as records keep them. */
export type { HostImport, HttpImport, Import } from './tape.js';
/** The data the platform takes and returns. */
export {
  type Actor,
  type Candidate,
  type CandidateRequest,
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
  type RecordLogLevel,
  type RecordQuery,
  type ReplayGate,
  type RuleContext,
  type RuleRefusal,
  type RunLogs,
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
