// Replay: a candidate version run on recorded production runs, its imports answered from each
// record's tape, compared with what the running version answered there. Exact because runs are
// deterministic and metered: the same input, config and import answers give the same output and
// fuel. The report is stored with its verdict from the point's gate, in one transaction with its event.
import { type AnyTenonError, type CompiledPlugin, isTenonError, type Plugin } from '@tenon/runtime';
import { type Context, partnerScope } from './context.js';
import { fuelBudget } from './definition.js';
import { invalid, notFound, PlatformError } from './errors.js';
import { pageLimit } from './events.js';
import type { ExtensionPointDomain } from './extension-points.js';
import { scopedPlugin } from './plugins.js';
import type { Judged, LoadedPoint } from './point.js';
import { findInstallation } from './store/installations.js';
import { findVersionById, versionModule } from './store/plugins.js';
import type { RecordRow } from './store/records.js';
import { findReplay, insertReplay, listReplays, recordsOfOtherVersions, recordsOfPoint } from './store/replays.js';
import { type Import, Tape } from './tape.js';
import type { Actor, Grants, Outcome, Page, ReplayGate } from './types.js';

/** How one record fared under the candidate. */
export type ReplayClass = 'same' | 'changed' | 'newly-failing' | 'fixed' | 'not-replayable';

/** One difference between two JSON answers, at a JSON Pointer path (values left out for partners). */
export interface JsonChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

/** One record replayed. `tenant`, `key` and the changes' values are the operator's only. */
export interface ReplayedRecord {
  record: string;
  tenant?: string;
  key?: string | null;
  class: ReplayClass;
  before: { version: string; outcome: Outcome; code: string | null; fuel: number };
  /** Absent when the record could not be replayed. */
  after?: { outcome: Outcome; code: string | null; fuel: number };
  budget: number;
  /** For `changed`: the answer's differences by path (at most 50), or the code that changed. */
  changes?: JsonChange[];
  /** For `not-replayable`: what the candidate asked that the record does not hold. */
  reason?: string;
  durationUs: number;
}

/** Fuel percentiles, in fuel units. */
export interface FuelSummary {
  p50: number;
  p99: number;
}

export interface ReplayReport {
  id: string;
  version: string;
  plugin: string;
  extensionPoint: string;
  /** `plugin`: records of the plug-in's other versions; `point`: the point's records (a plug-in never recorded). */
  baseline: 'plugin' | 'point';
  createdAt: number;
  totals: { records: number; same: number; changed: number; newlyFailing: number; fixed: number; notReplayable: number };
  /** Over the replayed records: before (the recorded version) and after (the candidate). */
  fuel: {
    before: FuelSummary;
    after: FuelSummary;
    /** after.p99 / before.p99 (1 when both are 0). */
    ratio: number;
    /** 1 − the largest share of its budget the candidate used on one record: how close it came. */
    headroom: number;
  };
  /** The candidate's slowest records, slowest first (at most 5). */
  slowest: { record: string; durationUs: number }[];
  verdict: { passed: boolean; reasons: string[]; gate: ReplayGate };
  /** Records in replay order (newest record first), paged by `offset` and `limit` when read back. */
  results: ReplayedRecord[];
  /** The offset of the next page of results, when there is one. */
  next?: number;
}

/** A replay as listed: the report without its per-record results. */
export type ReplaySummary = Omit<ReplayReport, 'results' | 'next'>;

/** Filters on the list of replays; `after` is a cursor from a previous page. */
export interface ReplayQuery {
  plugin?: string;
  version?: string;
  after?: string;
  /** Page size, 1 to 1000. Default 100. */
  limit?: number;
}

export interface ReplayRequest {
  version: string;
  /** How many of the newest records to replay. Default 1,000, at most 100,000. */
  records?: number;
}

const DEFAULT_RECORDS = 1000;
const NO_IMPORTS: readonly Import[] = Object.freeze([]);
const MAX_RECORDS = 100_000;
const MAX_CHANGES = 50;
const DEFAULT_GATE: ReplayGate = { maxNewFailures: 0, maxFuelRatio: 1.5, maxChanged: null, maxNotReplayable: null };

export class ReplayDomain {
  readonly #ctx: Context;
  readonly #points: ExtensionPointDomain;

  constructor(ctx: Context, points: ExtensionPointDomain) {
    this.#ctx = ctx;
    this.#points = points;
  }

  /** Replays `version` on recorded runs and stores the report (a partner: its own versions only). */
  async create(actor: Actor, request: ReplayRequest): Promise<ReplayReport> {
    if (typeof request !== 'object' || request === null) throw invalid('request', 'must be { version, records? }');
    const count = request.records ?? DEFAULT_RECORDS;
    if (!Number.isSafeInteger(count) || count < 1 || count > MAX_RECORDS) {
      throw invalid('records', `must be an integer from 1 to ${MAX_RECORDS}, got ${JSON.stringify(request.records)}`);
    }
    if (typeof request.version !== 'string') throw invalid('version', `must be a version id, got ${JSON.stringify(request.version)}`);
    const version = await findVersionById(this.#ctx.db, request.version);
    if (version === undefined) throw notFound('version', request.version);
    // Scoped: another partner's version is NOT_FOUND, as if it did not exist.
    const plugin = await scopedPlugin(this.#ctx, actor, version.plugin_id).catch(() => {
      throw notFound('version', request.version);
    });
    if (version.status !== 'validated') {
      throw new PlatformError('VERSION_REJECTED', `Version "${version.id}" was rejected on upload and cannot be replayed`);
    }
    const point = await this.#points.load(plugin.extension_point);
    let baseline: ReplayReport['baseline'] = 'plugin';
    let rows = await recordsOfOtherVersions(this.#ctx.db, plugin.id, version.id, count);
    if (rows.length === 0) {
      baseline = 'point';
      rows = (await recordsOfPoint(this.#ctx.db, point.info.name, count + 1))
        .filter((row) => row.version_id !== version.id)
        .slice(0, count);
    }
    const base = await point.compiled(version.sha256, async () => (await versionModule(this.#ctx.db, version.id)) as Uint8Array);
    const results = await this.#replayAll(point, base, rows);
    const report = summarize(results, point.info.gate ?? DEFAULT_GATE);
    const full: ReplayReport = {
      id: this.#ctx.id('rp'),
      version: version.id,
      plugin: plugin.id,
      extensionPoint: point.info.name,
      baseline,
      createdAt: this.#ctx.now(),
      ...report,
      results,
    };
    const event = await this.#ctx.db.transaction().execute(async (trx) => {
      await insertReplay(trx, {
        id: full.id,
        version_id: version.id,
        plugin_id: plugin.id,
        partner_id: plugin.partner_id,
        extension_point: point.info.name,
        passed: full.verdict.passed ? 1 : 0,
        report: JSON.stringify(full),
        summary: JSON.stringify(summaryOf(full)),
        created_at: full.createdAt,
      });
      return this.#ctx.events.append(trx, 'replay.completed', full.id, plugin.partner_id, {
        version: version.id,
        plugin: plugin.id,
        passed: full.verdict.passed,
        totals: full.totals,
      });
    });
    this.#ctx.events.publish(event);
    return view(actor, full, 0, 100);
  }

  /** A stored replay, its results paged (`offset`, `limit` up to 1,000; default 100). */
  async get(actor: Actor, id: string, page: { offset?: number; limit?: number } = {}): Promise<ReplayReport> {
    const offset = page.offset ?? 0;
    const limit = page.limit ?? 100;
    if (!Number.isSafeInteger(offset) || offset < 0) throw invalid('offset', `must be a non-negative integer, got ${offset}`);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000)
      throw invalid('limit', `must be an integer from 1 to 1000, got ${limit}`);
    const row = typeof id === 'string' ? await findReplay(this.#ctx.db, id, partnerScope(actor)) : undefined;
    if (row === undefined) throw notFound('replay', String(id));
    return view(actor, JSON.parse(row.report) as ReplayReport, offset, limit);
  }

  /** Replays, newest first, by cursor (a partner: those of its own versions). */
  async list(actor: Actor, query: ReplayQuery = {}): Promise<Page<ReplaySummary>> {
    const limit = pageLimit(query.limit);
    // Naming another partner's plug-in is NOT_FOUND, as reading it is, not an empty page.
    if (query.plugin !== undefined) await scopedPlugin(this.#ctx, actor, query.plugin);
    let before: { at: number; id: string } | undefined;
    if (query.after !== undefined && query.after !== '') {
      const match = /^(\d{1,15})\.([\w-]{1,200})$/.exec(query.after);
      if (match === null) throw invalid('after', `not a cursor from a previous page: "${query.after.slice(0, 40)}"`);
      before = { at: Number(match[1]), id: match[2] as string };
    }
    const rows = await listReplays(
      this.#ctx.db,
      { partnerId: partnerScope(actor), plugin: query.plugin, version: query.version },
      before,
      limit,
    );
    const items = rows.map((row) => (row.summary === null ? summaryOf(JSON.parse(row.report as string)) : JSON.parse(row.summary)));
    const last = rows.at(-1);
    return { items, next: rows.length === limit && last !== undefined ? `${last.created_at}.${last.id}` : undefined };
  }

  async #replayAll(point: LoadedPoint, base: CompiledPlugin, rows: readonly RecordRow[]): Promise<ReplayedRecord[]> {
    // One instance per installation and config (they are per record): the candidate's settings as
    // that installation had them, isolated as the point's runs are (`fresh`: a new instance per
    // record; `tenant`: one kept across that installation's records, as it is across its runs).
    const instances = new Map<string, Instance>();
    const grants = new Map<string, Grants>();
    const encoder = new TextEncoder();
    const results: ReplayedRecord[] = [];
    try {
      for (const row of rows) {
        const k = `${row.installation_id}\0${row.config}`;
        let instance = instances.get(k);
        if (instance === undefined) {
          let granted = grants.get(row.installation_id);
          if (granted === undefined) {
            const installation = await findInstallation(this.#ctx.db, row.installation_id);
            // An installation removed since: the point's grants (the tape answers all the same).
            granted = installation === undefined ? point.allGrants : (JSON.parse(installation.grants) as Grants);
            grants.set(row.installation_id, granted);
          }
          const config = JSON.parse(row.config) as Record<string, string>;
          let plugin: Plugin | AnyTenonError;
          try {
            plugin = point.configure(base, config, granted, point.info.isolation === 'tenant' ? 'reuse' : 'fresh').instantiate();
          } catch (error) {
            // The candidate does not link with this installation's grants: every run there would fail so.
            if (!isTenonError(error)) throw error;
            plugin = error;
          }
          instance = { plugin, config };
          instances.set(k, instance);
        }
        results.push(replayOne(point, instance, row, encoder));
      }
    } finally {
      for (const { plugin } of instances.values()) if (!isTenonError(plugin)) plugin.close();
    }
    return results;
  }
}

/** The candidate as one installation had it: its instance (or why it does not link) and its config. */
interface Instance {
  plugin: Plugin | AnyTenonError;
  config: Record<string, string>;
}

function replayOne(point: LoadedPoint, { plugin, config }: Instance, row: RecordRow, encoder: TextEncoder): ReplayedRecord {
  const input = JSON.parse(row.input) as unknown;
  const bytes = encoder.encode(row.input);
  const budget = fuelBudget(point.info.limits, bytes.length);
  const tape = Tape.replaying(row.imports === null ? NO_IMPORTS : (JSON.parse(row.imports) as Import[]));
  const judged: Judged = isTenonError(plugin)
    ? { outcome: 'contained', output: undefined, answer: undefined, code: plugin.code, message: plugin.message, fuel: 0, durationUs: 0 }
    : point.invoke(
        plugin,
        input,
        bytes,
        budget,
        {
          tenant: row.tenant,
          key: row.run_key ?? undefined,
          installation: row.installation_id,
          plugin: row.plugin_id,
          partner: row.partner_id,
          config,
          // Records do not keep the answers accepted earlier in their run: rules see none.
          earlier: [],
        },
        tape,
      );
  const result: ReplayedRecord = {
    record: row.id,
    tenant: row.tenant,
    key: row.run_key,
    class: 'same',
    before: { version: row.version_id, outcome: row.outcome, code: row.code, fuel: Number(row.fuel) },
    budget,
    durationUs: judged.durationUs,
  };
  if (tape.refusal !== undefined) {
    result.class = 'not-replayable';
    result.reason = tape.refusal;
    return result;
  }
  result.after = { outcome: judged.outcome, code: judged.code ?? null, fuel: judged.fuel };
  const wasOk = row.outcome === 'ok';
  const isOk = judged.outcome === 'ok';
  if (wasOk && !isOk) result.class = 'newly-failing';
  else if (!wasOk && isOk) result.class = 'fixed';
  else if (wasOk && isOk) {
    const changes: JsonChange[] = [];
    diffJson(JSON.parse(row.output as string), judged.output, '', changes);
    if (changes.length > 0) {
      result.class = 'changed';
      result.changes = changes;
    }
  } else if (row.code !== judged.code) {
    result.class = 'changed';
    result.changes = [{ path: '', before: { code: row.code }, after: { code: judged.code } }];
  }
  return result;
}

/** The differences between two JSON values, by JSON Pointer path (RFC 6901), at most MAX_CHANGES. */
export function diffJson(before: unknown, after: unknown, path: string, out: JsonChange[]): void {
  if (out.length >= MAX_CHANGES) return;
  if (Object.is(before, after)) return;
  const beforeObject = typeof before === 'object' && before !== null;
  const afterObject = typeof after === 'object' && after !== null;
  if (beforeObject && afterObject && Array.isArray(before) === Array.isArray(after)) {
    const b = before as Record<string, unknown>;
    const a = after as Record<string, unknown>;
    const keys = Array.isArray(before)
      ? Array.from({ length: Math.max((before as unknown[]).length, (after as unknown[]).length) }, (_, i) => String(i))
      : [...new Set([...Object.keys(b), ...Object.keys(a)])];
    for (const key of keys) {
      const child = `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      const inBefore = Object.hasOwn(b, key);
      const inAfter = Object.hasOwn(a, key);
      if (inBefore && inAfter) diffJson(b[key], a[key], child, out);
      else if (out.length < MAX_CHANGES) out.push(inBefore ? { path: child, before: b[key] } : { path: child, after: a[key] });
    }
    return;
  }
  out.push({ path, before, after });
}

function summarize(
  results: readonly ReplayedRecord[],
  gate: ReplayGate,
): Omit<ReplayReport, 'id' | 'version' | 'plugin' | 'extensionPoint' | 'baseline' | 'createdAt' | 'results'> {
  const totals = { records: results.length, same: 0, changed: 0, newlyFailing: 0, fixed: 0, notReplayable: 0 };
  const before: number[] = [];
  const after: number[] = [];
  let worstShare = 0;
  for (const r of results) {
    if (r.class === 'same') totals.same++;
    else if (r.class === 'changed') totals.changed++;
    else if (r.class === 'newly-failing') totals.newlyFailing++;
    else if (r.class === 'fixed') totals.fixed++;
    else totals.notReplayable++;
    if (r.after === undefined) continue;
    before.push(r.before.fuel);
    after.push(r.after.fuel);
    worstShare = Math.max(worstShare, r.after.fuel / r.budget);
  }
  const fuelBefore = percentiles(before);
  const fuelAfter = percentiles(after);
  const ratio = fuelBefore.p99 === 0 ? (fuelAfter.p99 === 0 ? 1 : Number.POSITIVE_INFINITY) : fuelAfter.p99 / fuelBefore.p99;
  const headroom = 1 - worstShare;
  const reasons: string[] = [];
  if (totals.newlyFailing > gate.maxNewFailures) reasons.push(`${totals.newlyFailing} records newly fail (at most ${gate.maxNewFailures})`);
  if (ratio > gate.maxFuelRatio) reasons.push(`fuel p99 is ${ratio.toFixed(2)}× the current version's (at most ${gate.maxFuelRatio}×)`);
  if (headroom < 0) reasons.push('fuel went past the budget');
  if (gate.maxChanged !== null && totals.changed > gate.maxChanged)
    reasons.push(`${totals.changed} answers changed (at most ${gate.maxChanged})`);
  if (gate.maxNotReplayable !== null && totals.notReplayable > gate.maxNotReplayable) {
    reasons.push(`${totals.notReplayable} records could not be replayed (at most ${gate.maxNotReplayable})`);
  }
  if (results.length === 0) reasons.push('no records to replay');
  const slowest = [...results]
    .sort((a, b) => b.durationUs - a.durationUs)
    .slice(0, 5)
    .map((r) => ({ record: r.record, durationUs: r.durationUs }));
  return {
    totals,
    fuel: { before: fuelBefore, after: fuelAfter, ratio, headroom },
    slowest,
    verdict: { passed: reasons.length === 0, reasons, gate },
  };
}

function percentiles(values: number[]): FuelSummary {
  if (values.length === 0) return { p50: 0, p99: 0 };
  const sorted = values.slice().sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
  return { p50: at(0.5), p99: at(0.99) };
}

function summaryOf(report: ReplayReport): ReplaySummary {
  const { results: _results, next: _next, ...summary } = report;
  return summary;
}

/** The report as the actor may see it: a partner gets no tenant, key or answer values, only paths. */
function view(actor: Actor, report: ReplayReport, offset: number, limit: number): ReplayReport {
  const partner = partnerScope(actor) !== undefined;
  const page = report.results.slice(offset, offset + limit).map((r) => {
    if (!partner) return r;
    const { tenant: _tenant, key: _key, changes, reason, ...rest } = r;
    // A reason quotes what the candidate asked (a URL, say), which it may have built from the input.
    const stripped = reason === undefined ? rest : { ...rest, reason: 'the version asked for an import the record does not hold' };
    return changes === undefined ? stripped : { ...stripped, changes: changes.map((c) => ({ path: c.path })) };
  });
  const out: ReplayReport = { ...report, results: page };
  if (offset + limit < report.results.length) out.next = offset + limit;
  else delete out.next;
  return out;
}
