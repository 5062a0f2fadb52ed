import { elapsedMs } from './clock.js';
import type { CompiledPlugin } from './compiled.js';
import {
  FunctionNotFoundError,
  HostFunctionError,
  InternalError,
  LimitError,
  PluginError,
  StateError,
  TenonError,
  TrapError,
} from './errors.js';
import { type CallContextOwner, KernelCallContext, toWasmResults, USER_NAMESPACE } from './host-functions.js';
import { type HttpExchanger, type HttpRequestRecord, PluginHttp } from './http/plugin-http.js';
import type { Kernel, KernelHost } from './kernel/kernel.js';
import { Meter } from './limits/meter.js';
import { LOG_LEVELS } from './log.js';
import { PluginOutput } from './output.js';
import { checkFuel, type PluginSettings } from './settings.js';
import { Snapshot } from './snapshot/snapshot.js';
import { classifyTrap } from './trap.js';
import { varInt, varText } from './var-codec.js';
import { type CallStdio, emptyStdio, WasiStdio } from './wasi/stdio.js';
import { deterministicWorld, realWorld, WasiSandbox, type WasiWorld, wasiExitCode } from './wasi/wasi.js';

/** What a plug-in function takes: bytes, text (sent as UTF-8), or any other value (sent as JSON). */
export type PluginInput = Uint8Array | ArrayBuffer | string | number | boolean | object | null | undefined;

/** Per-call options. */
export interface CallOptions {
  /** A value host functions can read as `context.hostContext` during this call. */
  hostContext?: unknown;
  /** Fuel limit for this call, overriding the plug-in's `fuel` option. */
  fuel?: number;
  /** Deadline for this call in milliseconds, overriding the plug-in's `timeoutMs` (needs a metered plug-in). */
  timeoutMs?: number;
  /** Answers (or watches) this call's HTTP requests instead of sending them: record and replay. */
  httpExchange?: HttpExchanger;
}

/** What the last call of an instance cost. */
export interface CallStats {
  /** Fuel used (about one unit per WebAssembly instruction), or undefined for an unmetered module. */
  fuel: number | undefined;
  /** Wall-clock time of the call, in milliseconds to the microsecond (metered plug-ins only: the clock costs ~45 ns a read). */
  durationMs: number | undefined;
  /** Size of the plug-in's own memory, in 64 KiB pages. */
  memoryPages: number;
  /** Extism memory in use at the end of the call, in bytes. */
  kernelBytes: number;
  /** The HTTP requests the call made or tried, in order (see PluginOptions.onHttpRequest). */
  httpRequests: readonly HttpRequestRecord[];
}

const encoder = new TextEncoder();

type ExportedFunction = (...args: unknown[]) => unknown;

/** The plug-in's WebAssembly instances, rebuilt after a trap or a `_start` call (the kernel stays). */
interface Live {
  readonly exports: WebAssembly.Exports;
  readonly memory: WebAssembly.Memory | undefined;
  readonly functions: Map<string, ExportedFunction>;
  initialized: boolean;
  /** Its WASI, closed when the instance goes (it may hold open host files). */
  readonly wasi: WasiSandbox | undefined;
  /** Its state as linked, before any start-up or call: restoring it makes the instance new again. */
  readonly snapshot: Snapshot | undefined;
}

/** Who the host functions of a set of instances answer to: it changes when a closed instance is reused. */
interface Owner {
  plugin: Plugin;
}

/**
 * @internal A closed plug-in's instance, restored to how it was linked, kept by its CompiledPlugin
 * with everything it was linked to (kernel, host imports, meter) for the next instantiate().
 */
export interface Recycled {
  readonly kernel: Kernel;
  readonly live: Live;
  readonly imports: WebAssembly.Imports | undefined;
  readonly owner: Owner;
  readonly meter: Meter | undefined;
}

/** An instance prepared between calls for `instance: 'fresh'`: linked and initialised, with the vars its start-up set. */
interface Spare {
  readonly live: Live;
  readonly vars: Map<string, Uint8Array>;
  readonly varBytes: number;
}

/**
 * One plug-in instance. `call()` is synchronous and runs on the calling thread. Not re-entrant:
 * a host function that calls back into the same instance fails with REENTRANT_CALL.
 */
export class Plugin implements CallContextOwner {
  readonly #compiled: CompiledPlugin;
  readonly #settings: PluginSettings;
  #vars = new Map<string, Uint8Array>();
  #varBytes = 0;
  readonly #context: KernelCallContext;
  readonly #kernel: Kernel;
  #live: Live | undefined;
  #calling = false;
  #closed = false;
  #hostContext: unknown;
  /** The last call's output, still reading from Extism memory until the next call. */
  #lastOutput: PluginOutput | undefined;
  /** The first error a host-side import raised during the current call; it wins over the trap it causes. */
  #abort: TenonError | undefined;
  /** Fuel and deadline accounting, when the modules are metered. */
  readonly #meter: Meter | undefined;
  /** The last call's fuel and start and end times (performance.now() ms); the rest of the stats is read when asked. */
  #lastFuel: number | undefined;
  #lastStarted = 0;
  #lastEnded = 0;
  /** The plug-in's memory size at the end of the last call, in pages (its instance may be restored since). */
  #lastPages: number | undefined;
  /** For `instance: 'fresh'`: the live instance has served a call and must not serve another. */
  #used = false;
  /** The host functions' import object, built on first use. */
  #imports: WebAssembly.Imports | undefined;
  /** What the host functions call back into: this plug-in, until its instances go to another. */
  readonly #owner: Owner;
  /** Log bytes written during the current call. */
  #logBytes = 0;
  /** What WASI sees of time and randomness. */
  readonly #world: WasiWorld & { reset?(): void };
  /** WASI stdout/stderr, captured per call; it outlives the sandboxes of rebuilt instances. */
  #stdio: WasiStdio | undefined;
  /** The live instance's WASI, closed when the instance goes (it may hold open host files). */
  #wasi: WasiSandbox | undefined;
  /** For `instance: 'fresh'`: the next call's instance, linked and initialised off the call path. */
  #spare: Spare | undefined;
  /** The pending refill of #spare. */
  #refill: NodeJS.Immediate | undefined;
  /** Preparing a spare failed (its start-up traps or runs out): calls build their own and report it. */
  #spareFailed = false;
  /** HTTP as this instance may use it, and the audit trail of its requests. */
  readonly #http: PluginHttp;

  /** @internal use CompiledPlugin.instantiate() or createPlugin() */
  constructor(compiled: CompiledPlugin) {
    this.#compiled = compiled;
    this.#settings = compiled.settings;
    this.#context = new KernelCallContext(this);
    // a closed instance restored to how it was linked is as new as a new one, for a copy of its memory
    const recycled = compiled.takeRecycled();
    this.#kernel = recycled?.kernel ?? compiled.takeKernel();
    this.#http = new PluginHttp(this.#settings.allowedHosts, this.#settings.maxHttpResponseBytes, this.#settings.onHttpRequest);
    this.#kernel.host = this.#kernelHost();
    this.#kernel.exports.host_set_log_level(this.#settings.logLevelNumber);
    this.#meter = recycled ? recycled.meter : compiled.metered ? new Meter() : undefined;
    this.#owner = recycled?.owner ?? { plugin: this };
    this.#owner.plugin = this;
    this.#imports = recycled?.imports;
    const meter = this.#meter;
    this.#world =
      this.#settings.seed === undefined
        ? realWorld(
            () => meter?.deadline ?? Number.POSITIVE_INFINITY,
            () => meter?.timeout(),
          )
        : deterministicWorld(this.#settings.seed, () => meter?.used ?? 0);
    if (recycled) {
      this.#live = recycled.live;
      return;
    }
    this.#meter?.start(undefined, this.#settings.fuel, this.#settings.timeoutMs);
    try {
      this.#live = this.#build(true);
    } catch (error) {
      compiled.returnKernel(this.#kernel);
      throw this.#meter?.abort ?? error;
    } finally {
      // a start function may call host functions
      this.#context.endPluginCode();
    }
  }

  /** What the last call cost: fuel, time, memory. */
  get stats(): CallStats {
    return {
      fuel: this.#lastFuel,
      durationMs: this.#meter ? elapsedMs(this.#lastStarted, this.#lastEnded) : undefined,
      memoryPages: this.#lastPages ?? (this.#live?.memory?.buffer.byteLength ?? 0) / 65536,
      kernelBytes: this.#closed ? 0 : this.#kernel.exports.host_heap_bytes(),
      httpRequests: this.#http.records,
    };
  }

  /** What the last call wrote to WASI stdout and stderr (the first `limits.maxStdioBytes` of each). */
  get stdio(): CallStdio {
    return this.#stdio?.result() ?? emptyStdio();
  }

  /** @internal */
  get kernel(): Kernel {
    return this.#kernel;
  }

  /** @internal */
  get hostContext(): unknown {
    return this.#hostContext;
  }

  /** @internal */
  get deadline(): number {
    return this.#meter?.deadline ?? Number.POSITIVE_INFINITY;
  }

  /** The compiled plug-in this instance came from. */
  get compiled(): CompiledPlugin {
    return this.#compiled;
  }

  /** True when `name` is an exported function of the main module that takes no parameters. */
  functionExists(name: string): boolean {
    if (!this.#compiled.functions.includes(name)) return false;
    const fn = this.#live?.exports[name];
    return typeof fn !== 'function' || fn.length === 0;
  }

  /**
   * Call the exported function `name` with `input`; returns its output. Throws PluginError when
   * the plug-in reports an error, TrapError when it traps, HostFunctionError when a host function
   * throws, LimitError when a limit is hit.
   */
  call(name: string, input?: PluginInput, options?: CallOptions): PluginOutput {
    if (this.#closed) throw new StateError('CLOSED', `Cannot call "${name}": the plug-in is closed`);
    if (this.#calling) {
      throw new StateError('REENTRANT_CALL', `Cannot call "${name}": the plug-in is already in a call (plug-ins are not re-entrant)`);
    }
    const fuel = options?.fuel ?? this.#settings.fuel;
    if (options?.fuel !== undefined) {
      checkFuel(options.fuel, 'fuel');
      if (!this.#meter)
        throw new StateError(
          'UNSUPPORTED',
          `Cannot limit "${name}" to ${options.fuel} fuel: the plug-in was compiled without metering (pass meter: true)`,
        );
    }
    const timeoutMs = options?.timeoutMs ?? this.#settings.timeoutMs;
    if (options?.timeoutMs !== undefined) {
      if (!(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0))
        throw new RangeError(`timeoutMs must be a positive number of milliseconds, got ${options.timeoutMs}`);
      if (!this.#meter)
        throw new StateError(
          'UNSUPPORTED',
          `Cannot limit "${name}" to ${options.timeoutMs} ms: the plug-in was compiled without metering (pass meter: true)`,
        );
    }
    const meter = this.#meter;
    // one clock read for the call's stats and its deadline (~50 ns a read)
    if (meter) this.#lastStarted = performance.now();
    this.#calling = true;
    this.#hostContext = options?.hostContext;
    this.#abort = undefined;
    this.#logBytes = 0;
    this.#stdio?.reset();
    this.#http.begin();
    this.#http.exchanger = options?.httpExchange;
    let failure: unknown;
    try {
      if (this.#settings.instance === 'fresh') this.#freshInstance(name);
      // a fresh instance's start-up, when the call had to run it, stays outside the call's deadline
      meter?.start(name, fuel, timeoutMs, this.#settings.instance === 'fresh' ? undefined : this.#lastStarted);
      this.#world.reset?.();
      const live = this.#liveOrBuild();
      const fn = this.#function(live, name);
      this.#used = true;
      if (!live.initialized) this.#initialize(live, name);
      this.#writeInput(this.#kernel, name, input);
      let rc: number;
      try {
        rc = resultCode(fn(), name);
      } catch (error) {
        const exit = wasiExitCode(error);
        if (exit === undefined || this.#abort || this.#meter?.abort) throw error;
        this.#live = undefined; // a WASI command exited: it is one-shot
        // an error set before a non-zero exit (a Go main's os.Exit(1)) is the call's error: #finish reports it
        if (exit !== 0 && this.#kernel.exports.host_error() === 0) {
          throw new PluginError(`Plug-in function "${name}" exited with code ${exit}`, exit, undefined, 'PLUGIN_EXIT');
        }
        rc = exit;
      }
      if (name === '_start') this.#live = undefined;
      return this.#finish(this.#kernel, name, rc);
    } catch (error) {
      failure = this.#failure(error, name);
      throw failure;
    } finally {
      this.#context.endPluginCode();
      this.#calling = false;
      this.#hostContext = undefined;
      if (this.#settings.instance === 'fresh') this.#lastPages = (this.#live?.memory?.buffer.byteLength ?? 0) / 65536;
      if (meter) {
        const used = meter.finish();
        // no plug-in code ran: the start-up of an instance rebuilt after a trap is not this call's fuel
        this.#lastFuel = failure instanceof FunctionNotFoundError ? 0 : used;
        this.#lastEnded = performance.now();
      }
    }
  }

  /** Pass a plug-in log line to the logger, within the call's log budget. */
  #log(level: (typeof LOG_LEVELS)[number], line: string): void {
    const limit = this.#settings.limits.maxLogBytes;
    if (limit !== Infinity) {
      this.#logBytes += Buffer.byteLength(line);
      if (this.#logBytes > limit) {
        this.#raise(new LimitError('LOG_LIMIT', `Plug-in wrote more than limits.maxLogBytes (${limit} bytes) of logs in one call`));
      }
    }
    this.#settings.logger[level](line);
  }

  /**
   * `instance: 'fresh'`: give this call an instance no call has used, its start-up already run
   * (outside the call's fuel, as for every fresh call), and Extism memory wiped to zeros. The spare
   * prepared after the last call is taken when there is one; else one is prepared here.
   */
  #freshInstance(name: string): void {
    if (this.#used) {
      this.#releaseOutput(); // its bytes are copied out before the wipe zeroes them
      this.#kernel.wipe();
      // without a spare, the used instance restored is the cheapest clean one (a copy of its memory)
      const used = this.#live;
      this.#live = undefined;
      if (this.#spare === undefined && used && restore(used)) this.#live = used;
      this.#vars = new Map();
      this.#varBytes = 0;
      this.#used = false;
    }
    // a command's _start (or an explicit _initialize) is its own start-up: built and run in the call
    if (name === '_start' || name === '_initialize') return;
    if (this.#live === undefined && this.#spare) {
      const { live, vars, varBytes } = this.#spare;
      this.#spare = undefined;
      this.#adopt(live);
      this.#vars = vars;
      this.#varBytes = varBytes;
    } else if (!this.#live?.initialized) {
      this.#adopt(this.#prepare(this.#live));
      this.#spareFailed = false;
    }
    this.#scheduleRefill();
  }

  /** Link (unless given) and initialise an instance, metered as an instantiation. */
  #prepare(built: Live | undefined): Live {
    this.#meter?.start(undefined, this.#settings.fuel, this.#settings.timeoutMs);
    this.#world.reset?.();
    const live = built ?? this.#build(false);
    try {
      this.#initialize(live, '');
    } catch (error) {
      if (live !== this.#live) live.wasi?.close();
      throw this.#abort ?? this.#meter?.abort ?? error;
    }
    return live;
  }

  #scheduleRefill(): void {
    if (this.#refill !== undefined || this.#spare !== undefined || this.#spareFailed) return;
    this.#refill = setImmediate(() => {
      this.#refill = undefined;
      this.#fillSpare();
    });
    // a spare is worth preparing only while the process is up anyway
    this.#refill.unref();
  }

  /** Prepare the next fresh call's instance, between calls; its start-up's vars are kept apart. */
  #fillSpare(): void {
    if (this.#closed || this.#calling || this.#spare !== undefined) return;
    // the start-up may allocate in Extism memory: the last output leaves it first
    this.#releaseOutput();
    const [vars, varBytes] = [this.#vars, this.#varBytes];
    this.#vars = new Map();
    this.#varBytes = 0;
    this.#calling = true;
    try {
      // the used instance, restored, unless it cannot be: then a new one
      const used = this.#used ? this.#live : undefined;
      const restored = used !== undefined && restore(used);
      if (restored) this.#live = undefined;
      const live = this.#prepare(restored ? used : undefined);
      if (live.memory && !restored) touchPages(live.memory);
      this.#spare = { live, vars: this.#vars, varBytes: this.#varBytes };
    } catch {
      // the call that needs an instance prepares its own and reports what went wrong
      this.#spareFailed = true;
    } finally {
      this.#context.endPluginCode();
      this.#calling = false;
      this.#abort = undefined;
      this.#vars = vars;
      this.#varBytes = varBytes;
    }
  }

  /** Forget every Extism memory block (the next call starts from an empty heap anyway). */
  reset(): void {
    if (this.#closed) return;
    this.#releaseOutput();
    this.#kernel.exports.host_begin(0);
  }

  /** Read a var of this instance. */
  getVar(name: string): Uint8Array | undefined {
    return this.#vars.get(name);
  }

  /** A var of this instance as UTF-8 text. */
  getVarText(name: string): string | undefined {
    return varText(this.#vars.get(name));
  }

  /** A var as an unsigned little-endian integer (8 bytes, or 4 as the Go PDK writes); other lengths throw RangeError. */
  getVarInt(name: string): bigint | undefined {
    return varInt(name, this.#vars.get(name));
  }

  /** @internal Every var of this instance (a pool worker hands them to host functions in the pool's thread). */
  varEntries(): [string, Uint8Array][] {
    return [...this.#vars];
  }

  /** Set (or with undefined, delete) a var, within `memory.maxVarBytes`. */
  setVar(name: string, value: Uint8Array | undefined): void {
    this.#storeVar(name, value?.slice());
  }

  /** Store `value` as is (the caller hands it over), keeping the var total within maxVarBytes. */
  #storeVar(name: string, value: Uint8Array | undefined): void {
    const old = this.#vars.get(name);
    // the JS SDK counts values only (the Rust runtime counts keys too)
    const keyBytes = this.#settings.extismJs ? 0 : Buffer.byteLength(name);
    const oldSize = old === undefined ? 0 : keyBytes + old.length;
    if (value === undefined) {
      this.#vars.delete(name);
      this.#varBytes -= oldSize;
      return;
    }
    const limit = this.#settings.maxVarBytes;
    if (limit === 0) throw new LimitError('VAR_LIMIT', `Cannot set var "${name}": vars are disabled (memory.maxVarBytes is 0)`);
    const total = this.#varBytes - oldSize + keyBytes + value.length;
    if (total > limit) {
      throw new LimitError('VAR_LIMIT', `Cannot set var "${name}": vars would take ${total} bytes, above memory.maxVarBytes ${limit}`);
    }
    this.#vars.set(name, value);
    this.#varBytes = total;
  }

  /** Release the instance; later calls fail with CLOSED. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#releaseOutput();
    this.#closed = true;
    const live = this.#calling ? undefined : this.#live;
    this.#live = undefined;
    this.#wasi?.close();
    if (this.#refill !== undefined) clearImmediate(this.#refill);
    this.#spare?.live.wasi?.close();
    this.#spare = undefined;
    this.#vars.clear();
    this.#http.close();
    // closed from inside a host call: the kernel may serve another plug-in before that call unwinds
    this.#context.endPluginCode();
    const kernel = this.#kernel;
    if (live?.snapshot !== undefined && live.wasi === undefined) {
      this.#compiled.recycle({ kernel, live, imports: this.#imports, owner: this.#owner, meter: this.#meter });
    } else {
      this.#compiled.returnKernel(kernel);
    }
    this.#compiled.released();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** The previous output copies its bytes out before Extism memory is reused. */
  #releaseOutput(): void {
    this.#lastOutput?.detach();
    this.#lastOutput = undefined;
  }

  #liveOrBuild(): Live {
    this.#live ??= this.#build(true);
    return this.#live;
  }

  /** Make `live` the instance calls use; the one before it is gone: give back the host files it left open. */
  #adopt(live: Live): Live {
    if (this.#wasi !== live.wasi) this.#wasi?.close();
    this.#wasi = live.wasi;
    this.#live = live;
    return live;
  }

  /** A new instance of the modules, linked to this kernel; `adopt` makes it the one calls use. */
  #build(adopt: boolean): Live {
    const settings = this.#settings;
    const kernel = this.#kernel;
    if (adopt) {
      this.#wasi?.close();
      this.#wasi = undefined;
    }
    let wasi: WasiSandbox | undefined;
    if (settings.wasi) {
      const sinks = wasiSinks(settings, (level, line) => this.#log(level, line));
      this.#stdio ??= new WasiStdio(settings.limits.maxStdioBytes, sinks.stdout, sinks.stderr);
      wasi = new WasiSandbox(this.#stdio, this.#world, settings.mounts);
      if (adopt) this.#wasi = wasi;
    }
    let instance: WebAssembly.Instance;
    try {
      this.#imports ??= this.#hostImports(); // bound once: a fresh instance per call reuses them
      instance = this.#compiled.link(kernel, this.#imports, wasi, this.#meter);
    } catch (error) {
      if (!adopt) wasi?.close();
      throw this.#meter?.abort ?? error;
    }
    // (link() pointed WASI at each module's memory)
    const memory = instance.exports.memory instanceof WebAssembly.Memory ? instance.exports.memory : undefined;
    const state = this.#compiled.state;
    const snapshot = state && !wasi ? Snapshot.take(instance.exports, state) : undefined;
    return { exports: instance.exports, memory, functions: new Map(), initialized: false, wasi, snapshot };
  }

  #function(live: Live, name: string): ExportedFunction {
    let fn = live.functions.get(name);
    if (fn) return fn;
    const exported = live.exports[name];
    if (typeof exported !== 'function') {
      const available = this.#compiled.functions.filter((f) => !f.startsWith('_') && !f.startsWith('__')).slice(0, 12);
      throw new FunctionNotFoundError(
        name,
        `Plug-in has no exported function "${name}"${
          available.length
            ? ` (it exports ${available.map((f) => `"${f}"`).join(', ')})`
            : ' (it exports no functions: export each plug-in function from the module its build starts at)'
        }`,
      );
    }
    fn = exported as ExportedFunction;
    if (fn.length !== 0) {
      throw new FunctionNotFoundError(
        name,
        `Plug-in function "${name}" takes ${fn.length} parameters; plug-in functions take none and return an i32`,
      );
    }
    live.functions.set(name, fn);
    return fn;
  }

  /** Guest runtime start-up, once per instance (Extism's order: hs_init, else ctors, else _initialize). */
  #initialize(live: Live, name: string): void {
    const call = (init: string, ...args: number[]): void => {
      const fn = live.exports[init];
      if (typeof fn === 'function') (fn as ExportedFunction)(...args);
    };
    live.initialized = true;
    if (name === '_start' || name === '_initialize') return;
    if (typeof live.exports.hs_init === 'function') {
      call('_initialize');
      call('hs_init', 0, 0);
    } else if (typeof live.exports.__wasm_call_ctors === 'function') {
      call('__wasm_call_ctors');
    } else {
      call('_initialize');
    }
  }

  #writeInput(kernel: Kernel, name: string, input: PluginInput): void {
    this.#releaseOutput();
    // text goes straight into Extism memory; anything else is encoded once, here
    const bytes = typeof input === 'string' ? undefined : toBytes(input);
    const maxInput = this.#settings.limits.maxInputBytes;
    if (maxInput !== Infinity && inputSize(input, bytes) > maxInput) {
      throw new LimitError(
        'INPUT_LIMIT',
        `Cannot call "${name}": an input of ${inputSize(input, bytes)} bytes is over limits.maxInputBytes (${maxInput})`,
      );
    }
    if (!(bytes ? kernel.begin(bytes) : kernel.beginText(input as string))) {
      throw new LimitError(
        'MEMORY_LIMIT',
        `Cannot call "${name}": an input of ${inputSize(input, bytes)} bytes does not fit in Extism memory (memory.maxPages ${this.#settings.maxPages})`,
      );
    }
  }

  #finish(kernel: Kernel, name: string, rc: number): PluginOutput {
    const abort = this.#abort ?? this.#meter?.abort;
    if (abort) throw abort;
    const errorOffset = kernel.exports.host_error();
    if (errorOffset !== 0) {
      const message = kernel.readText(errorOffset) ?? '';
      throw new PluginError(`Plug-in function "${name}" failed: ${message}`, rc, message, 'PLUGIN_FAILED', this.#failedOutput(kernel));
    }
    if (rc !== 0) {
      throw new PluginError(
        `Plug-in function "${name}" returned non-zero code ${rc}`,
        rc,
        undefined,
        'PLUGIN_FAILED',
        this.#failedOutput(kernel),
      );
    }
    const offset = kernel.exports.host_output();
    if (offset < 0) {
      throw new PluginError(`Plug-in function "${name}" set an output range outside its memory`, rc);
    }
    const length = offset === 0 ? 0 : kernel.exports.host_output_length() >>> 0;
    if (length > this.#settings.limits.maxOutputBytes) {
      throw new LimitError(
        'OUTPUT_LIMIT',
        `Plug-in function "${name}" returned ${length} bytes, over limits.maxOutputBytes (${this.#settings.limits.maxOutputBytes})`,
      );
    }
    const output = new PluginOutput(kernel, offset, length);
    this.#lastOutput = output;
    return output;
  }

  /** What a failing call set as output: often its diagnostics, which the caller would lose with the call. */
  #failedOutput(kernel: Kernel): Uint8Array | undefined {
    const offset = kernel.exports.host_output();
    if (offset <= 0) return undefined;
    const length = kernel.exports.host_output_length() >>> 0;
    if (length === 0 || length > this.#settings.limits.maxOutputBytes) return undefined;
    return new PluginOutput(kernel, offset, length).ownBytes();
  }

  #failure(error: unknown, name: string): unknown {
    // A trap or exit leaves the guest's own state (stack pointer, allocator) mid-flight: rebuild.
    const abort = this.#abort ?? this.#meter?.abort;
    this.#abort = undefined;
    if (abort) {
      this.#live = undefined;
      return abort;
    }
    if (error instanceof TenonError) return error;
    const trap = classifyTrap(error);
    if (trap) {
      this.#live = undefined;
      // a guest that reports an error and then traps (a PDK's panic or abort handler) explains the trap
      const reported = this.#kernel.exports.host_error();
      const reason = reported === 0 ? '' : `: ${this.#kernel.readText(reported) ?? ''}`;
      return new TrapError(trap.kind, `Plug-in function "${name}" ${trap.description}${reason}`, { cause: error });
    }
    // Neither a trap nor a coded error: JavaScript thrown by the host's own code (a kernel import, a
    // WASI call, a logger). Reporting it as the plug-in's trap would hide a host bug behind a guest.
    this.#live = undefined;
    return new InternalError(
      `Cannot call "${name}": the host failed inside the call (${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}); this is a bug in the host, not the plug-in`,
      { cause: error },
    );
  }

  /** An import (a host function, an HTTP request) that ran past the call's deadline, or gave up at it, times the call out. */
  #raiseIfOverdue(): void {
    if (!this.#meter?.overdue()) return;
    this.#meter.timeout();
    this.#raise(this.#meter.abort as TenonError);
  }

  /**
   * @internal Write `data` (bytes, or text as UTF-8) into Extism memory for the plug-in, as `what`;
   * returns its offset (0 for empty data). One that does not fit fails the call with MEMORY_LIMIT
   * and unwinds the plug-in: it never gets an offset the kernel refused.
   */
  place(data: Uint8Array | string, what: string): number {
    const kernel = this.#kernel;
    const offset = typeof data === 'string' ? kernel.writeText(data) : kernel.write(data);
    if (offset >= 0) return offset;
    return this.#doesNotFit(typeof data === 'string' ? Buffer.byteLength(data) : data.length, what);
  }

  /** @internal A new zeroed block of `length` bytes for the plug-in, as `what`; fails the call with MEMORY_LIMIT when it does not fit. */
  allocate(length: number, what: string): number {
    if (length === 0) return 0;
    const offset = this.#kernel.alloc(length);
    return offset >= 0 ? offset : this.#doesNotFit(length, what);
  }

  #doesNotFit(size: number, what: string): never {
    const kernel = this.#kernel;
    const cap = this.#settings.maxPages === undefined ? 'the 4 GiB address space' : `memory.maxPages ${this.#settings.maxPages}`;
    return this.#raise(
      new LimitError(
        'MEMORY_LIMIT',
        `Cannot give the plug-in ${what} of ${size} bytes: it does not fit in Extism memory (${kernel.exports.host_heap_bytes()} bytes in use, ${cap})`,
      ),
    );
  }

  readonly #placeResponse = (body: Uint8Array): number => this.place(body, 'an HTTP response body');

  /** Record an error raised by the host side of an import, and unwind the plug-in with it. */
  #raise(error: TenonError): never {
    this.#abort ??= error;
    throw error;
  }

  #hostImports(): WebAssembly.Imports {
    const imports: Record<string, Record<string, (...args: never[]) => unknown>> = {};
    // the instances these imports are linked into may later serve another plug-in: look it up per call
    const owner = this.#owner;
    for (const fn of this.#settings.functions) {
      const namespace = fn.namespace ?? USER_NAMESPACE;
      imports[namespace] ??= {};
      const label = `${namespace} ${fn.name}`;
      imports[namespace][fn.name] = (...args: never[]) => {
        const plugin = owner.plugin;
        const context = plugin.#context;
        let value: unknown;
        try {
          value = fn.call(context, ...args);
          // time spent in host functions counts against the deadline
          if (plugin.#meter?.overdue()) plugin.#meter.timeout();
          if (value instanceof Promise) {
            value.catch(() => {});
            throw new TypeError('it returned a Promise; host functions called in-thread must be synchronous');
          }
          return toWasmResults(fn.results, value);
        } catch (error) {
          if (error instanceof TenonError && error === plugin.#abort) throw error;
          plugin.#raiseIfOverdue();
          const reason = error instanceof Error ? error.message : String(error);
          return plugin.#raise(new HostFunctionError(fn.name, `Host function "${label}" failed: ${reason}`, { cause: error }));
        }
      };
    }
    return imports;
  }

  #kernelHost(): KernelHost {
    const kernel = (): Kernel => this.#kernel;
    const settings = this.#settings;
    const text = (offset: number, what: string): string => {
      const value = kernel().readText(offset);
      if (value === null) this.#raise(new PluginError(`Plug-in passed an invalid ${what} offset to the host`, -1));
      return value;
    };
    // The host owns the key it is given; the answer is allocated before the key is freed, so the
    // two never share an offset (older PDKs free the key again themselves).
    const answer = (key: number, result: number): number => {
      kernel().free(key);
      return result;
    };
    const block = (bytes: Uint8Array | undefined, what: string): number => (bytes === undefined ? 0 : this.place(bytes, what));
    return {
      config_get: (key) => answer(key, block(settings.configBytes.get(text(key, 'config key')), 'a config value')),
      var_get: (key) => answer(key, block(this.#vars.get(text(key, 'var key')), 'a var')),
      var_set: (key, value) => {
        if (key === 0) return; // a null key names no var: nothing to set (as Extism's runtime does)
        // read both blocks before freeing either: the key and the value may be the same block
        const name = kernel().readText(key);
        if (name === null) this.#raise(new PluginError('Plug-in passed an invalid var key offset to the host', -1));
        const bytes = value === 0 ? undefined : kernel().read(value);
        if (bytes === null) this.#raise(new PluginError(`Plug-in passed an invalid block for var "${name}"`, -1));
        // the JS SDK leaves both blocks to the plug-in (the Rust runtime frees them)
        if (!settings.extismJs) {
          kernel().free(key);
          if (value !== 0) kernel().free(value);
        }
        try {
          this.#storeVar(name, bytes);
        } catch (error) {
          if (error instanceof TenonError) this.#raise(error);
          throw error;
        }
      },
      log: (level, message) => {
        const line = kernel().readText(message);
        kernel().free(message);
        if (line !== null) this.#log(LOG_LEVELS[level] ?? 'info', line);
      },
      http_request: (request, body) => {
        try {
          const offset = this.#http.request(
            kernel().readText(request),
            body === 0 ? undefined : (kernel().read(body) ?? undefined),
            this.deadline,
            this.#placeResponse,
          );
          kernel().exports.host_set_http_status(this.#http.status);
          return offset;
        } catch (error) {
          if (!(error instanceof TenonError)) throw error;
          if (error === this.#abort) throw error;
          this.#raiseIfOverdue();
          return this.#raise(error);
        }
      },
      http_headers: () => {
        const headers = this.#http.headers;
        return headers === undefined ? 0 : this.place(JSON.stringify(headers), 'response headers');
      },
    };
  }
}

/** Where WASI stdout and stderr lines go: the logger (Tenon), or as the JS SDK has it, nowhere or the process's own streams. */
function wasiSinks(
  settings: PluginSettings,
  log: (level: 'info' | 'error', line: string) => void,
): { stdout: (line: string) => void; stderr: (line: string) => void } {
  switch (settings.extismJs?.wasiOutput) {
    case 'silent':
      return { stdout: () => {}, stderr: () => {} };
    case 'process':
      return { stdout: (line) => process.stdout.write(`${line}\n`), stderr: (line) => process.stderr.write(`${line}\n`) };
    default:
      return { stdout: (line) => log('info', line), stderr: (line) => log('error', line) };
  }
}

/** Bytes of a prepared instance's memory mapped in ahead of its call. */
const PREFAULT_BYTES = 8 * 1024 * 1024;

/**
 * Map in the pages of a new instance's memory by writing each one's first byte back unchanged: the
 * operating system maps a new memory's pages on their first write, and in the call that took ~18 µs
 * (C count vowels, 3 pages) of a 24 µs fresh call.
 */
function touchPages(memory: WebAssembly.Memory): void {
  const u8 = new Uint8Array(memory.buffer);
  const end = Math.min(u8.length, PREFAULT_BYTES);
  for (let i = 0; i < end; i += 4096) u8[i] = u8[i]!;
}

/** @internal Bring a closed plug-in's instance and kernel back to new; false when the instance cannot be. */
export function renew(recycled: Recycled): boolean {
  if (!restore(recycled.live)) return false;
  recycled.kernel.release();
  return true;
}

/** Bring `live` back to how it was linked (its start-up to run again); false when it cannot be. */
function restore(live: Live): boolean {
  if (live.snapshot === undefined || live.wasi !== undefined || !live.snapshot.restore()) return false;
  live.initialized = false;
  return true;
}

function resultCode(value: unknown, name: string): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  throw new TrapError(
    'other',
    `Plug-in function "${name}" failed: the function returned ${typeof value}; plug-in functions return an i32 or nothing`,
  );
}

function inputSize(input: PluginInput, bytes: Uint8Array | undefined): number {
  return bytes ? bytes.length : Buffer.byteLength(input as string);
}

function toBytes(input: PluginInput): Uint8Array {
  if (input === undefined) return EMPTY;
  if (input instanceof Uint8Array) return input;
  if (typeof input === 'string') return encoder.encode(input);
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  return encoder.encode(JSON.stringify(input));
}

const EMPTY = new Uint8Array(0);
