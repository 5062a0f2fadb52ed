// The messages between a pool and its workers. Calls go in batches; results come back in batches.
// Host-function calls go the other way, one at a time, while the worker blocks for the answer.
import type { MessagePort } from 'node:worker_threads';
import type { SerializedError } from '../errors.js';
import type { ValueType } from '../host-functions.js';
import type { HttpRequestRecord } from '../http/plugin-http.js';
import type { LogLevel } from '../log.js';
import type { CallStats } from '../plugin.js';
import type { PluginSettings } from '../settings.js';

/** The settings that can cross a thread; functions, the logger and the audit hook stay with the pool. */
export type PortableSettings = Omit<PluginSettings, 'functions' | 'logger' | 'onHttpRequest'>;

export interface HostFunctionShape {
  namespace?: string;
  name: string;
  params?: readonly ValueType[];
  results?: readonly ValueType[];
  /** The index of the worker's own function (from the pool's hostFunctions module) that serves it, run there. */
  local?: number;
}

export interface PluginDefinition {
  id: number;
  modules: readonly { name: string; module: WebAssembly.Module; metered: boolean }[];
  main: number;
  settings: PortableSettings;
  functions: readonly HostFunctionShape[];
  /** Whether the pool wants each HTTP request reported (the plug-in has an onHttpRequest hook). */
  auditHttp: boolean;
}

export interface Job {
  id: number;
  plugin: number;
  /** The function to call, or null to instantiate the plug-in only (Pool.prepare). */
  fn: string | null;
  input: Uint8Array | string | undefined;
  /** Per-call limits, present only when the caller gave them. */
  fuel?: number;
  timeoutMs?: number;
  /** Whether the caller wants the call's stats back. */
  stats?: true;
}

/**
 * `first`: the index in the worker's cancel flags of the batch's first job (the next ones follow):
 * the pool raises a job's flag when its caller aborts it, and the worker skips a flagged job.
 */
export type ToWorker = { type: 'define'; plugin: PluginDefinition } | { type: 'run'; jobs: Job[]; first: number };

/** `stats` when the caller asked for them (a failed call's too, when it got as far as the plug-in). */
export type JobResult = { id: number; output: Uint8Array; stats?: CallStats } | { id: number; error: SerializedError; stats?: CallStats };

/** What a worker is started with. */
export interface WorkerData {
  control: SharedArrayBuffer;
  /** One byte per job slot of the two batches a worker may hold. */
  cancel: SharedArrayBuffer;
  hostPort: MessagePort;
  /** The URL of the module of host functions the worker runs itself. */
  hostFunctions: string | undefined;
}

export type FromWorker =
  | { type: 'done'; results: JobResult[] }
  | { type: 'log'; plugin: number; level: Exclude<LogLevel, 'off'>; line: string }
  | { type: 'http'; plugin: number; record: HttpRequestRecord }
  | HostCall;

/** A plug-in in a worker called a host function: its arguments, and the blocks they point at. */
export interface HostCall {
  type: 'host-call';
  seq: number;
  job: number;
  plugin: number;
  fn: number;
  args: unknown[];
  /** Every i64 argument that is a live Extism block, read in advance: [offset, bytes]. */
  blocks: [number, Uint8Array][];
  /** The instance's vars as the host function finds them (empty when it has none). */
  vars: [string, Uint8Array][];
}

/** A host function's answer: its value, the blocks it wrote, and the vars it set (null: deleted), in order. */
export type HostReply =
  | { seq: number; value: unknown; writes: Uint8Array[]; vars: [string, Uint8Array | null][] }
  | { seq: number; error: string; vars: [string, Uint8Array | null][] };

/** Offsets of blocks a host function writes from the pool side: above any real kernel offset. */
export const PLACEHOLDER_BASE = 2 ** 32;

/** Layout of each worker's shared control words (Int32Array indices). */
export const CONTROL = {
  /** The job the worker is running, or 0. */
  job: 0,
  /** Raised by the pool when a host-function reply is on the port. */
  hostReply: 1,
} as const;
/** Byte offset of the Float64 holding when the current job started (Date.now() ms). */
export const CONTROL_STARTED_AT = 8;
export const CONTROL_BYTES = 16;
