// The platform's public data: what the domain functions take and return, and what the server
// serialises. Every timestamp is milliseconds since the epoch from the injected clock.
import type { HostFunction, HttpRequestRecord } from '@tenon/runtime';
import type { Import } from './tape.js';

/** Who is asking: the host's operators, or one partner (its key's owner). */
export type Actor = { kind: 'operator' } | { kind: 'partner'; partnerId: string };

/** The operator actor (the host itself, and the holders of the operator key). */
export const OPERATOR: Actor = Object.freeze({ kind: 'operator' });

/** A JSON Schema (draft-07 or 2019-09 as ajv reads it). */
export type JsonSchema = Record<string, unknown> | boolean;

/** A partner, as listed (the key is never returned after creation). */
export interface Partner {
  id: string;
  name: string;
  createdAt: number;
}

/** A partner just created: `key` is shown once here and stored only as its sha256. */
export interface NewPartner extends Partner {
  key: string;
}

/** An extension point's limits: what every run of every version is held to. */
export interface Limits {
  /** Base fuel per run (about one unit per WebAssembly instruction). */
  fuel: number;
  /** Extra fuel per KiB of input JSON. Default 0. */
  fuelPerInputKiB?: number;
  /** The budget never exceeds `maxFuelScale × fuel`. Default 10. */
  maxFuelScale?: number;
  /** Wall-clock limit per run, in milliseconds. */
  timeoutMs: number;
  /** Pages of 64 KiB a plug-in's memory may have. */
  maxPages: number;
  /** Largest answer, in bytes. */
  maxOutputBytes: number;
  /** Most bytes of log lines per run. Default 16384. */
  maxLogBytes?: number;
  /** Largest module accepted on upload, in bytes. Default 4 MiB. */
  maxModuleBytes?: number;
}

/**
 * A host-written case every version must pass: the exact output (as JSON), an accepted answer
 * (schema and host rules pass, whatever its value: for points whose partners answer differently),
 * or a Tenon error code.
 */
export interface Simulation {
  name: string;
  input: unknown;
  /** Config the plug-in sees during this simulation. Default none. */
  config?: Record<string, string>;
  expect: { output: unknown } | { accepted: true } | { error: string };
}

/**
 * An extension point as JSON (what `POST /v1/extension-points` takes). Capabilities partners may be
 * granted: `allowedHosts` (HTTP host globs), `hostFunctions` (names of host functions this point
 * offers; the host supplies their code), `wasi`.
 */
export interface ExtensionPointDefinition {
  name: string;
  /** The export every plug-in implements. */
  function: string;
  input: JsonSchema;
  output: JsonSchema;
  limits: Limits;
  allowedHosts?: string[];
  hostFunctions?: string[];
  wasi?: boolean;
  simulations?: Simulation[];
  /**
   * Share of runs recorded (0 to 1, default 0), how many records the point keeps (default 100,000),
   * and the lowest level of plug-in log lines a record keeps (default `info`; `off` keeps none).
   */
  record?: { sample: number; retain?: number; logLevel?: RecordLogLevel };
  /**
   * `fresh` (default): a new instance per run. `tenant`: one instance per installation and version,
   * kept between runs of that tenant only (an installation belongs to one tenant).
   */
  isolation?: 'fresh' | 'tenant';
  /** The answer `run()` reports when the tenant has no enabled installation. Default none. */
  default?: unknown;
  /** What a replay must show before a version may become a candidate (defaults in {@link ReplayGate}). */
  gate?: Partial<ReplayGate>;
}

/** A replay's pass conditions. */
export interface ReplayGate {
  /** Records that were ok before and fail now. Default 0. */
  maxNewFailures: number;
  /** The candidate's fuel p99 over the current's at most this. Default 1.5. */
  maxFuelRatio: number;
  /** Records whose answer changed; null (default) allows any. */
  maxChanged: number | null;
  /** Records that could not be replayed; null (default) allows any. */
  maxNotReplayable: number | null;
}

/** An extension point as stored, with every default filled in. */
export interface ExtensionPointInfo extends ExtensionPointDefinition {
  limits: Required<Limits>;
  allowedHosts: string[];
  hostFunctions: string[];
  wasi: boolean;
  simulations: Simulation[];
  /** `logLevel` absent means `info` (points stored before it existed have none). */
  record: { sample: number; retain: number; logLevel?: RecordLogLevel };
  isolation: 'fresh' | 'tenant';
  gate: ReplayGate;
  createdAt: number;
  updatedAt: number;
}

/** Where a run's answer comes from, for the host's rules. */
export interface RuleContext {
  tenant: string;
  key: string | undefined;
  installation: string;
  plugin: string;
  partner: string;
  config: Readonly<Record<string, string>>;
  /** The answers accepted from the installations before this one in this run, in order. */
  earlier: readonly unknown[];
}

/** The host's refusal of a schema-valid answer: a rule name and why. */
export interface RuleRefusal {
  rule: string;
  message: string;
}

/** What the host supplies in code, never over HTTP: its rules and its host functions' implementations. */
export interface ExtensionPointCode<Input = unknown, Output = unknown> {
  /** The host's checks on a schema-valid answer: a refusal, or null to accept. */
  rules?: (input: Input, output: Output, context: RuleContext) => RuleRefusal | null;
  /** Implementations of the host functions named in `hostFunctions` (namespace extism:host/user). */
  hostFunctions?: readonly HostFunction[];
}

/** A partner's plug-in line on one extension point. */
export interface PluginInfo {
  id: string;
  partnerId: string;
  extensionPoint: string;
  name: string;
  createdAt: number;
}

/** One structural check of an upload. */
export interface ValidationCheck {
  /** `size`, `parse`, `functions`, `memory`, `tables`, `imports`, `compile`, `export`, `instantiate` (links, runs the start function). */
  name: string;
  ok: boolean;
  message: string;
}

/** One simulation of an upload: its outcome and fuel against the budget for its input. */
export interface SimulationResult {
  name: string;
  ok: boolean;
  outcome: Outcome;
  /** The Tenon code (contained) or rule (rejected), when not ok. */
  code?: string;
  message: string;
  fuel: number;
  budget: number;
  durationUs: number;
}

/** What validation found: every check, then every simulation (none when a check failed). */
export interface ValidationReport {
  checks: ValidationCheck[];
  simulations: SimulationResult[];
  /** Validation time, in milliseconds. */
  durationMs: number;
}

/** An uploaded module, content-addressed: the same bytes uploaded to a plug-in twice are one version. */
export interface VersionInfo {
  id: string;
  pluginId: string;
  sha256: string;
  size: number;
  status: 'validated' | 'rejected';
  report: ValidationReport;
  createdAt: number;
}

/** What a tenant's installation may use: never more than its extension point allows. */
export interface Grants {
  allowedHosts: string[];
  hostFunctions: string[];
  wasi: boolean;
}

/** A tenant's use of a plug-in on an extension point. */
export interface Installation {
  id: string;
  tenant: string;
  extensionPoint: string;
  pluginId: string;
  partnerId: string;
  versionId: string;
  config: Record<string, string>;
  grants: Grants;
  /** Runs go in ascending position (ties by creation). */
  position: number;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
  /** The version being rolled out beside `versionId`, if any. */
  candidate: Candidate | null;
}

/**
 * A candidate version on an installation. `canary`: `percent` of runs (sticky by installation and
 * run key) get the candidate's answer. `shadow`: on `percent` of runs the candidate also runs, its
 * answer never used, its differences kept.
 */
export interface Candidate {
  version: string;
  mode: 'canary' | 'shadow';
  /** Share of runs, 0 to 100. */
  percent: number;
  /** Candidate runs compared with as many of the current version's before deciding. Default 50. */
  window: number;
  /** Roll back when the candidate's contained+rejected rate exceeds the current's by more than this (0 to 1). Default 0.05. */
  failureMargin: number;
  /** Roll back when the candidate's fuel p99 passes the current's by this ratio. Default 1.5. */
  fuelRatio: number;
  /** Promote after this many candidate runs with no rollback; null (default): promote by hand. */
  promoteAfter: number | null;
  /** When the rollout started (ms since the epoch). */
  since: number;
}

/** A rollout to start: the candidate version and, optionally, its mode, share and thresholds; `override` a failed gate (operator). */
export type CandidateRequest = Partial<Omit<Candidate, 'since'>> & { version: string; override?: boolean };

/** An installation to create (operator only). */
export interface NewInstallation {
  tenant: string;
  plugin: string;
  version: string;
  config?: Record<string, string>;
  grants?: Partial<Grants>;
  /** Default: after the tenant's last installation on the point. */
  position?: number;
  enabled?: boolean;
}

/** A change of an installation; absent fields stay. */
export interface InstallationPatch {
  version?: string;
  config?: Record<string, string>;
  grants?: Partial<Grants>;
  position?: number;
  enabled?: boolean;
}

/** `ok`: the answer was used. `contained`: the sandbox stopped the plug-in. `rejected`: the host refused the answer. */
export type Outcome = 'ok' | 'contained' | 'rejected';

/** One installation's part of a run. */
export interface RunOutcome {
  installation: string;
  plugin: string;
  partner: string;
  version: string;
  outcome: Outcome;
  /** The answer, when `ok`. */
  output?: unknown;
  /** The Tenon code (contained, e.g. FUEL_EXHAUSTED, QUOTA_EXCEEDED) or the rule (rejected, e.g. SCHEMA, ANSWER_NOT_JSON). */
  code?: string;
  message?: string;
  fuel: number;
  /** The fuel this input's size allowed. */
  budget: number;
  durationUs: number;
  /**
   * The HTTP requests the plug-in made or tried during this call, in order, denied ones included (the
   * runtime's audit trail, `Plugin.stats.httpRequests`): what could leave with it. Empty when it was not called.
   */
  httpRequests: readonly HttpRequestRecord[];
}

/** A run request: whose data, an optional key of the host's (an invoice id), and the input value. */
export interface RunRequest {
  tenant: string;
  key?: string;
  input: unknown;
}

/** A run: each enabled installation's outcome in order, or the point's default when none is installed. */
export interface RunResult {
  extensionPoint: string;
  tenant: string;
  key: string | undefined;
  results: RunOutcome[];
  /** True when the tenant has no enabled installation and `default` is the point's default. */
  defaulted: boolean;
  default?: unknown;
  /** Whether this run was sampled for recording. */
  recorded: boolean;
}

/** A stored run of one installation, as a partner sees it: outcomes and costs, no tenant's data. */
export interface PartnerRunRecord {
  id: string;
  extensionPoint: string;
  installation: string;
  plugin: string;
  partner: string;
  version: string;
  outcome: Outcome;
  code: string | null;
  fuel: number;
  budget: number;
  durationUs: number;
  at: number;
}

/** A stored run as the operator sees it: with the input, output, config, tenant and key. */
export interface RunRecord extends PartnerRunRecord {
  tenant: string;
  key: string | null;
  input: unknown;
  output: unknown;
  message: string | null;
  config: Record<string, string>;
  /** Every answer the plug-in got from outside (host functions, HTTP), in order: what replay answers from. */
  imports: Import[];
  /** The plug-in's log lines in this run, bounded; tenant data, so operators only. Replay never compares them. */
  logs: RunLogs;
}

/** The lowest level of plug-in log lines a point's records keep. */
export type RecordLogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'off';

/** A run's log lines: the first ones kept (at most 50 lines, 8 KiB), the rest only counted. */
export interface RunLogs {
  lines: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error'; message: string }[];
  /** Lines the plug-in wrote past the bound. */
  dropped: number;
}

/** Filters on recorded runs; `after` is a cursor from a previous page. */
export interface RecordQuery {
  extensionPoint?: string;
  tenant?: string;
  plugin?: string;
  version?: string;
  outcome?: Outcome;
  after?: string;
  /** Page size, 1 to 1000. Default 100. */
  limit?: number;
}

/** One page and the cursor of the next (undefined on the last page). */
export interface Page<T> {
  items: T[];
  next: string | undefined;
}

/** A partner's quota; null means unlimited. */
export interface Quota {
  partnerId: string;
  runsPerMinute: number | null;
  fuelPerDay: number | null;
}

/** Event types the platform appends. */
export type EventType =
  | 'partner.created'
  | 'partner.key-rotated'
  | 'extension-point.defined'
  | 'plugin.created'
  | 'version.validated'
  | 'version.rejected'
  | 'installation.created'
  | 'installation.changed'
  | 'quota.set'
  | 'quota.exceeded'
  | 'records.dropped'
  | 'records.lost'
  | 'records.recovered'
  | 'replay.completed'
  | 'rollout.started'
  | 'rollout.gate-overridden'
  | 'rollout.promoted'
  | 'rollout.rolled-back';

/** A fact in the append-only log. `cursor` orders them; `partnerId` is who may see it besides the operator. */
export interface PlatformEvent {
  cursor: string;
  id: string;
  type: EventType;
  at: number;
  partnerId: string | null;
  /** The id or name of the thing the event is about. */
  subject: string;
  data: Record<string, unknown>;
}
