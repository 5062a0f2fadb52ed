// What a pool and each of its calls take: the public options, with their defaults and units.
import type { ResourceLimits } from 'node:worker_threads';
import type { PluginOutput } from '../output.js';
import type { CallStats } from '../plugin.js';
import type { PluginOptions } from '../settings.js';

export interface PoolOptions {
  /** Worker threads; default: the machine's available parallelism. */
  size?: number;
  /** Options for the plug-ins the pool compiles from a source (a CompiledPlugin keeps its own). */
  plugin?: PluginOptions;
  /** Most calls sent to a worker in one message (default 64). */
  maxBatch?: number;
  /**
   * Last-resort wall-clock limit per call, in milliseconds: past it the call fails with TIMEOUT
   * (within about 50 ms: the watchdog looks every 20 ms) and its worker is replaced at once, while
   * the old one is terminated in the background. Default: the call's `timeoutMs` (else the
   * plug-in's) plus 1 s; none when neither is set. When set, it applies to every call as given.
   */
  hardTimeoutMs?: number;
  /** V8 heap limits for each worker (a worker that exceeds them dies, and is replaced). */
  resourceLimits?: ResourceLimits;
  /**
   * A module (path from the working directory, or file: or data: URL) every worker imports, exporting host
   * functions as `functions` or by default (the format of `tenon call --host-functions`). They run
   * synchronously in the worker beside the plug-in, with no hop to this thread, and take the place
   * of a plug-in's own function of the same namespace and name. A path that names no file fails here.
   */
  hostFunctions?: string | URL;
}

export interface PoolCallOptions {
  /** Given to this thread's host functions as `context.hostContext`; it never leaves this thread. */
  hostContext?: unknown;
  /** Fuel limit for this call, overriding the plug-in's `fuel`; counted in the worker (needs a metered plug-in). */
  fuel?: number;
  /**
   * Deadline for this call in milliseconds, overriding the plug-in's `timeoutMs`; kept in the worker
   * (needs a metered plug-in), with the pool's hard limit (`hardTimeoutMs`, default this plus 1 s) behind it.
   */
  timeoutMs?: number;
  /**
   * Ends the call with ABORTED: a queued call leaves the queue, a call running in a worker is
   * stopped by replacing that worker (its other calls run elsewhere).
   */
  signal?: AbortSignal;
}

/** A pooled call's output and what it cost (`pool.callWithStats`). */
export interface PoolCallResult {
  output: PluginOutput;
  /** The stats Plugin.stats gives after a call; `durationMs` is measured in the worker even for an unmetered plug-in. */
  stats: CallStats;
}
