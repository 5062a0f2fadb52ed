// The platform's surface, one group per domain. Every function takes the actor first and scopes by
// it in the query: a partner only ever reads rows it owns, and another partner's thing is NOT_FOUND.
import type { RunStats, RunStatsQuery } from './run-stats.js';
import type {
  Actor,
  ExtensionPointCode,
  ExtensionPointDefinition,
  ExtensionPointInfo,
  Installation,
  InstallationPatch,
  NewInstallation,
  NewPartner,
  Page,
  Partner,
  PartnerRunRecord,
  PlatformEvent,
  PluginInfo,
  Quota,
  RecordQuery,
  RuleContext,
  RunRecord,
  RunRequest,
  RunResult,
  VersionInfo,
} from './types.js';

/** Partners (operator only, except a partner reading itself). */
export interface Partners {
  /** A new partner and its API key, shown once. */
  create(actor: Actor, partner: { name: string }): Promise<NewPartner>;
  get(actor: Actor, id: string): Promise<Partner>;
  list(actor: Actor): Promise<Partner[]>;
  /** A new key for the partner (the old one stops working), shown once. */
  rotateKey(actor: Actor, id: string): Promise<NewPartner>;
}

/** Extension points: operators define, everyone reads. */
export interface ExtensionPoints {
  /**
   * Define or redefine a point (schemas compiled with ajv: a bad one is SCHEMA_INVALID). `code`
   * (rules, host function implementations) lives in this process only; pass it again after a restart.
   */
  define(actor: Actor, definition: ExtensionPointDefinition, code?: ExtensionPointCode): Promise<ExtensionPointInfo>;
  get(actor: Actor, name: string): Promise<ExtensionPointInfo>;
  list(actor: Actor): Promise<ExtensionPointInfo[]>;
}

/** Plug-in lines: a partner creates and reads its own; the operator reads all and may create for a partner. */
export interface Plugins {
  create(actor: Actor, plugin: { name: string; extensionPoint: string; partnerId?: string }): Promise<PluginInfo>;
  get(actor: Actor, id: string): Promise<PluginInfo>;
  list(actor: Actor, filter?: { extensionPoint?: string }): Promise<PluginInfo[]>;
}

/** Versions: uploaded by the plug-in's partner (or the operator), validated before they are stored. */
export interface Versions {
  /**
   * Validate and store a module: `validated`, or `rejected` with the report (kept, never installable).
   * The same bytes again return the stored version. Past the point's maxModuleBytes: TOO_LARGE, nothing stored.
   */
  upload(actor: Actor, pluginId: string, bytes: Uint8Array): Promise<VersionInfo>;
  get(actor: Actor, pluginId: string, versionId: string): Promise<VersionInfo>;
  list(actor: Actor, pluginId: string): Promise<VersionInfo[]>;
  /** The largest upload the plug-in's extension point accepts, in bytes (for a server to cut a stream early). */
  maxModuleBytes(actor: Actor, pluginId: string): Promise<number>;
}

/** Installations: operator only. Each change is one transaction with its event. */
export interface Installations {
  create(actor: Actor, installation: NewInstallation): Promise<Installation>;
  update(actor: Actor, id: string, patch: InstallationPatch): Promise<Installation>;
  get(actor: Actor, id: string): Promise<Installation>;
  list(actor: Actor, filter?: { tenant?: string; extensionPoint?: string; plugin?: string }): Promise<Installation[]>;
}

/** Recorded runs: the operator sees everything, a partner its own runs without tenants' data. */
export interface Records {
  list(actor: Actor, query?: RecordQuery): Promise<Page<RunRecord | PartnerRunRecord>>;
  /** Runs over time, durations and fuel against budget in a window (a partner: its own runs). */
  stats(actor: Actor, query?: RunStatsQuery): Promise<RunStats>;
}

/** Per-partner quotas (set by the operator; a partner reads its own). */
export interface Quotas {
  set(actor: Actor, partnerId: string, quota: { runsPerMinute?: number | null; fuelPerDay?: number | null }): Promise<Quota>;
  get(actor: Actor, partnerId: string): Promise<Quota>;
}

/** The event log (a partner sees events about its own things). */
export interface Events {
  /** Events after `after` (a cursor; omitted: from the start), oldest first. */
  list(actor: Actor, query?: { after?: string; limit?: number }): Promise<Page<PlatformEvent>>;
  /** Called with each event the actor may see, as it is committed in this process. Returns the unsubscribe. */
  subscribe(actor: Actor, listener: (event: PlatformEvent) => void): () => void;
}

/** An extension point as the embedding host holds it: run plug-ins on its data. */
export interface ExtensionPoint<Input = unknown> {
  readonly name: string;
  readonly info: ExtensionPointInfo;
  /** Run the tenant's enabled installations in order (as the operator). */
  run(request: RunRequest & { input: Input }): Promise<RunResult>;
  /** Judge an answer obtained another way (a webhook) exactly as a run judges a plug-in's: JSON, output schema, rules. */
  judge(input: Input, answer: string, context: RuleContext): Judgement;
}

/** A judged answer: `ok` with the value, or `rejected` with the rule (ANSWER_NOT_JSON, SCHEMA, or the host's). */
export type Judgement = { outcome: 'ok'; output: unknown } | { outcome: 'rejected'; code: string; message: string };
