// A pool of worker threads running plug-ins on every core. Plug-ins are compiled once in this
// thread and their modules shared with the workers; calls travel in batches, so many calls in
// flight cost a thread hop per batch, not per call. Host functions run here, and may be async, or
// in the workers when they come from the pool's `hostFunctions` module.
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import type { PluginSource } from '../compile.js';
import type { CompiledPlugin } from '../compiled.js';
import { AbortError, PoolError, reviveError, type SerializedError, StateError, TimeoutError } from '../errors.js';
import type { HostFunction } from '../host-functions.js';
import { PluginOutput } from '../output.js';
import type { CallStats, PluginInput } from '../plugin.js';
import { checkFuel } from '../settings.js';
import { startWorker } from '../worker-url.js';
import { PluginDefinitions, type Pooled } from './definitions.js';
import { hostModuleUrl, importHostFunctions } from './host-module.js';
import type { PoolCallOptions, PoolCallResult, PoolOptions } from './options.js';
import {
  CONTROL,
  CONTROL_BYTES,
  CONTROL_STARTED_AT,
  type FromWorker,
  type HostCall,
  type HostReply,
  type Job,
  type WorkerData,
} from './protocol.js';
import { RemoteCallContext } from './remote-context.js';

export type { PoolCallOptions, PoolCallResult, PoolOptions } from './options.js';

interface PendingCall {
  id: number;
  pooled: Pooled;
  /** null: instantiate only (prepare). */
  fn: string | null;
  input: Uint8Array | string | undefined;
  hostContext: unknown;
  fuel: number | undefined;
  timeoutMs: number | undefined;
  withStats: boolean;
  signal: AbortSignal | undefined;
  attempts: number;
  /** The worker holding it, and its cancel flag there; undefined while it waits in this thread. */
  slot: Slot | undefined;
  flag: number;
  /** Settled (or aborted while its plug-in compiled): nothing more happens to it. */
  settled: boolean;
  resolve: (value: PluginOutput | PoolCallResult) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  words: Int32Array;
  startedAt: Float64Array;
  cancel: Uint8Array;
  /** Which half of `cancel` the next batch uses (batches finish in order, and at most two are held). */
  half: number;
  hostPort: MessagePort;
  defined: Set<number>;
  inFlight: Map<number, PendingCall>;
  batches: number;
  /** Set when the pool terminates the worker on purpose. */
  killed: 'timeout' | 'aborted' | 'closed' | undefined;
  lastError: Error | undefined;
}

/** Batches a worker may have queued at once: one running, one ready to start. */
const BATCHES_IN_FLIGHT = 2;
const HARD_TIMEOUT_GRACE_MS = 1000;
const WATCHDOG_INTERVAL_MS = 20;
/** A call whose worker died under it this many times (without being the cause) fails instead of retrying. */
const MAX_ATTEMPTS = 3;

export class Pool {
  readonly size: number;
  readonly #options: PoolOptions;
  readonly #maxBatch: number;
  readonly #slots: Slot[] = [];
  readonly #queue: PendingCall[] = [];
  readonly #plugins: PluginDefinitions;
  /** Calls accepted whose plug-in is still compiling. */
  #admitting = 0;
  #nextCall = 0;
  #scheduled = false;
  #watchdog: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  #drained: (() => void) | undefined;
  #closed = false;
  /** The hostFunctions module's URL, for the workers. */
  readonly #hostModule: string | undefined;

  constructor(options: PoolOptions = {}) {
    const size = options.size ?? availableParallelism();
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`size must be a positive integer, got ${size}`);
    this.size = size;
    this.#options = options;
    this.#maxBatch = options.maxBatch ?? 64;
    let ownFunctions: Promise<readonly HostFunction[]> | undefined;
    if (options.hostFunctions !== undefined) {
      this.#hostModule = hostModuleUrl(options.hostFunctions).href;
      // imported here too, to compile and link plug-ins against; a module that fails to import
      // fails each call that needs it, and is not an unhandled rejection
      ownFunctions = importHostFunctions(this.#hostModule);
      ownFunctions.catch(() => {});
    }
    this.#plugins = new PluginDefinitions(options.plugin, ownFunctions);
    for (let i = 0; i < size; i++) this.#slots.push(this.#startSlot());
  }

  /**
   * Calls `fn` of a plug-in in a worker. `source` is anything createPlugin() takes (compiled once
   * per pool with the pool's `plugin` options, and remembered by value for strings, URLs and bytes,
   * by identity for other objects) or a CompiledPlugin. Fails with the same TenonErrors as Plugin.call(),
   * PoolError (WORKER_CRASHED) when the worker died under this call, AbortError (ABORTED) when
   * `options.signal` aborted it, or StateError CLOSED.
   */
  call(source: CompiledPlugin | PluginSource, fn: string, input?: PluginInput, options: PoolCallOptions = {}): Promise<PluginOutput> {
    return this.#submit(source, fn, input, options, false) as Promise<PluginOutput>;
  }

  /**
   * As call(), and what the call cost (fuel, time, HTTP requests...): the stats Plugin.stats gives.
   * A failed call's error carries them as `error.stats` when the call reached its plug-in.
   */
  callWithStats(
    source: CompiledPlugin | PluginSource,
    fn: string,
    input?: PluginInput,
    options: PoolCallOptions = {},
  ): Promise<PoolCallResult> {
    return this.#submit(source, fn, input, options, true) as Promise<PoolCallResult>;
  }

  /**
   * Instantiates the plug-in in a worker ahead of its first call (with `size: 1`, in the worker
   * every call uses), so a failing or endless start function fails here, within its timeoutMs.
   */
  async prepare(source: CompiledPlugin | PluginSource): Promise<void> {
    await this.#submit(source, null, undefined, {}, false);
  }

  #submit(
    source: CompiledPlugin | PluginSource,
    fn: string | null,
    input: PluginInput,
    options: PoolCallOptions,
    withStats: boolean,
  ): Promise<PluginOutput | PoolCallResult> {
    const what = fn ?? '(instantiate)';
    if (this.#closing) return Promise.reject(new StateError('CLOSED', `Cannot call "${what}": the pool is closed`));
    const { fuel, timeoutMs, signal } = options;
    try {
      if (fuel !== undefined) checkFuel(fuel, 'fuel');
      if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0))
        throw new RangeError(`timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`);
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal?.aborted) return Promise.reject(aborted(what, 'before it was queued', signal));
    const entry = this.#plugins.get(source);
    return new Promise<PluginOutput | PoolCallResult>((resolve, reject) => {
      const call: PendingCall = {
        id: ++this.#nextCall,
        pooled: entry.value as Pooled,
        fn,
        input: input instanceof ArrayBuffer ? new Uint8Array(input) : (input as Uint8Array | string | undefined),
        hostContext: options.hostContext,
        fuel,
        timeoutMs,
        withStats,
        signal,
        attempts: 0,
        slot: undefined,
        flag: 0,
        settled: false,
        resolve,
        reject,
      };
      if (signal) this.#watchSignal(call, signal);
      if (entry.value) {
        this.#enqueue(call);
        return;
      }
      // admitted now, queued once compiled: close() waits for it
      this.#admitting++;
      entry.promise
        .then(
          (pooled) => {
            call.pooled = pooled;
            if (!call.settled) this.#enqueue(call);
          },
          (error: Error) => call.reject(error),
        )
        .finally(() => {
          this.#admitting--;
          this.#maybeDrained();
        });
    });
  }

  /** Settling the call stops listening to its signal; an abort before then ends it wherever it is. */
  #watchSignal(call: PendingCall, signal: AbortSignal): void {
    const onAbort = () => this.#abort(call, signal);
    signal.addEventListener('abort', onAbort, { once: true });
    const { resolve, reject } = call;
    call.resolve = (value) => {
      call.settled = true;
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    };
    call.reject = (error) => {
      call.settled = true;
      signal.removeEventListener('abort', onAbort);
      reject(error);
    };
  }

  #abort(call: PendingCall, signal: AbortSignal): void {
    if (call.settled) return;
    const what = call.fn ?? '(instantiate)';
    const slot = call.slot;
    if (!slot) {
      // queued here, or its plug-in still compiling (then it is never queued)
      const index = this.#queue.indexOf(call);
      if (index !== -1) this.#queue.splice(index, 1);
      call.reject(aborted(what, 'while queued', signal));
      this.#maybeDrained();
      return;
    }
    if (!slot.inFlight.has(call.id)) return;
    // raised before the running job is read: a worker that starts the job after this skips it
    Atomics.store(slot.cancel, call.flag, 1);
    if (Atomics.load(slot.words, CONTROL.job) === call.id) {
      this.#abandon(slot, call.id, 'aborted', () => aborted(what, 'while it ran: its worker was replaced', signal));
      return;
    }
    slot.inFlight.delete(call.id);
    if (slot.inFlight.size === 0) slot.worker.unref();
    call.reject(aborted(what, 'while queued in a worker', signal));
    this.#maybeDrained();
  }

  #enqueue(call: PendingCall): void {
    this.#queue.push(call);
    this.#schedule();
  }

  /** Finish every call already made, then stop the workers. Later calls fail with CLOSED. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#drained = resolve;
      this.#maybeDrained();
    }).then(() => this.#stop());
    return this.#closing;
  }

  /** Stop now: every pending call fails with CLOSED (or `reason`). */
  async destroy(reason?: Error): Promise<void> {
    this.#closing ??= Promise.resolve();
    const error = reason ?? new StateError('CLOSED', 'The pool was destroyed');
    for (const call of this.#queue.splice(0)) call.reject(error);
    for (const slot of this.#slots) {
      for (const call of slot.inFlight.values()) call.reject(error);
      slot.inFlight.clear();
    }
    await this.#stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #stop(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#watchdog);
    await Promise.all(
      this.#slots.map((slot) => {
        slot.killed = 'closed';
        slot.hostPort.close();
        return slot.worker.terminate();
      }),
    );
  }

  #maybeDrained(): void {
    if (this.#drained && this.#admitting === 0 && this.#queue.length === 0 && this.#slots.every((s) => s.inFlight.size === 0))
      this.#drained();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#flush());
  }

  /** Hands queued calls to workers, in batches sized to share the queue among them. */
  #flush(): void {
    this.#scheduled = false;
    while (this.#queue.length > 0) {
      let slot: Slot | undefined;
      for (const candidate of this.#slots) {
        if (candidate.batches >= BATCHES_IN_FLIGHT) continue;
        if (!slot || candidate.inFlight.size < slot.inFlight.size) slot = candidate;
      }
      if (!slot) break;
      const count = Math.min(this.#maxBatch, Math.max(1, Math.ceil(this.#queue.length / this.#slots.length)));
      const calls = this.#queue.splice(0, count);
      const first = slot.half * this.#maxBatch;
      slot.half ^= 1;
      const jobs: Job[] = [];
      for (const [index, call] of calls.entries()) {
        if (!slot.defined.has(call.pooled.id)) {
          slot.worker.postMessage({ type: 'define', plugin: call.pooled.definition });
          slot.defined.add(call.pooled.id);
        }
        slot.inFlight.set(call.id, call);
        call.slot = slot;
        call.flag = first + index;
        // this half's flags were last used two batches ago, and that batch is done
        Atomics.store(slot.cancel, call.flag, 0);
        jobs.push(jobOf(call));
      }
      slot.batches++;
      slot.worker.ref();
      slot.worker.postMessage({ type: 'run', jobs, first });
    }
    this.#watch();
  }

  #startSlot(): Slot {
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    const cancel = new SharedArrayBuffer(BATCHES_IN_FLIGHT * this.#maxBatch);
    const { port1, port2 } = new MessageChannel();
    const workerData: WorkerData = { control, cancel, hostPort: port2, hostFunctions: this.#hostModule };
    const worker = startWorker(import.meta.url, 'worker', {
      workerData,
      transferList: [port2],
      ...(this.#options.resourceLimits && { resourceLimits: this.#options.resourceLimits }),
    });
    const slot: Slot = {
      worker,
      words: new Int32Array(control, 0, 2),
      startedAt: new Float64Array(control, CONTROL_STARTED_AT, 1),
      cancel: new Uint8Array(cancel),
      half: 0,
      hostPort: port1,
      defined: new Set(),
      inFlight: new Map(),
      batches: 0,
      killed: undefined,
      lastError: undefined,
    };
    worker.unref();
    worker.on('message', (message: FromWorker) => this.#receive(slot, message));
    worker.on('error', (error) => {
      slot.lastError = error;
    });
    worker.on('exit', (code) => this.#lost(slot, code));
    return slot;
  }

  #receive(slot: Slot, message: FromWorker): void {
    switch (message.type) {
      case 'done': {
        for (const result of message.results) {
          const call = slot.inFlight.get(result.id);
          if (!call) continue;
          slot.inFlight.delete(result.id);
          if ('error' in result) call.reject(failure(result.error, call.withStats ? result.stats : undefined));
          else if (call.withStats && result.stats) call.resolve({ output: PluginOutput.of(result.output), stats: result.stats });
          else call.resolve(PluginOutput.of(result.output));
        }
        slot.batches--;
        if (slot.inFlight.size === 0) slot.worker.unref();
        this.#maybeDrained();
        if (this.#queue.length > 0) this.#flush();
        break;
      }
      case 'log':
        this.#plugins.byId(message.plugin)?.settings.logger[message.level](message.line);
        break;
      case 'http':
        this.#plugins.byId(message.plugin)?.settings.onHttpRequest?.(message.record);
        break;
      case 'host-call':
        void this.#serveHostCall(slot, message);
        break;
    }
  }

  async #serveHostCall(slot: Slot, call: HostCall): Promise<void> {
    const fn = this.#plugins.byId(call.plugin)?.settings.functions[call.fn];
    const context = new RemoteCallContext(call.blocks, slot.inFlight.get(call.job)?.hostContext, call.vars);
    let reply: HostReply;
    try {
      if (!fn) throw new Error(`no host function #${call.fn}`);
      const value = await fn.call(context, ...(call.args as never[]));
      reply = { seq: call.seq, value, writes: context.writes, vars: context.varWrites };
    } catch (error) {
      reply = { seq: call.seq, error: error instanceof Error ? error.message : String(error), vars: context.varWrites };
    }
    try {
      slot.hostPort.postMessage(reply);
    } catch (error) {
      slot.hostPort.postMessage({
        seq: call.seq,
        error: `its result cannot be sent to the worker: ${(error as Error).message}`,
        vars: context.varWrites,
      });
    }
    Atomics.store(slot.words, CONTROL.hostReply, 1);
    Atomics.notify(slot.words, CONTROL.hostReply);
  }

  /** A worker is gone: fail the call it was running, retry the others elsewhere, and replace it. */
  #lost(slot: Slot, exitCode: number): void {
    if (slot.killed) return; // closed, or already given up on and replaced at its hard timeout
    this.#replace(slot, Atomics.load(slot.words, CONTROL.job), (call) => {
      const detail = slot.lastError ? `: ${slot.lastError.message}` : '';
      return new PoolError(
        `The worker running plug-in function "${call.fn ?? '(instantiate)'}" died (exit code ${exitCode}${detail})`,
        slot.lastError ? { cause: slot.lastError } : undefined,
      );
    });
  }

  /**
   * A worker's call passed its hard limit: fail that call now, retry the others elsewhere, put a
   * new worker in its place, and terminate it in the background. Termination can take seconds (V8
   * interrupts a plug-in only between instructions, and one bulk instruction may run long), so
   * the pool never waits for it; the old worker is unreferenced and cannot hold the process open.
   */
  #abandon(slot: Slot, running: number, reason: 'timeout' | 'aborted', failure: (call: PendingCall) => Error): void {
    slot.killed = reason;
    slot.worker.removeAllListeners('message');
    slot.worker.unref();
    void slot.worker.terminate();
    this.#replace(slot, running, failure);
  }

  /**
   * Fail the call `running` with `failure`, queue the slot's other calls again (up to MAX_ATTEMPTS:
   * then they fail with WORKER_CRASHED), and start a new worker.
   */
  #replace(slot: Slot, running: number, failure: (call: PendingCall) => Error): void {
    for (const call of slot.inFlight.values()) {
      call.slot = undefined;
      if (call.id === running) call.reject(failure(call));
      else if (++call.attempts >= MAX_ATTEMPTS)
        call.reject(new PoolError(`Plug-in function "${call.fn ?? '(instantiate)'}" lost its worker ${MAX_ATTEMPTS} times`));
      else this.#queue.unshift(call);
    }
    slot.inFlight.clear();
    slot.hostPort.close();
    const index = this.#slots.indexOf(slot);
    if (index !== -1 && !this.#closed) this.#slots[index] = this.#startSlot();
    this.#maybeDrained();
    if (this.#queue.length > 0) this.#schedule();
  }

  /** While calls are in flight, terminate a worker whose current call passed its hard limit. */
  #watch(): void {
    const busy = this.#slots.some((s) => s.inFlight.size > 0);
    if (!busy) {
      clearInterval(this.#watchdog);
      this.#watchdog = undefined;
      return;
    }
    this.#watchdog ??= setInterval(() => {
      for (const slot of this.#slots) {
        const running = Atomics.load(slot.words, CONTROL.job);
        const call = running === 0 || slot.killed ? undefined : slot.inFlight.get(running);
        if (!call) continue;
        const own = call.timeoutMs ?? call.pooled.settings.timeoutMs;
        const limitMs = this.#options.hardTimeoutMs ?? (own === undefined ? undefined : own + HARD_TIMEOUT_GRACE_MS);
        if (limitMs !== undefined && Date.now() - (slot.startedAt[0] as number) > limitMs)
          this.#abandon(
            slot,
            running,
            'timeout',
            () =>
              new TimeoutError(
                `Plug-in function "${call.fn ?? '(instantiate)'}" ran past the pool's hard ${limitMs} ms limit: its worker was terminated`,
                limitMs,
              ),
          );
      }
      if (!this.#slots.some((s) => s.inFlight.size > 0)) {
        clearInterval(this.#watchdog);
        this.#watchdog = undefined;
      }
    }, WATCHDOG_INTERVAL_MS);
    this.#watchdog.unref();
  }
}

/** What a worker needs of a call: only the options the caller gave travel. */
function jobOf(call: PendingCall): Job {
  const job: Job = { id: call.id, plugin: call.pooled.id, fn: call.fn, input: call.input };
  if (call.fuel !== undefined) job.fuel = call.fuel;
  if (call.timeoutMs !== undefined) job.timeoutMs = call.timeoutMs;
  if (call.withStats) job.stats = true;
  return job;
}

/** A failed call's error, carrying the call's stats as `stats` when callWithStats asked for them. */
function failure(error: SerializedError, stats: CallStats | undefined): Error {
  const revived = reviveError(error);
  if (stats) Object.defineProperty(revived, 'stats', { value: stats, enumerable: false, configurable: true });
  return revived;
}

function aborted(what: string, when: string, signal: AbortSignal): AbortError {
  return new AbortError(`Call of plug-in function "${what}" was aborted ${when}`, { cause: signal.reason });
}

/** A pool of `size` worker threads (default: one per core) for running plug-ins in parallel. */
export function createPool(options: PoolOptions = {}): Pool {
  return new Pool(options);
}
