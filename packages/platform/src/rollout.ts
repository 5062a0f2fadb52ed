// Rollout: a candidate version beside an installation's current one, as a canary (a sticky share of
// runs gets its answer) or in shadow (it runs beside, its answer unused, its differences kept). Both
// versions' outcomes and fuel are tracked per installation over a window of runs; the candidate is
// rolled back by itself when it fails more or burns more than allowed, and promoted after N clean
// runs when asked. Starting, promoting and rolling back are each one transaction with its event.
import { type Context, requireOperator } from './context.js';
import { invalid, notFound, PlatformError } from './errors.js';
import type { InstallationDomain } from './installations.js';
import { toInstallation } from './installations.js';
import { diffJson, type JsonChange } from './replay.js';
import { findInstallation, type InstallationRow, updateInstallation } from './store/installations.js';
import { latestReplay } from './store/replays.js';
import type { Actor, Candidate, CandidateRequest, EventType, Installation, Outcome } from './types.js';

/** One version's last runs on an installation: outcomes and fuel, newest replacing oldest. */
class RunWindow {
  readonly #bad: boolean[] = [];
  readonly #fuel: number[] = [];
  readonly #size: number;
  #next = 0;
  /** Runs seen since the rollout started. */
  runs = 0;
  /** Contained or rejected runs since the rollout started. */
  failed = 0;

  constructor(size: number) {
    this.#size = size;
  }

  add(outcome: Outcome, fuel: number): void {
    const bad = outcome !== 'ok';
    this.runs++;
    if (bad) this.failed++;
    this.#bad[this.#next] = bad;
    this.#fuel[this.#next] = fuel;
    this.#next = (this.#next + 1) % this.#size;
  }

  get full(): boolean {
    return this.#bad.length === this.#size;
  }

  get filled(): number {
    return this.#bad.length;
  }

  /** Contained+rejected share of the window. */
  get failureRate(): number {
    return this.#bad.length === 0 ? 0 : this.#bad.filter(Boolean).length / this.#bad.length;
  }

  get fuelP99(): number {
    if (this.#fuel.length === 0) return 0;
    const sorted = this.#fuel.slice().sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)] as number;
  }

  summary(): VersionStats {
    return { runs: this.runs, failed: this.failed, windowRuns: this.filled, failureRate: this.failureRate, fuelP99: this.fuelP99 };
  }
}

/** One version's numbers in a rollout. */
export interface VersionStats {
  runs: number;
  failed: number;
  /** Runs in the window the decisions look at. */
  windowRuns: number;
  /** Contained+rejected share over the window. */
  failureRate: number;
  fuelP99: number;
}

/** A shadow run whose answer differed from the current version's. */
export interface ShadowDifference {
  key: string | undefined;
  current: { outcome: Outcome; code: string | undefined; fuel: number };
  candidate: { outcome: Outcome; code: string | undefined; fuel: number };
  changes: JsonChange[];
}

/** Where a rollout stands in this process. */
export interface RolloutStatus {
  installation: Installation;
  current: VersionStats;
  candidate: VersionStats;
  /** Shadow runs compared, and the latest differences (at most 100). */
  shadow: { compared: number; differing: number; differences: ShadowDifference[] };
}

/** Which version a run of one installation uses. */
export type Lane = 'current' | 'candidate' | 'shadow';

const MAX_DIFFERENCES = 100;

class Tracker {
  readonly candidate: Candidate;
  readonly current: RunWindow;
  readonly next: RunWindow;
  readonly differences: ShadowDifference[] = [];
  compared = 0;
  differing = 0;
  /** A promotion or rollback is under way: decide once. */
  deciding = false;

  constructor(candidate: Candidate) {
    this.candidate = candidate;
    this.current = new RunWindow(candidate.window);
    this.next = new RunWindow(candidate.window);
  }
}

export class RolloutDomain {
  readonly #ctx: Context;
  readonly #installations: InstallationDomain;
  readonly #onChange: (extensionPoint: string, tenant: string) => void;
  readonly #onError: (error: unknown) => void;
  readonly #trackers = new Map<string, Tracker>();
  readonly #pending = new Set<Promise<unknown>>();

  constructor(
    ctx: Context,
    installations: InstallationDomain,
    onChange: (extensionPoint: string, tenant: string) => void,
    onError: (error: unknown) => void,
  ) {
    this.#ctx = ctx;
    this.#installations = installations;
    this.#onChange = onChange;
    this.#onError = onError;
  }

  /**
   * Puts a candidate on an installation. The version's latest replay must have passed its gate; an
   * operator may override (`override: true`), which is its own event.
   */
  async start(actor: Actor, installationId: string, request: CandidateRequest): Promise<Installation> {
    requireOperator(actor, 'start rollouts');
    if (typeof request !== 'object' || request === null) throw invalid('candidate', 'must be { version, mode?, percent?, ... }');
    const row = await this.#row(installationId);
    await this.#installations.installable(row.plugin_id, request.version);
    if (request.version === row.version_id) throw invalid('version', `is already the installation's version "${row.version_id}"`);
    const candidate = checkCandidate(request, this.#ctx.now());
    const replay = await latestReplay(this.#ctx.db, request.version);
    const passed = replay !== undefined && Number(replay.passed) === 1;
    if (!passed && request.override !== true) {
      const why = replay === undefined ? 'has not been replayed' : `failed its gate in replay "${replay.id}"`;
      throw new PlatformError(
        'GATE_FAILED',
        `Version "${request.version}" ${why}: it cannot become a candidate unless an operator overrides`,
      );
    }
    const changes = { candidate_version_id: candidate.version, candidate: JSON.stringify(candidate), updated_at: this.#ctx.now() };
    const events = await this.#ctx.db.transaction().execute(async (trx) => {
      await updateInstallation(trx, row.id, changes);
      const appended = [];
      if (!passed) {
        appended.push(
          await this.#ctx.events.append(trx, 'rollout.gate-overridden', row.id, row.partner_id, {
            version: candidate.version,
            replay: replay?.id ?? null,
          }),
        );
      }
      appended.push(await this.#ctx.events.append(trx, 'rollout.started', row.id, row.partner_id, { from: row.version_id, ...candidate }));
      return appended;
    });
    for (const event of events) this.#ctx.events.publish(event);
    this.#trackers.set(row.id, new Tracker(candidate));
    this.#onChange(row.extension_point, row.tenant);
    return toInstallation({ ...row, ...changes });
  }

  /** Moves the candidate to current (operator, or automatic after N clean runs). */
  async promote(actor: Actor, installationId: string, reason = 'by the operator'): Promise<Installation> {
    requireOperator(actor, 'promote candidates');
    return this.#finish(await this.#row(installationId), 'rollout.promoted', reason);
  }

  /** Drops the candidate (operator, or automatic on failures or fuel). */
  async rollback(actor: Actor, installationId: string, reason = 'by the operator'): Promise<Installation> {
    requireOperator(actor, 'roll back candidates');
    return this.#finish(await this.#row(installationId), 'rollout.rolled-back', reason);
  }

  /** The rollout's numbers in this process (operator). */
  async status(actor: Actor, installationId: string): Promise<RolloutStatus> {
    requireOperator(actor, 'read rollouts');
    const row = await this.#row(installationId);
    const installation = toInstallation(row);
    const tracker = installation.candidate === null ? undefined : this.#tracker(row.id, installation.candidate);
    const empty: VersionStats = { runs: 0, failed: 0, windowRuns: 0, failureRate: 0, fuelP99: 0 };
    return {
      installation,
      current: tracker?.current.summary() ?? empty,
      candidate: tracker?.next.summary() ?? empty,
      shadow: {
        compared: tracker?.compared ?? 0,
        differing: tracker?.differing ?? 0,
        differences: tracker?.differences.slice() ?? [],
      },
    };
  }

  /** Which version this run of the installation uses: sticky by a hash of the installation and the run's key. */
  lane(installationId: string, candidate: Candidate, key: string | undefined): Lane {
    const tracker = this.#tracker(installationId, candidate);
    if (tracker.deciding) return 'current';
    const share = key === undefined ? this.#ctx.random() * 100 : (fnv1a(`${installationId}\0${key}`) % 10_000) / 100;
    if (share >= candidate.percent) return 'current';
    return candidate.mode === 'canary' ? 'candidate' : 'shadow';
  }

  /** A run of one of the two versions ended: count it, and decide when the window says so. */
  observe(installation: Installation, lane: 'current' | 'candidate', outcome: Outcome, fuel: number): void {
    const candidate = installation.candidate;
    if (candidate === null) return;
    const tracker = this.#tracker(installation.id, candidate);
    (lane === 'current' ? tracker.current : tracker.next).add(outcome, fuel);
    if (lane === 'candidate') this.#decide(installation, tracker);
  }

  /** A shadow run: the current answer was used; the candidate's is compared and counted. */
  shadow(
    installation: Installation,
    key: string | undefined,
    current: { outcome: Outcome; output: unknown; code: string | undefined; fuel: number },
    candidate: { outcome: Outcome; output: unknown; code: string | undefined; fuel: number },
  ): void {
    if (installation.candidate === null) return;
    const tracker = this.#tracker(installation.id, installation.candidate);
    tracker.compared++;
    const changes: JsonChange[] = [];
    if (current.outcome === 'ok' && candidate.outcome === 'ok') diffJson(current.output, candidate.output, '', changes);
    else if (current.outcome !== candidate.outcome || current.code !== candidate.code) {
      changes.push({
        path: '',
        before: { outcome: current.outcome, code: current.code },
        after: { outcome: candidate.outcome, code: candidate.code },
      });
    }
    tracker.next.add(candidate.outcome, candidate.fuel);
    if (changes.length > 0) {
      tracker.differing++;
      if (tracker.differences.length >= MAX_DIFFERENCES) tracker.differences.shift();
      const side = (s: typeof current) => ({ outcome: s.outcome, code: s.code, fuel: s.fuel });
      tracker.differences.push({ key, current: side(current), candidate: side(candidate), changes });
    }
    this.#decide(installation, tracker);
  }

  /** Resolves when every automatic promotion or rollback started so far has committed. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  #decide(installation: Installation, tracker: Tracker): void {
    if (tracker.deciding) return;
    const { candidate } = tracker;
    let verdict: { type: 'rollout.promoted' | 'rollout.rolled-back'; reason: string } | undefined;
    if (tracker.next.full && tracker.current.filled > 0) {
      const failures = tracker.next.failureRate - tracker.current.failureRate;
      const currentP99 = tracker.current.fuelP99;
      const ratio = currentP99 === 0 ? (tracker.next.fuelP99 === 0 ? 1 : Number.POSITIVE_INFINITY) : tracker.next.fuelP99 / currentP99;
      if (failures > candidate.failureMargin) {
        verdict = {
          type: 'rollout.rolled-back',
          reason: `contained+rejected ${pct(tracker.next.failureRate)} against ${pct(tracker.current.failureRate)} over ${candidate.window} runs (margin ${pct(candidate.failureMargin)})`,
        };
      } else if (ratio > candidate.fuelRatio) {
        verdict = {
          type: 'rollout.rolled-back',
          reason: `fuel p99 ${tracker.next.fuelP99} is ${ratio.toFixed(2)}× the current's ${currentP99} (at most ${candidate.fuelRatio}×)`,
        };
      }
    }
    if (verdict === undefined && candidate.promoteAfter !== null && tracker.next.runs >= candidate.promoteAfter && tracker.next.full) {
      verdict = { type: 'rollout.promoted', reason: `${tracker.next.runs} candidate runs within the thresholds` };
    }
    if (verdict === undefined) return;
    tracker.deciding = true;
    const { type, reason } = verdict;
    const done = findInstallation(this.#ctx.db, installation.id)
      .then((row) => {
        // Changed meanwhile (promoted or rolled back by hand, another candidate): nothing to decide.
        if (row === undefined || row.candidate_version_id !== candidate.version) return;
        return this.#finish(row, type, `automatic: ${reason}`);
      })
      .catch(this.#onError)
      .finally(() => this.#pending.delete(done));
    this.#pending.add(done);
  }

  async #finish(
    row: InstallationRow,
    type: Extract<EventType, 'rollout.promoted' | 'rollout.rolled-back'>,
    reason: string,
  ): Promise<Installation> {
    if (row.candidate_version_id === null) throw new PlatformError('CONFLICT', `Installation "${row.id}" has no candidate`);
    const candidate = JSON.parse(row.candidate as string) as Candidate;
    const tracker = this.#tracker(row.id, candidate);
    const changes: Partial<InstallationRow> = { candidate_version_id: null, candidate: null, updated_at: this.#ctx.now() };
    if (type === 'rollout.promoted') changes.version_id = candidate.version;
    const event = await this.#ctx.db.transaction().execute((trx) =>
      updateInstallation(trx, row.id, changes).then(() =>
        this.#ctx.events.append(trx, type, row.id, row.partner_id, {
          from: row.version_id,
          candidate: candidate.version,
          mode: candidate.mode,
          reason,
          current: tracker.current.summary(),
          candidateStats: tracker.next.summary(),
        }),
      ),
    );
    this.#ctx.events.publish(event);
    this.#trackers.delete(row.id);
    this.#onChange(row.extension_point, row.tenant);
    return toInstallation({ ...row, ...changes });
  }

  #tracker(installationId: string, candidate: Candidate): Tracker {
    let tracker = this.#trackers.get(installationId);
    if (tracker === undefined || tracker.candidate.version !== candidate.version || tracker.candidate.since !== candidate.since) {
      tracker = new Tracker(candidate);
      this.#trackers.set(installationId, tracker);
    }
    return tracker;
  }

  async #row(id: string): Promise<InstallationRow> {
    const row = typeof id === 'string' ? await findInstallation(this.#ctx.db, id) : undefined;
    if (row === undefined) throw notFound('installation', String(id));
    return row;
  }
}

function checkCandidate(request: CandidateRequest, now: number): Candidate {
  const mode = request.mode ?? 'canary';
  if (mode !== 'canary' && mode !== 'shadow') throw invalid('mode', `must be "canary" or "shadow", got ${JSON.stringify(mode)}`);
  const number = (field: string, value: unknown, min: number, max: number, integer: boolean): number => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      throw invalid(field, `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  return {
    version: request.version,
    mode,
    percent: number('percent', request.percent ?? 10, 0, 100, false),
    window: number('window', request.window ?? 50, 1, 100_000, true),
    failureMargin: number('failureMargin', request.failureMargin ?? 0.05, 0, 1, false),
    fuelRatio: number('fuelRatio', request.fuelRatio ?? 1.5, 0, 1000, false),
    promoteAfter: request.promoteAfter == null ? null : number('promoteAfter', request.promoteAfter, 1, Number.MAX_SAFE_INTEGER, true),
    since: now,
  };
}

/** FNV-1a, 32 bits: a stable spread of installation and key over the shares. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function pct(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}
