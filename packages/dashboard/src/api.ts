// The dashboard's only way to the platform: the public HTTP API v1, relative to the page (so a host
// that mounts the API under a prefix serves the dashboard under it too), signed in by cookie.

// The platform's own types where the JSON has the same shape (type-only: nothing of the platform is bundled).
import type {
  Candidate,
  RunCostStats as CostStats,
  Installation,
  JsonChange,
  ReplayClass,
  ReplayedRecord,
  RunLogs,
  VersionStats,
} from '@tenon/platform';

export type { Candidate, CostStats, Installation, JsonChange, ReplayClass, ReplayedRecord, VersionStats };

/** A refusal from the API: its stable code and message. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
  const init: RequestInit = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    init.headers = { 'content-type': contentType };
    init.body = contentType === 'application/json' ? JSON.stringify(body) : (body as BodyInit);
  }
  const response = await fetch(path.replace(/^\//, ''), init);
  if (response.status === 204) return undefined as T;
  const data = (await response.json().catch(() => ({}))) as { error?: { code: string; message: string } };
  if (!response.ok) throw new ApiError(response.status, data.error?.code ?? 'HTTP', data.error?.message ?? response.statusText);
  return data as T;
}

export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') search.set(k, String(v));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

export interface Who {
  kind: 'operator' | 'partner';
  partnerId?: string;
  name?: string;
}

export interface Stats extends CostStats {
  from: number;
  to: number;
  bucketMs: number;
  runsPerSecond: number;
  truncated: boolean;
  series: { at: number; outcomes: Record<string, number> }[];
  byExtensionPoint: (CostStats & { extensionPoint: string })[];
  byPlugin: (CostStats & { plugin: string; extensionPoint: string })[];
}
export interface Point {
  name: string;
  function: string;
  input: unknown;
  output: unknown;
  limits: Record<string, number>;
  allowedHosts?: string[];
  hostFunctions?: string[];
  wasi?: boolean;
  isolation?: string;
  simulations: { name: string; input: unknown; expect: { output?: unknown; accepted?: boolean; error?: string } }[];
  record?: { sample: number; retain?: number };
}
export interface Plugin {
  id: string;
  partnerId: string;
  extensionPoint: string;
  name: string;
  createdAt: number;
}
export interface Report {
  checks: { name: string; ok: boolean; message: string }[];
  simulations: {
    name: string;
    ok: boolean;
    outcome?: string;
    code?: string;
    message?: string;
    fuel: number;
    budget: number;
    durationUs: number;
  }[];
  durationMs: number;
}
export interface Version {
  id: string;
  pluginId: string;
  sha256: string;
  size: number;
  status: 'validated' | 'rejected';
  report: Report;
  createdAt: number;
}
export interface RunRecord {
  id: string;
  extensionPoint: string;
  installation: string;
  plugin: string;
  partner: string;
  version: string;
  outcome: 'ok' | 'contained' | 'rejected';
  code: string | null;
  fuel: number;
  budget: number;
  durationUs: number;
  at: number;
  tenant?: string;
  key?: string | null;
  input?: unknown;
  output?: unknown;
  message?: string | null;
  config?: Record<string, string>;
  imports?: Import[];
  /** Operators only; absent from records written before the server kept logs. */
  logs?: RunLogs;
}
/** A host call or HTTP exchange of a run, as its tape holds it (blocks and bodies base64). */
export type Import =
  | { kind: 'host'; name: string; ask: string[]; writes: string[]; result: unknown }
  | {
      kind: 'http';
      method: string;
      url: string;
      body: string;
      result: { kind: string; status?: number; body?: string; [k: string]: unknown };
    };
export interface Page<T> {
  items: T[];
  next?: string;
}
export interface ReplaySummary {
  id: string;
  version: string;
  plugin: string;
  extensionPoint: string;
  baseline: 'plugin' | 'point';
  createdAt: number;
  totals: { records: number; same: number; changed: number; newlyFailing: number; fixed: number; notReplayable: number };
  fuel: { before: { p50: number; p99: number }; after: { p50: number; p99: number }; ratio: number; headroom: number };
  slowest: { record: string; durationUs: number }[];
  verdict: { passed: boolean; reasons: string[]; gate: Record<string, unknown> };
}
export interface Replay extends ReplaySummary {
  results: ReplayedRecord[];
  next?: number;
}
export interface Rollout {
  installation: Installation;
  current: VersionStats;
  candidate: VersionStats;
  shadow: { compared: number; differing: number; differences: { key?: string; changes: JsonChange[] }[] };
}
