// A pool worker: holds the plug-ins the pool defined (compiled once, sent as modules) with one ready
// instance each, runs batches of calls, and reports each batch's results in one message.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { CompiledPlugin } from '../compiled.js';
import { serializeError } from '../errors.js';
import type { CallContext, HostFunction, KernelCallContext } from '../host-functions.js';
import type { Logger } from '../log.js';
import type { CallOptions, CallStats, Plugin } from '../plugin.js';
import type { PluginSettings } from '../settings.js';
import { importHostFunctions } from './host-module.js';
import {
  CONTROL,
  CONTROL_STARTED_AT,
  type FromWorker,
  type HostCall,
  type HostFunctionShape,
  type HostReply,
  type Job,
  type JobResult,
  PLACEHOLDER_BASE,
  type PluginDefinition,
  type ToWorker,
  type WorkerData,
} from './protocol.js';

const { control, cancel, hostPort, hostFunctions } = workerData as WorkerData;
const words = new Int32Array(control, 0, 2);
const cancelled = new Uint8Array(cancel);
const startedAt = new Float64Array(control, CONTROL_STARTED_AT, 1);
const port = parentPort!;
const send = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

interface Loaded {
  compiled: CompiledPlugin | undefined;
  /** Why the plug-in could not be rebuilt here; each call of it fails with this. */
  failure: unknown;
  instance: Plugin | undefined;
}
const plugins = new Map<number, Loaded>();
/** Plug-ins with a live instance, least recently used first: a worker keeps at most MAX_LIVE. */
const live = new Set<Loaded>();
const MAX_LIVE = 64;
const TRANSFER_BYTES = 16 * 1024;
let hostSeq = 0;

/** The host functions this worker runs itself; a module that fails here fails the plug-ins that use it. */
let ownFunctions: readonly HostFunction[] = [];
let ownFailure: unknown;
if (hostFunctions !== undefined) {
  try {
    ownFunctions = await importHostFunctions(hostFunctions);
  } catch (error) {
    ownFailure = error;
  }
}

// messages that came during the import above waited on the port: it starts with this listener
port.on('message', (message: ToWorker) => {
  if (message.type === 'define') define(message.plugin);
  else run(message.jobs, message.first);
});

function define(definition: PluginDefinition): void {
  const id = definition.id;
  const logger = Object.fromEntries(
    (['trace', 'debug', 'info', 'warn', 'error'] as const).map((level) => [
      level,
      (line: string) => send({ type: 'log', plugin: id, level, line }),
    ]),
  ) as unknown as Logger;
  const settings: PluginSettings = {
    ...definition.settings,
    logger,
    functions: definition.functions.map((shape, index) =>
      shape.local === undefined ? proxy(id, index, shape) : (ownFunctions[shape.local] as HostFunction),
    ),
    onHttpRequest: definition.auditHttp ? (record) => send({ type: 'http', plugin: id, record }) : undefined,
  };
  try {
    if (ownFailure !== undefined && definition.functions.some((shape) => shape.local !== undefined)) throw ownFailure;
    plugins.set(id, {
      compiled: new CompiledPlugin(settings, definition.modules, definition.main),
      failure: undefined,
      instance: undefined,
    });
  } catch (error) {
    plugins.set(id, { compiled: undefined, failure: error, instance: undefined });
  }
}

function run(jobs: readonly Job[], first: number): void {
  const results: JobResult[] = [];
  const transfer: ArrayBuffer[] = [];
  for (const [index, job] of jobs.entries()) {
    // the job is marked running before its flag is read: an abort that comes between sees it running
    Atomics.store(words, CONTROL.job, job.id);
    if (Atomics.load(cancelled, first + index) !== 0) continue; // its caller gave up on it, and has its answer
    startedAt[0] = Date.now();
    let instance: Plugin | undefined;
    let started: number | undefined;
    try {
      const loaded = plugins.get(job.plugin);
      if (!loaded) throw new Error(`plug-in ${job.plugin} was never defined in this worker`);
      if (!loaded.compiled) throw loaded.failure;
      loaded.instance ??= loaded.compiled.instantiate();
      instance = loaded.instance;
      live.delete(loaded);
      live.add(loaded);
      if (live.size > MAX_LIVE) evictOldest();
      if (job.fn === null) {
        results.push({ id: job.id, output: new Uint8Array(0) });
        continue;
      }
      started = job.stats && performance.now();
      const output = instance.call(job.fn, job.input, callOptions(job)).ownBytes();
      results.push(started === undefined ? { id: job.id, output } : { id: job.id, output, stats: statsOf(instance, started) });
      // large outputs move rather than copy (ownBytes() hands over an ArrayBuffer of their own); small ones
      // copy faster than a transfer sets up
      if (output.byteLength >= TRANSFER_BYTES) transfer.push(output.buffer as ArrayBuffer);
    } catch (error) {
      // a call that failed after it started cost something too: its caller may bill it
      const stats = started !== undefined && instance ? statsOf(instance, started) : undefined;
      results.push(stats ? { id: job.id, error: serializeError(error), stats } : { id: job.id, error: serializeError(error) });
    }
  }
  Atomics.store(words, CONTROL.job, 0);
  send({ type: 'done', results }, transfer);
}

function statsOf(instance: Plugin, started: number): CallStats {
  const stats = instance.stats;
  // an unmetered plug-in does not read the clock; a pooled call's caller still gets its time
  return stats.durationMs === undefined ? { ...stats, durationMs: performance.now() - started } : stats;
}

function callOptions(job: Job): CallOptions | undefined {
  if (job.fuel === undefined && job.timeoutMs === undefined) return undefined;
  return { ...(job.fuel !== undefined && { fuel: job.fuel }), ...(job.timeoutMs !== undefined && { timeoutMs: job.timeoutMs }) };
}

/** Close the least recently used instance (its memories go back to the system); it is rebuilt if called again. */
function evictOldest(): void {
  const [oldest] = live;
  if (!oldest) return;
  live.delete(oldest);
  oldest.instance?.close();
  oldest.instance = undefined;
}

/**
 * A host function that runs in the pool's thread (it may be async there): the worker sends the
 * arguments and the blocks they point at, blocks until the answer is on its port, writes the
 * blocks the function wrote into Extism memory, and returns their real offsets.
 */
function proxy(plugin: number, index: number, shape: HostFunctionShape): HostFunction {
  return {
    ...shape,
    call: (context: CallContext, ...args: unknown[]) => {
      const blocks: [number, Uint8Array][] = [];
      for (const arg of args) {
        if (typeof arg !== 'bigint') continue;
        const bytes = context.read(arg);
        if (bytes) blocks.push([Number(arg), bytes]);
      }
      const seq = ++hostSeq;
      const job = Atomics.load(words, CONTROL.job);
      const kernelContext = context as KernelCallContext;
      const vars = kernelContext.varEntries();
      Atomics.store(words, CONTROL.hostReply, 0);
      send({ type: 'host-call', seq, job, plugin, fn: index, args, blocks, vars } satisfies HostCall);
      const reply = awaitReply(seq, kernelContext.deadline);
      for (const [name, value] of reply.vars) context.setVar(name, value ?? undefined);
      if ('error' in reply) throw new Error(reply.error);
      const offsets = reply.writes.map((bytes) => context.write(bytes));
      return realOffsets(reply.value, offsets);
    },
  };
}

/**
 * Blocks until the reply to `seq` arrives. Past the call's deadline (performance.now() ms) it gives
 * up, and the runtime, finding the call overdue, fails it with TIMEOUT.
 */
function awaitReply(seq: number, deadline: number): HostReply {
  for (;;) {
    for (let received = receiveMessageOnPort(hostPort); received; received = receiveMessageOnPort(hostPort)) {
      const reply = received.message as HostReply;
      if (reply.seq === seq) return reply;
    }
    const remaining = deadline - performance.now();
    if (remaining <= 0) throw new Error('no answer from the host before the call deadline');
    // a hair past the deadline, so that the runtime sees the call overdue
    Atomics.wait(words, CONTROL.hostReply, 0, remaining === Number.POSITIVE_INFINITY ? undefined : remaining + 0.5);
    Atomics.store(words, CONTROL.hostReply, 0);
  }
}

function realOffsets(value: unknown, offsets: number[]): unknown {
  if (Array.isArray(value)) return value.map((v) => realOffsets(v, offsets));
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (typeof n === 'number' && n >= PLACEHOLDER_BASE && n < PLACEHOLDER_BASE + offsets.length) {
    const offset = offsets[n - PLACEHOLDER_BASE] as number;
    // an i64 result given as a bigint stays one (a function that declares no results is not converted)
    return typeof value === 'bigint' ? BigInt(offset) : offset;
  }
  return value;
}
