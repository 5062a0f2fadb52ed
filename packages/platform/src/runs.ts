// Runs: a tenant's enabled installations on a point, in order, each metered with its version's
// limits for this input's size, judged, counted against its partner's quota, and sampled for the
// record. The run path reads no database: a tenant's installations are loaded once and dropped when
// they change; each version compiles once per point definition (by sha256).
import { type CompiledPlugin, type HttpRequestRecord, isTenonError, type Plugin, type TenonError } from '@tenon/runtime';
import type { Context } from './context.js';
import { requireOperator } from './context.js';
import { fuelBudget } from './definition.js';
import { invalid } from './errors.js';
import type { ExtensionPointDomain } from './extension-points.js';
import { toInstallation } from './installations.js';
import type { Judged, LoadedPoint } from './point.js';
import type { QuotaDomain } from './quotas.js';
import type { NewRecord, Recorder } from './records.js';
import type { Lane, RolloutDomain } from './rollout.js';
import { LogCapture } from './run-logs.js';
import { listInstallations } from './store/installations.js';
import { findVersionById, versionModule } from './store/plugins.js';
import { Tape } from './tape.js';
import type { Actor, Installation, RuleContext, RunOutcome, RunRequest, RunResult } from './types.js';

/**
 * One installation ready to run: its compiled plug-in with the installation's config and grants,
 * the instance kept for this tenant (isolation "tenant"), or why it cannot run.
 */
interface Slot {
  installation: Installation;
  current: Build;
  /** The candidate being rolled out, when the installation has one. */
  candidate: Build | undefined;
  /** The config as records store it, encoded once. */
  configJson: string;
}

/** One version of an installation, compiled with its config and grants. */
interface Build {
  versionId: string;
  compiled: CompiledPlugin | undefined;
  /** The tenant's instance; undefined with isolation "fresh", where each run instantiates its own. */
  kept: Plugin | undefined;
  failure: TenonError | undefined;
}

interface Tenancy {
  point: LoadedPoint;
  slots: Slot[];
}

/** One installation's outcome in a run, with the point and tenant: what a run observer is told. */
export type RunObservation = RunOutcome & { extensionPoint: string; tenant: string };

/** Told of every outcome (for metrics). */
export type RunObserver = (observation: RunObservation) => void;

const encoder = new TextEncoder();
const NOTHING_EARLIER: readonly unknown[] = Object.freeze([]);
const NO_REQUESTS: readonly HttpRequestRecord[] = Object.freeze([]);

/** A version's judged answer, with the HTTP requests its plug-in made or tried in that call. */
type Attempt = Judged & { httpRequests: readonly HttpRequestRecord[] };

/**
 * The call's HTTP requests, copied: the instance's list is its own and may be reused by its next
 * call. Nearly every call makes none, and shares one empty list.
 */
function requestsOf(plugin: Plugin): readonly HttpRequestRecord[] {
  const records = plugin.stats.httpRequests;
  return records.length === 0 ? NO_REQUESTS : [...records];
}

export class Runner {
  readonly #ctx: Context;
  readonly #points: ExtensionPointDomain;
  readonly #quotas: QuotaDomain;
  readonly #recorder: Recorder;
  readonly #tenancies = new Map<string, Promise<Tenancy>>();
  readonly #observers = new Set<RunObserver>();
  readonly #rollout: RolloutDomain;

  constructor(ctx: Context, points: ExtensionPointDomain, quotas: QuotaDomain, recorder: Recorder, rollout: RolloutDomain) {
    this.#ctx = ctx;
    this.#rollout = rollout;
    this.#points = points;
    this.#quotas = quotas;
    this.#recorder = recorder;
  }

  observe(observer: RunObserver): () => void {
    this.#observers.add(observer);
    return () => this.#observers.delete(observer);
  }

  async run(actor: Actor, extensionPoint: string, request: RunRequest): Promise<RunResult> {
    requireOperator(actor, 'run extension points');
    if (typeof request !== 'object' || request === null) throw invalid('request', 'must be { tenant, key?, input }');
    const { tenant, key, input } = request;
    if (typeof tenant !== 'string' || tenant === '') throw invalid('tenant', `must be a non-empty string, got ${JSON.stringify(tenant)}`);
    if (key !== undefined && typeof key !== 'string') throw invalid('key', `must be a string, got ${JSON.stringify(key)}`);
    const point = this.#points.cached(extensionPoint) ?? (await this.#points.load(extensionPoint));
    if (!point.validateInput(input)) {
      const error = point.validateInput.errors?.[0];
      throw invalid(
        `input${(error?.instancePath ?? '').replaceAll('/', '.')}`,
        `breaks the ${point.info.name} input schema: ${error?.message}`,
      );
    }
    const { slots } = await this.#tenancy(point, tenant);
    if (slots.length === 0) {
      const result: RunResult = { extensionPoint: point.info.name, tenant, key, results: [], defaulted: true, recorded: false };
      if (point.info.default !== undefined) result.default = point.info.default;
      return result;
    }
    const json = JSON.stringify(input);
    const bytes = encoder.encode(json);
    const budget = fuelBudget(point.info.limits, bytes.length);
    const sample = point.info.record.sample;
    const recorded = sample >= 1 || (sample > 0 && this.#ctx.random() < sample);
    const results: RunOutcome[] = [];
    const rows: NewRecord[] | undefined = recorded ? [] : undefined;
    const at = this.#ctx.now();
    const earlier: unknown[] = [];
    for (const slot of slots) {
      const { installation } = slot;
      const refusal = this.#quotas.admit(installation.partnerId);
      const candidate = installation.candidate;
      const lane: Lane =
        refusal === undefined && candidate !== null && slot.candidate !== undefined
          ? this.#rollout.lane(installation.id, candidate, key)
          : 'current';
      const build = lane === 'candidate' ? (slot.candidate as Build) : slot.current;
      const tape = recorded && refusal === undefined ? Tape.recording() : undefined;
      const logs = tape === undefined ? undefined : new LogCapture();
      const context: RuleContext = {
        tenant,
        key,
        installation: installation.id,
        plugin: installation.pluginId,
        partner: installation.partnerId,
        config: installation.config,
        // A copy: the host's rules may keep their context.
        earlier: earlier.length === 0 ? NOTHING_EARLIER : earlier.slice(),
      };
      const judged: Attempt =
        refusal === undefined
          ? this.#attempt(point, build, input, bytes, budget, context, tape, logs)
          : {
              outcome: 'contained',
              output: undefined,
              answer: undefined,
              code: 'QUOTA_EXCEEDED',
              message: `Not run: ${refusal}`,
              fuel: 0,
              durationUs: 0,
              httpRequests: NO_REQUESTS,
            };
      if (refusal === undefined) this.#quotas.charge(installation.partnerId, judged.fuel);
      const outcome: RunOutcome = {
        installation: installation.id,
        plugin: installation.pluginId,
        partner: installation.partnerId,
        version: build.versionId,
        outcome: judged.outcome,
        fuel: judged.fuel,
        budget,
        durationUs: judged.durationUs,
        httpRequests: judged.httpRequests,
      };
      if (judged.outcome === 'ok') {
        outcome.output = judged.output;
        earlier.push(judged.output);
      } else {
        outcome.code = judged.code as string;
        outcome.message = judged.message as string;
      }
      if (candidate !== null && refusal === undefined) {
        this.#rollout.observe(installation, lane === 'candidate' ? 'candidate' : 'current', judged.outcome, judged.fuel);
        if (lane === 'shadow') {
          // The candidate beside, on the same input and context; its answer is compared, never used.
          const shadow = this.#attempt(point, slot.candidate as Build, input, bytes, budget, context, undefined);
          this.#quotas.charge(installation.partnerId, shadow.fuel);
          this.#rollout.shadow(installation, key, judged, shadow);
        }
      }
      results.push(outcome);
      if (this.#observers.size > 0) {
        const observation: RunObservation = { ...outcome, extensionPoint: point.info.name, tenant };
        for (const observer of this.#observers) observer(observation);
      }
      rows?.push({
        id: this.#ctx.id('rc'),
        extension_point: point.info.name,
        tenant,
        run_key: key ?? null,
        installation_id: installation.id,
        plugin_id: installation.pluginId,
        partner_id: installation.partnerId,
        version_id: build.versionId,
        outcome: outcome.outcome,
        code: outcome.code ?? null,
        message: outcome.message ?? null,
        input: json,
        output: judged.answer ?? null,
        config: slot.configJson,
        imports: tape === undefined || tape.imports.length === 0 ? null : JSON.stringify(tape.imports),
        logs: logs?.json() ?? null,
        fuel: outcome.fuel,
        budget,
        duration_us: outcome.durationUs,
        at,
      });
    }
    if (rows !== undefined) this.#recorder.add(rows, point.info.name, point.info.record.retain);
    return { extensionPoint: point.info.name, tenant, key, results, defaulted: false, recorded };
  }

  /** One version's call on one input: a fresh instance unless the tenant keeps one; a failed link is contained. */
  #attempt(
    point: LoadedPoint,
    build: Build,
    input: unknown,
    bytes: Uint8Array,
    budget: number,
    context: RuleContext,
    tape: Tape | undefined,
    logs?: LogCapture,
  ): Attempt {
    let failure = build.failure;
    let plugin = build.kept;
    if (plugin === undefined && failure === undefined) {
      // A fresh instance per run: its start-up runs within the base fuel, outside the run's budget,
      // so every run of the same input costs the same fuel.
      try {
        plugin = (build.compiled as CompiledPlugin).instantiate();
      } catch (error) {
        if (!isTenonError(error)) throw error;
        failure = error;
      }
    }
    if (plugin === undefined) {
      const code = failure?.code ?? 'LINK_FAILED';
      const message = failure?.message ?? 'the plug-in could not be instantiated';
      return {
        outcome: 'contained',
        output: undefined,
        answer: undefined,
        code,
        message,
        fuel: 0,
        durationUs: 0,
        httpRequests: NO_REQUESTS,
      };
    }
    try {
      const judged = point.invoke(plugin, input, bytes, budget, context, tape, logs);
      return { ...judged, httpRequests: requestsOf(plugin) };
    } finally {
      if (plugin !== build.kept) plugin.close();
    }
  }

  /**
   * Drops what was loaded for one tenant on one point (its installations changed). With `reload`
   * (a change made by another process), a tenancy that was loaded is loaded again at once, so the
   * next run finds the new version compiled instead of compiling it on its own path.
   */
  invalidate(extensionPoint: string, tenant: string, reload = false): void {
    const k = tenancyKey(extensionPoint, tenant);
    const old = this.#tenancies.get(k);
    this.#tenancies.delete(k);
    if (old === undefined) return;
    void old.then(
      (tenancy) => {
        if (reload && !this.#closed && !this.#tenancies.has(k)) this.#tenancy(tenancy.point, tenant).catch(() => {});
        closeSlots(tenancy);
      },
      () => {},
    );
  }

  #closed = false;

  /** Drops everything loaded for a point (it was redefined). */
  invalidatePoint(extensionPoint: string): void {
    for (const [k, old] of this.#tenancies) {
      if (!k.startsWith(`${extensionPoint}\0`)) continue;
      this.#tenancies.delete(k);
      void old.then(closeSlots, () => {});
    }
  }

  close(): void {
    this.#closed = true;
    for (const old of this.#tenancies.values()) void old.then(closeSlots, () => {});
    this.#tenancies.clear();
  }

  #tenancy(point: LoadedPoint, tenant: string): Promise<Tenancy> {
    const k = tenancyKey(point.info.name, tenant);
    let tenancy = this.#tenancies.get(k);
    if (tenancy === undefined || tenancy === null) {
      tenancy = this.#load(point, tenant);
      this.#tenancies.set(k, tenancy);
      tenancy.catch(() => {
        if (this.#tenancies.get(k) === tenancy) this.#tenancies.delete(k);
      });
    }
    return tenancy;
  }

  async #load(point: LoadedPoint, tenant: string): Promise<Tenancy> {
    const rows = await listInstallations(this.#ctx.db, { extensionPoint: point.info.name, tenant });
    const slots: Slot[] = [];
    for (const row of rows) {
      if (Number(row.enabled) !== 1) continue;
      const installation = toInstallation(row);
      const current = await this.#build(point, installation, installation.versionId);
      if (current === undefined) continue;
      const candidate =
        installation.candidate === null ? undefined : await this.#build(point, installation, installation.candidate.version);
      slots.push({ installation, current, candidate, configJson: JSON.stringify(installation.config) });
    }
    return { point, slots };
  }

  /** One version compiled with the installation's config and grants, or why it cannot run. */
  async #build(point: LoadedPoint, installation: Installation, versionId: string): Promise<Build | undefined> {
    const version = await findVersionById(this.#ctx.db, versionId);
    if (version === undefined) return undefined;
    try {
      const base = await point.compiled(version.sha256, async () => (await versionModule(this.#ctx.db, version.id)) as Uint8Array);
      const compiled = point.configure(base, installation.config, installation.grants, 'reuse');
      const kept = point.info.isolation === 'tenant' ? compiled.instantiate() : undefined;
      return { versionId, compiled, kept, failure: undefined };
    } catch (error) {
      if (!isTenonError(error)) throw error;
      return { versionId, compiled: undefined, kept: undefined, failure: error };
    }
  }
}

function tenancyKey(extensionPoint: string, tenant: string): string {
  return `${extensionPoint}\0${tenant}`;
}

function closeSlots(tenancy: Tenancy): void {
  for (const slot of tenancy.slots) {
    slot.current.kept?.close();
    slot.candidate?.kept?.close();
  }
}
