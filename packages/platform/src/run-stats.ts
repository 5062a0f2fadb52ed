// Aggregates of recorded runs for the dashboard's overview: runs over time stacked by outcome and
// code, duration percentiles and fuel against budget, by extension point and by plug-in. Counts and
// sums are grouped in the store (a few rows come back whatever the number of runs); percentiles come
// from the newest runs' durations. Only cost columns are read (never inputs or outputs), scoped like
// the records themselves.
import { type Context, partnerScope } from './context.js';
import { invalid } from './errors.js';
import { recentDurations, sumRecordCosts } from './store/records.js';
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
  /** Duration percentiles, in microseconds (of the newest PERCENTILE_SAMPLE runs in the window). */
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
  /** True when the window held more runs than the percentiles read (they are the newest runs'). */
  truncated: boolean;
  /** The time series: each bucket's start (ms) and its runs by outcome key. */
  series: { at: number; outcomes: Record<string, number> }[];
  byExtensionPoint: (RunCostStats & { extensionPoint: string })[];
  byPlugin: (RunCostStats & { plugin: string; extensionPoint: string })[];
}

/** Most runs whose durations one statistics call reads for its percentiles (the newest). */
export const PERCENTILE_SAMPLE = 10_000;
const MINUTE = 60_000;

type Sums = Awaited<ReturnType<typeof sumRecordCosts>>[number];
type Duration = Awaited<ReturnType<typeof recentDurations>>[number];

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
  const filter = { extensionPoint: query.extensionPoint, plugin: query.plugin, partnerId };
  const [sums, durations] = await Promise.all([
    sumRecordCosts(ctx.db, filter, from, bucketMs),
    recentDurations(ctx.db, filter, from, PERCENTILE_SAMPLE),
  ]);
  const series = Array.from({ length: buckets }, (_, i) => ({ at: from + i * bucketMs, outcomes: {} as Record<string, number> }));
  for (const row of sums) {
    const slot = series[Math.min(buckets - 1, Number(row.bucket))];
    if (slot !== undefined) add(slot.outcomes, outcomeKey(row), Number(row.runs));
  }
  const points = new Map<string, { sums: Sums[]; durations: Duration[] }>();
  const plugins = new Map<string, { sums: Sums[]; durations: Duration[] }>();
  for (const row of sums) {
    group(points, row.extension_point).sums.push(row);
    group(plugins, row.plugin_id).sums.push(row);
  }
  for (const row of durations) {
    group(points, row.extension_point).durations.push(row);
    group(plugins, row.plugin_id).durations.push(row);
  }
  const total = costs(sums, durations);
  return {
    from,
    to,
    bucketMs,
    runsPerSecond: total.runs / ((to - from) / 1000),
    truncated: durations.length === PERCENTILE_SAMPLE && total.runs > PERCENTILE_SAMPLE,
    ...total,
    series,
    byExtensionPoint: [...points].map(([extensionPoint, g]) => ({ extensionPoint, ...costs(g.sums, g.durations) })),
    byPlugin: [...plugins].map(([plugin, g]) => ({
      plugin,
      extensionPoint: g.sums[0]?.extension_point ?? g.durations[0]?.extension_point ?? '',
      ...costs(g.sums, g.durations),
    })),
  };
}

function outcomeKey(row: { outcome: string; code: string | null }): string {
  return row.code === null ? row.outcome : `${row.outcome}:${row.code}`;
}

function add(counts: Record<string, number>, key: string, n: number): void {
  counts[key] = (counts[key] ?? 0) + n;
}

function group(groups: Map<string, { sums: Sums[]; durations: Duration[] }>, key: string) {
  let g = groups.get(key);
  if (g === undefined) {
    g = { sums: [], durations: [] };
    groups.set(key, g);
  }
  return g;
}

function costs(sums: readonly Sums[], durations: readonly Duration[]): RunCostStats {
  const outcomes: Record<string, number> = {};
  let runs = 0;
  let fuel = 0;
  let fuelMax = 0;
  let budget = 0;
  let shareMax = 0;
  for (const row of sums) {
    const n = Number(row.runs);
    add(outcomes, outcomeKey(row), n);
    runs += n;
    fuel += Number(row.fuel);
    budget += Number(row.budget);
    fuelMax = Math.max(fuelMax, Number(row.fuel_max));
    shareMax = Math.max(shareMax, Number(row.share_max ?? 0));
  }
  const sorted = Float64Array.from(durations, (d) => Number(d.duration_us)).sort();
  const n = sorted.length;
  return {
    runs,
    outcomes,
    p50Us: n === 0 ? 0 : (sorted[Math.min(n - 1, Math.floor(n * 0.5))] ?? 0),
    p99Us: n === 0 ? 0 : (sorted[Math.min(n - 1, Math.floor(n * 0.99))] ?? 0),
    fuelMean: runs === 0 ? 0 : fuel / runs,
    fuelMax,
    budgetMean: runs === 0 ? 0 : budget / runs,
    budgetShareMax: shareMax,
  };
}
