// Aggregates of recorded runs for the dashboard's overview: runs over time stacked by outcome and
// code, duration percentiles and fuel against budget, by extension point and by plug-in. Computed
// from one scan of the cost columns (never inputs or outputs), scoped like the records themselves.
import { type Context, partnerScope } from './context.js';
import { invalid } from './errors.js';
import { scanRecordCosts } from './store/records.js';
import type { Actor } from './types.js';

/** What the statistics cover. */
export interface RunStatsQuery {
  extensionPoint?: string;
  plugin?: string;
  /** The window, in milliseconds back from now: 1 minute to 7 days. Default one hour. */
  windowMs?: number;
  /** Buckets in the window for the time series: 1 to 240. Default 60. */
  buckets?: number;
}

/** Cost figures of a group of runs. */
export interface RunCostStats {
  runs: number;
  /** Runs by outcome key: `ok`, `rejected`, or `contained:<CODE>` / `rejected:<CODE>` when a code is known. */
  outcomes: Record<string, number>;
  /** Duration percentiles, in microseconds. */
  p50Us: number;
  p99Us: number;
  /** Fuel used and budget granted, means and maxima, in fuel units. */
  fuelMean: number;
  fuelMax: number;
  budgetMean: number;
  /** The largest share of its budget one run used, 0 to 1. */
  budgetShareMax: number;
}

/** The statistics of recorded runs in a window. */
export interface RunStats extends RunCostStats {
  from: number;
  to: number;
  bucketMs: number;
  /** Runs per second over the window. */
  runsPerSecond: number;
  /** True when the window held more records than one scan reads (the newest are counted). */
  truncated: boolean;
  /** The time series: each bucket's start (ms) and its runs by outcome key. */
  series: { at: number; outcomes: Record<string, number> }[];
  byExtensionPoint: (RunCostStats & { extensionPoint: string })[];
  byPlugin: (RunCostStats & { plugin: string; extensionPoint: string })[];
}

/** Most records one statistics call reads. */
export const MAX_SCANNED = 250_000;
const MINUTE = 60_000;

type Row = Awaited<ReturnType<typeof scanRecordCosts>>[number];

export async function runStats(ctx: Context, actor: Actor, query: RunStatsQuery = {}): Promise<RunStats> {
  const partnerId = partnerScope(actor);
  const windowMs = query.windowMs ?? 60 * MINUTE;
  if (!Number.isInteger(windowMs) || windowMs < MINUTE || windowMs > 7 * 24 * 60 * MINUTE)
    throw invalid('windowMs', `must be an integer from 60000 to 604800000, got ${JSON.stringify(windowMs)}`);
  const buckets = query.buckets ?? 60;
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 240)
    throw invalid('buckets', `must be an integer from 1 to 240, got ${JSON.stringify(buckets)}`);
  const to = ctx.now();
  const bucketMs = Math.ceil(windowMs / buckets);
  const from = to - bucketMs * buckets;
  const rows = await scanRecordCosts(ctx.db, { extensionPoint: query.extensionPoint, plugin: query.plugin, partnerId }, from, MAX_SCANNED);
  const series = Array.from({ length: buckets }, (_, i) => ({ at: from + i * bucketMs, outcomes: {} as Record<string, number> }));
  const points = new Map<string, Row[]>();
  const plugins = new Map<string, Row[]>();
  for (const row of rows) {
    const slot = series[Math.min(buckets - 1, Math.floor((Number(row.at) - from) / bucketMs))];
    if (slot !== undefined) increment(slot.outcomes, outcomeKey(row));
    push(points, row.extension_point, row);
    push(plugins, row.plugin_id, row);
  }
  const seconds = rows.length === MAX_SCANNED ? Math.max(1, (to - Number(rows.at(-1)?.at ?? from)) / 1000) : (to - from) / 1000;
  return {
    from,
    to,
    bucketMs,
    runsPerSecond: rows.length / seconds,
    truncated: rows.length === MAX_SCANNED,
    ...costs(rows),
    series,
    byExtensionPoint: [...points].map(([extensionPoint, group]) => ({ extensionPoint, ...costs(group) })),
    byPlugin: [...plugins].map(([plugin, group]) => ({ plugin, extensionPoint: group[0]?.extension_point ?? '', ...costs(group) })),
  };
}

function outcomeKey(row: Row): string {
  return row.code === null ? row.outcome : `${row.outcome}:${row.code}`;
}

function increment(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function push(groups: Map<string, Row[]>, key: string, row: Row): void {
  const group = groups.get(key);
  if (group === undefined) groups.set(key, [row]);
  else group.push(row);
}

function costs(rows: readonly Row[]): RunCostStats {
  const outcomes: Record<string, number> = {};
  const durations = new Float64Array(rows.length);
  let fuel = 0;
  let fuelMax = 0;
  let budget = 0;
  let shareMax = 0;
  rows.forEach((row, i) => {
    increment(outcomes, outcomeKey(row));
    durations[i] = Number(row.duration_us);
    const f = Number(row.fuel);
    const b = Number(row.budget);
    fuel += f;
    budget += b;
    if (f > fuelMax) fuelMax = f;
    if (b > 0 && f / b > shareMax) shareMax = f / b;
  });
  durations.sort();
  const n = rows.length;
  return {
    runs: n,
    outcomes,
    p50Us: n === 0 ? 0 : (durations[Math.min(n - 1, Math.floor(n * 0.5))] ?? 0),
    p99Us: n === 0 ? 0 : (durations[Math.min(n - 1, Math.floor(n * 0.99))] ?? 0),
    fuelMean: n === 0 ? 0 : fuel / n,
    fuelMax,
    budgetMean: n === 0 ? 0 : budget / n,
    budgetShareMax: shareMax,
  };
}
