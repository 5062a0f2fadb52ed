// Runs: a tenant's enabled installations on a point, in order, each metered with its version's
// limits for this input's size, judged, counted against its partner's quota, and sampled for the
// record. The run path reads no database: a tenant's installations are loaded once and dropped when
// they change; each version compiles once per point definition (by sha256).
import { type CompiledPlugin, isTenonError, type Plugin, type TenonError } from '@tenon/runtime';
import type { Context } from './context.js';
import { requireOperator } from './context.js';
import { fuelBudget } from './definition.js';
import { invalid } from './errors.js';
import type { ExtensionPointDomain } from './extension-points.js';
import { toInstallation } from './installations.js';
import type { Judged, LoadedPoint } from './point.js';
import type { QuotaDomain } from './quotas.js';
import type { NewRecord, Recorder } from './records.js';
import { listInstallations } from './store/installations.js';
import { findVersionById, versionModule } from './store/plugins.js';
import { Tape } from './tape.js';
import type { Actor, Installation, RunOutcome, RunRequest, RunResult } from './types.js';

/**
 * One installation ready to run: its compiled plug-in with the installation's config and grants,
 * the instance kept for this tenant (isolation "tenant"), or why it cannot run.
 */
interface Slot {
  installation: Installation;
  compiled: CompiledPlugin | undefined;
  /** The tenant's instance; undefined with isolation "fresh", where each run instantiates its own. */
  kept: Plugin | undefined;
  /** The config as records store it, encoded once. */
  configJson: string;
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

export class Runner {
  readonly #ctx: Context;
  readonly #points: ExtensionPointDomain;
  readonly #quotas: QuotaDomain;
  readonly #recorder: Recorder;
  readonly #tenancies = new Map<string, Promise<Tenancy>>();
  readonly #observers = new Set<RunObserver>();

  constructor(ctx: Context, points: ExtensionPointDomain, quotas: QuotaDomain, recorder: Recorder) {
    this.#ctx = ctx;
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
      let outcome: RunOutcome;
      let answer: string | undefined;
      let tape: Tape | undefined;
      let failure = slot.failure;
      let plugin = slot.kept;
      if (refusal === undefined && plugin === undefined && failure === undefined) {
        // A fresh instance per run: its start-up runs within the base fuel, outside the run's budget,
        // so every run of the same input costs the same fuel.
        try {
          plugin = (slot.compiled as CompiledPlugin).instantiate();
        } catch (error) {
          if (!isTenonError(error)) throw error;
          failure = error;
        }
      }
      if (refusal !== undefined) {
        outcome = this.#contained(installation, budget, 'QUOTA_EXCEEDED', `Not run: ${refusal}`);
      } else if (plugin === undefined) {
        outcome = this.#contained(
          installation,
          budget,
          failure?.code ?? 'LINK_FAILED',
          failure?.message ?? 'the plug-in could not be instantiated',
        );
      } else {
        let judged: Judged;
        tape = recorded ? Tape.recording() : undefined;
        try {
          judged = point.invoke(
            plugin,
            input,
            bytes,
            budget,
            {
              tenant,
              key,
              installation: installation.id,
              plugin: installation.pluginId,
              partner: installation.partnerId,
              config: installation.config,
              // A copy: the host's rules may keep their context.
              earlier: earlier.length === 0 ? NOTHING_EARLIER : earlier.slice(),
            },
            tape,
          );
        } finally {
          if (plugin !== slot.kept) plugin.close();
        }
        this.#quotas.charge(installation.partnerId, judged.fuel);
        answer = judged.answer;
        outcome = {
          installation: installation.id,
          plugin: installation.pluginId,
          partner: installation.partnerId,
          version: installation.versionId,
          outcome: judged.outcome,
          fuel: judged.fuel,
          budget,
          durationUs: judged.durationUs,
        };
        if (judged.outcome === 'ok') {
          outcome.output = judged.output;
          earlier.push(judged.output);
        } else {
          outcome.code = judged.code as string;
          outcome.message = judged.message as string;
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
        version_id: installation.versionId,
        outcome: outcome.outcome,
        code: outcome.code ?? null,
        message: outcome.message ?? null,
        input: json,
        output: answer ?? null,
        config: slot.configJson,
        imports: tape === undefined || tape.imports.length === 0 ? null : JSON.stringify(tape.imports),
        fuel: outcome.fuel,
        budget,
        duration_us: outcome.durationUs,
        at,
      });
    }
    if (rows !== undefined) this.#recorder.add(rows, point.info.name, point.info.record.retain);
    return { extensionPoint: point.info.name, tenant, key, results, defaulted: false, recorded };
  }

  /** Drops what was loaded for one tenant on one point (its installations changed). */
  invalidate(extensionPoint: string, tenant: string): void {
    const k = tenancyKey(extensionPoint, tenant);
    const old = this.#tenancies.get(k);
    this.#tenancies.delete(k);
    if (old !== undefined) void old.then(closeSlots, () => {});
  }

  /** Drops everything loaded for a point (it was redefined). */
  invalidatePoint(extensionPoint: string): void {
    for (const [k, old] of this.#tenancies) {
      if (!k.startsWith(`${extensionPoint}\0`)) continue;
      this.#tenancies.delete(k);
      void old.then(closeSlots, () => {});
    }
  }

  close(): void {
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
      const version = await findVersionById(this.#ctx.db, installation.versionId);
      if (version === undefined) continue;
      try {
        const base = await point.compiled(version.sha256, async () => (await versionModule(this.#ctx.db, version.id)) as Uint8Array);
        const compiled = point.configure(base, installation.config, installation.grants, 'reuse');
        const kept = point.info.isolation === 'tenant' ? compiled.instantiate() : undefined;
        slots.push({ installation, compiled, kept, configJson: JSON.stringify(installation.config), failure: undefined });
      } catch (error) {
        if (!isTenonError(error)) throw error;
        slots.push({ installation, compiled: undefined, kept: undefined, configJson: JSON.stringify(installation.config), failure: error });
      }
    }
    return { point, slots };
  }

  #contained(installation: Installation, budget: number, code: string, message: string): RunOutcome {
    return {
      installation: installation.id,
      plugin: installation.pluginId,
      partner: installation.partnerId,
      version: installation.versionId,
      outcome: 'contained',
      code,
      message,
      fuel: 0,
      budget,
      durationUs: 0,
    };
  }
}

function tenancyKey(extensionPoint: string, tenant: string): string {
  return `${extensionPoint}\0${tenant}`;
}

function closeSlots(tenancy: Tenancy): void {
  for (const slot of tenancy.slots) slot.kept?.close();
}
