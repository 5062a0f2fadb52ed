/**
 * A drop-in for `@extism/extism` (2.0): the same `createPlugin(manifest, options)`, the same
 * Plugin, CallContext and PluginOutput, and the same error messages, so existing hosts switch one
 * import line. It adapts, never duplicates: plug-ins run on Tenon's kernel, in-thread, or with
 * `runInWorker: true` in a worker of Tenon's pool. Where the JS SDK's semantics differ from the
 * Rust runtime's, this module follows the JS SDK (docs/extism.md lists every difference).
 */
import { compilePlugin, type PluginSource } from './compile.js';
import type { CompiledPlugin } from './compiled.js';
import { HostFunctionError, ManifestError, StateError } from './errors.js';
import { extismError, withMessage } from './extism-errors.js';
import type { HostFunction, CallContext as TenonCallContext } from './host-functions.js';
import { METER_MODULE } from './limits/instrument.js';
import type { Logger, LogLevel } from './log.js';
import type { Manifest, MemoryLimits } from './manifest.js';
import type { Plugin as TenonPlugin } from './plugin.js';
import { Pool } from './pool/pool.js';
import type { PluginOptions } from './settings.js';
import { isStateExport } from './snapshot/exports.js';

/** What this host supports, under @extism/extism's names. */
export interface Capabilities {
  /** False: host functions of an in-thread plug-in must be synchronous (use `runInWorker` for async ones). */
  supportsJSPromiseInterface: boolean;
  allowSharedBufferCodec: boolean;
  manifestSupportsPaths: boolean;
  crossOriginChecksEnforced: boolean;
  fsAccess: boolean;
  hasWorkerCapability: boolean;
  supportsWasiPreview1: boolean;
  supportsTimeouts: boolean;
  /** Whether `EXTISM_ENABLE_WASI_OUTPUT` was set when this module loaded (the default of `enableWasiOutput` with `useWasi`). */
  extismStdoutEnvVarSet: boolean;
}

/** @extism/extism's CAPABILITIES for Node, as this drop-in has them. */
export const CAPABILITIES: Capabilities = {
  supportsJSPromiseInterface: false,
  allowSharedBufferCodec: false,
  manifestSupportsPaths: true,
  crossOriginChecksEnforced: false,
  fsAccess: true,
  hasWorkerCapability: true,
  supportsWasiPreview1: true,
  supportsTimeouts: true,
  extismStdoutEnvVarSet: Boolean(process.env.EXTISM_ENABLE_WASI_OUTPUT),
};

/** The host-function context @extism/extism passes as the first argument. */
export class CallContext {
  readonly #context: TenonCallContext;

  /** @internal */
  constructor(context: TenonCallContext) {
    this.#context = context;
  }

  /** The block at `address`, or null when it is not one. */
  read(address: bigint | number): PluginOutput | null {
    const bytes = this.#context.read(address);
    return bytes === null ? null : new PluginOutput(bytes);
  }

  /** Store a string or bytes in a new block; returns its address. */
  store(input: string | Uint8Array): bigint {
    return BigInt(this.#context.write(input));
  }

  /** The length in bytes of the block at `address` (0 when it is not one). */
  length(address: bigint | number): bigint {
    return BigInt(this.#context.length(address));
  }

  getVariable(name: string): PluginOutput | null {
    const bytes = this.#context.getVar(name);
    return bytes === undefined ? null : new PluginOutput(bytes);
  }

  setVariable(name: string, value: string | Uint8Array): void {
    this.#context.setVar(name, value);
  }

  deleteVariable(name: string): void {
    this.#context.setVar(name, undefined);
  }

  /** The `hostContext` given to `call()`. */
  hostContext<T = unknown>(): T {
    return this.#context.hostContext as T;
  }
}

const decoder = new TextDecoder();

// TypeScript's DataViewConstructor is generic and cannot be extended as declared.
const DataViewBase = DataView as new (buffer: ArrayBufferLike, byteOffset?: number, byteLength?: number) => DataView<ArrayBufferLike>;

/**
 * A call's output as @extism/extism returns it: a DataView with text/json/bytes helpers. Its
 * `buffer` holds exactly the output (code reads `output.buffer` whole).
 */
export class PluginOutput extends DataViewBase {
  constructor(bytes: Uint8Array) {
    super(bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer);
  }

  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }

  text(): string {
    return decoder.decode(this);
  }

  string(): string {
    return this.text();
  }

  bytes(): Uint8Array {
    return new Uint8Array(this.buffer, this.byteOffset, this.byteLength);
  }

  arrayBuffer(): ArrayBufferLike {
    return this.buffer;
  }
}

/** @extism/extism's host functions: namespace -> name -> function(callContext, ...args). */
export type HostFunctions = Record<string, Record<string, (callContext: CallContext, ...args: never[]) => unknown>>;

/** @extism/extism's createPlugin options. */
export interface ExtismPluginOptions {
  useWasi?: boolean;
  functions?: HostFunctions;
  config?: Record<string, string>;
  logger?: Pick<Console, 'debug' | 'info' | 'warn' | 'error'> & Partial<Pick<Console, 'trace'>>;
  logLevel?: LogLevel | 'silent';
  memory?: MemoryLimits;
  /** Wall-clock limit per call and for instantiation, in milliseconds (in-thread too, unlike @extism/extism). */
  timeoutMs?: number | null;
  allowedHosts?: string[];
  /** Guest path -> host path, as @extism/extism has it; used with `useWasi` only. `ro:` is rejected. */
  allowedPaths?: Record<string, string>;
  /** Run the plug-in in a worker thread of its own: `call()` leaves this thread free, host functions may be async. */
  runInWorker?: boolean;
  /** Send WASI stdout/stderr to the process's own (default: `EXTISM_ENABLE_WASI_OUTPUT` with useWasi); otherwise they are dropped. */
  enableWasiOutput?: boolean;
  /** Accepted for compatibility: Tenon's worker protocol needs no shared buffer of a chosen size. */
  sharedArrayBufferSize?: number;
  /** Accepted for compatibility: the pool starts its workers itself. */
  nodeWorkerArgs?: object;
  /** Accepted for compatibility: plug-ins' HTTP goes through Tenon's confined client, not `fetch`. */
  fetch?: typeof fetch;
  /** Accepted for compatibility: the ABI's `http_headers` is always available. */
  allowHttpResponseHeaders?: boolean;
}

/** What @extism/extism's createPlugin accepts as a manifest. */
export type ManifestLike = Manifest | Response | WebAssembly.Module | ArrayBuffer | Uint8Array | URL | string;

/** Where the plug-in runs: this thread, or a worker of a one-worker pool. */
interface Runner {
  call(name: string, input: string | Uint8Array | undefined, hostContext: unknown): Promise<Uint8Array>;
  functionExists(name: string): boolean;
  reset(): void;
  close(): Promise<void>;
}

/** What the host functions of one plug-in threw: passed to the caller as thrown, as @extism/extism does. */
interface Thrown {
  error: unknown;
}

/** A plug-in with @extism/extism's promise-returning methods. */
export class Plugin {
  readonly #runner: Runner;
  readonly #module: WebAssembly.Module;
  readonly #thrown: Thrown;
  #active = false;

  /** @internal */
  constructor(runner: Runner, module: WebAssembly.Module, thrown: Thrown) {
    this.#runner = runner;
    this.#module = module;
    this.#thrown = thrown;
  }

  /** Call `name`; resolves to the output, or null when the plug-in set none. */
  async call(name: string, input?: string | number | Uint8Array, hostContext?: unknown): Promise<PluginOutput | null> {
    if (this.#active) throw new StateError('REENTRANT_CALL', 'plugin is not reentrant');
    this.#active = true;
    this.#thrown.error = undefined;
    try {
      const bytes = await this.#runner.call(name, typeof input === 'number' ? String(input) : input, hostContext);
      return bytes.length === 0 ? null : new PluginOutput(bytes);
    } catch (error) {
      const own = this.#passThrough(error);
      throw own === undefined ? extismError(error, 'call') : extismError(own, 'host');
    } finally {
      this.#active = false;
      this.#thrown.error = undefined;
    }
  }

  /** A host function's own error, as it threw it (the call failed because of it). */
  #passThrough(error: unknown): unknown {
    if (!(error instanceof HostFunctionError) || this.#thrown.error === undefined) return undefined;
    return this.#thrown.error;
  }

  async functionExists(name: string): Promise<boolean> {
    return this.#runner.functionExists(name);
  }

  /** The main module's exports, as WebAssembly.Module.exports lists them. */
  async getExports(): Promise<WebAssembly.ModuleExportDescriptor[]> {
    return WebAssembly.Module.exports(this.#module).filter((e) => !isStateExport(e.name));
  }

  /** The main module's imports (without the metering import Tenon adds). */
  async getImports(): Promise<WebAssembly.ModuleImportDescriptor[]> {
    return WebAssembly.Module.imports(this.#module).filter((i) => i.module !== METER_MODULE);
  }

  /** Forget every Extism memory block (a worker's are forgotten at its next call). */
  async reset(): Promise<boolean> {
    if (this.#active) return false;
    this.#runner.reset();
    return true;
  }

  async close(): Promise<void> {
    await this.#runner.close();
  }

  isActive(): boolean {
    return this.#active;
  }
}

/** Load a plug-in the way @extism/extism does. */
export async function createPlugin(manifest: ManifestLike | PromiseLike<ManifestLike>, options: ExtismPluginOptions = {}): Promise<Plugin> {
  let source: unknown = await manifest;
  if (typeof Response !== 'undefined' && source instanceof Response) source = new Uint8Array(await source.arrayBuffer());
  const useWasi = options.useWasi ?? false;
  const thrown: Thrown = { error: undefined };
  let compiled: CompiledPlugin;
  try {
    compiled = await compilePlugin(jsSdkManifest(source, options) as PluginSource, tenonOptions(options, thrown));
  } catch (error) {
    throw extismError(error, 'load', useWasi);
  }
  const runner = options.runInWorker ? await workerRunner(compiled) : threadRunner(compiled);
  return new Plugin(runner, compiled.mainModule, thrown);
}

export { createPlugin as newPlugin };
export default createPlugin;

function threadRunner(compiled: CompiledPlugin): Runner {
  let plugin: TenonPlugin;
  try {
    plugin = compiled.instantiate();
  } catch (error) {
    throw extismError(error, 'instantiate');
  }
  return {
    call: async (name, input, hostContext) => plugin.call(name, input, { hostContext }).ownBytes(),
    functionExists: (name) => plugin.functionExists(name),
    reset: () => plugin.reset(),
    close: async () => plugin.close(),
  };
}

/** One worker, one instance: the plug-in keeps its state from call to call, as it would in-thread. */
async function workerRunner(compiled: CompiledPlugin): Promise<Runner> {
  const pool = new Pool({ size: 1 });
  try {
    await pool.prepare(compiled);
  } catch (error) {
    await pool.destroy();
    throw extismError(error, 'instantiate');
  }
  return {
    call: async (name, input, hostContext) => (await pool.call(compiled, name, input, { hostContext })).ownBytes(),
    functionExists: (name) => compiled.functions.includes(name),
    // the worker's kernel starts every call from an empty heap
    reset: () => {},
    close: () => pool.close(),
  };
}

/** @extism/extism's options as Tenon's, with the JS SDK's semantics switched on. */
function tenonOptions(options: ExtismPluginOptions, thrown: Thrown): PluginOptions {
  const useWasi = options.useWasi ?? false;
  const logger = options.logger ?? console;
  const tenonLogger: Logger = {
    trace: (m) => (logger.trace ?? logger.debug).call(logger, m),
    debug: (m) => logger.debug(m),
    info: (m) => logger.info(m),
    warn: (m) => logger.warn(m),
    error: (m) => logger.error(m),
  };
  const enableWasiOutput = options.enableWasiOutput ?? (useWasi && CAPABILITIES.extismStdoutEnvVarSet);
  return {
    wasi: useWasi,
    functions: hostFunctions(options.functions ?? {}, thrown),
    logger: tenonLogger,
    // @extism/extism 2.0 is silent unless a level is given
    logLevel: options.logLevel === undefined || options.logLevel === 'silent' ? 'off' : options.logLevel,
    extismJs: { wasiOutput: enableWasiOutput ? 'process' : 'silent' },
    ...(options.config && { config: options.config }),
    ...(options.memory && { memory: options.memory }),
    // as in @extism/extism, an unset (or null, or 0) timeout falls back to the manifest's
    ...(options.timeoutMs && { timeoutMs: options.timeoutMs }),
    ...(options.allowedHosts && { allowedHosts: options.allowedHosts }),
    ...(useWasi && options.allowedPaths && { allowedPaths: hostToGuest(options.allowedPaths) }),
  };
}

/**
 * The manifest with the JS SDK's meaning of `allowedPaths` (guest -> host) turned into Tenon's
 * (host -> guest), paths dropped without WASI, and `config` and `memory` dropped when the options
 * give their own (@extism/extism takes one or the other; Tenon merges them).
 */
function jsSdkManifest(source: unknown, options: ExtismPluginOptions): unknown {
  if (typeof source === 'string' && source.trimStart().startsWith('{')) return jsSdkManifest(JSON.parse(source), options);
  if (typeof source !== 'object' || source === null || source instanceof Uint8Array || source instanceof ArrayBuffer) return source;
  if (source instanceof WebAssembly.Module || source instanceof URL) return source;
  const { allowedPaths, allowed_paths, config, memory, ...rest } = source as Record<string, unknown>;
  // @extism/extism refuses a hash it cannot check before it looks at the hash itself
  const wasm = Array.isArray(rest.wasm) ? (rest.wasm as Record<string, unknown>[]) : [];
  const unhashable = wasm.findIndex((item) => item?.module instanceof WebAssembly.Module && item.hash !== undefined);
  if (unhashable !== -1) {
    throw withMessage(
      new ManifestError(`wasm[${unhashable}].hash`, 'cannot be checked for a compiled module: give the bytes instead'),
      'Item specified a hash but WebAssembly.Module source data is unavailable for hashing',
    );
  }
  const paths = (allowedPaths ?? allowed_paths) as Record<string, string> | null | undefined;
  return {
    ...rest,
    ...(config !== undefined && !options.config && { config }),
    ...(memory !== undefined && !options.memory && { memory }),
    ...(options.useWasi && paths && { allowedPaths: hostToGuest(paths) }),
  };
}

function hostToGuest(paths: Record<string, string>): Record<string, string> {
  for (const host of Object.values(paths)) {
    if (typeof host === 'string' && host.startsWith('ro:')) {
      throw withMessage(
        new ManifestError('allowedPaths', `"${host}" is read-only, which @extism/extism does not support`),
        `Readonly dirs are not supported: ${host}`,
      );
    }
  }
  return Object.fromEntries(Object.entries(paths).map(([guest, host]) => [host, guest]));
}

function hostFunctions(functions: HostFunctions, thrown: Thrown): HostFunction[] {
  // the host function's own error reaches the caller as thrown (Tenon wraps it in HostFunctionError)
  const remember = (error: unknown): never => {
    thrown.error ??= error;
    throw error;
  };
  return Object.entries(functions).flatMap(([namespace, fns]) =>
    Object.entries(fns).map(([name, fn]) => ({
      namespace,
      name,
      // @extism/extism declares no types: results pass to WebAssembly as the function returns them
      params: [],
      call: (context: TenonCallContext, ...args: never[]) => {
        let value: unknown;
        try {
          value = fn(new CallContext(context), ...args);
        } catch (error) {
          return remember(error);
        }
        return value instanceof Promise ? value.catch(remember) : value;
      },
    })),
  );
}
