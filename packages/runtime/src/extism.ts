/**
 * A drop-in for `@extism/extism`: the same `createPlugin(manifest, options)` shape, so existing
 * hosts switch one import line. It adapts the options and the host-function context to Tenon's
 * API; plug-ins still run in-thread on Tenon's kernel (`runInWorker` is accepted and ignored).
 */
import { compilePlugin, type PluginSource } from './compile.js';
import type { HostFunction, CallContext as TenonCallContext } from './host-functions.js';
import type { Logger, LogLevel } from './log.js';
import type { Manifest, MemoryLimits } from './manifest.js';
import type { PluginOutput as TenonOutput } from './output.js';
import type { Plugin as TenonPlugin } from './plugin.js';

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

/** A call's output as @extism/extism returns it: a DataView with text/json/bytes helpers. */
export class PluginOutput extends DataViewBase {
  constructor(bytes: Uint8Array) {
    super(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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

  arrayBuffer(): ArrayBuffer {
    return this.bytes().slice().buffer;
  }
}

/** @extism/extism's host functions: namespace -> name -> function(callContext, ...args). */
export type HostFunctions = Record<string, Record<string, (callContext: CallContext, ...args: never[]) => unknown>>;

/** @extism/extism's createPlugin options (the ones that mean something in-thread). */
export interface ExtismPluginOptions {
  useWasi?: boolean;
  functions?: HostFunctions;
  config?: Record<string, string>;
  logger?: Pick<Console, 'debug' | 'info' | 'warn' | 'error'> & Partial<Pick<Console, 'trace'>>;
  logLevel?: LogLevel | 'silent';
  memory?: MemoryLimits;
  timeoutMs?: number | null;
  allowedHosts?: string[];
  /**
   * Guest path -> host path, as @extism/extism has it (Tenon's manifest maps host -> guest); used
   * with `useWasi` only. `ro:` before the host path makes it read-only (@extism/extism rejects it).
   */
  allowedPaths?: Record<string, string>;
  /** Accepted for compatibility; Tenon runs plug-ins in-thread (see the worker pool instead). */
  runInWorker?: boolean;
  enableWasiOutput?: boolean;
}

/** What @extism/extism's createPlugin accepts as a manifest. */
export type ManifestLike = Manifest | Response | WebAssembly.Module | ArrayBuffer | Uint8Array | URL | string;

/** A plug-in with @extism/extism's promise-returning methods. */
export class Plugin {
  readonly #plugin: TenonPlugin;

  /** @internal */
  constructor(plugin: TenonPlugin) {
    this.#plugin = plugin;
  }

  /** Call `name`; resolves to the output, or null when the plug-in set none. */
  async call(name: string, input?: string | number | Uint8Array, hostContext?: unknown): Promise<PluginOutput | null> {
    const output: TenonOutput = this.#plugin.call(name, typeof input === 'number' ? String(input) : input, { hostContext });
    return output.length === 0 ? null : new PluginOutput(output.bytes());
  }

  async functionExists(name: string): Promise<boolean> {
    return this.#plugin.functionExists(name);
  }

  async reset(): Promise<boolean> {
    this.#plugin.reset();
    return true;
  }

  async close(): Promise<void> {
    this.#plugin.close();
  }

  isActive(): boolean {
    return false;
  }
}

/** Load a plug-in the way @extism/extism does. */
export async function createPlugin(manifest: ManifestLike | PromiseLike<ManifestLike>, options: ExtismPluginOptions = {}): Promise<Plugin> {
  let source = await manifest;
  if (typeof Response !== 'undefined' && source instanceof Response) source = new Uint8Array(await source.arrayBuffer());
  const logger = options.logger ?? console;
  const tenonLogger: Logger = {
    trace: (m) => (logger.trace ?? logger.debug).call(logger, m),
    debug: (m) => logger.debug(m),
    info: (m) => logger.info(m),
    warn: (m) => logger.warn(m),
    error: (m) => logger.error(m),
  };
  const compiled = await compilePlugin(source as PluginSource, {
    wasi: options.useWasi ?? false,
    functions: hostFunctions(options.functions ?? {}),
    logger: tenonLogger,
    // @extism/extism 2.0 is silent unless a level is given
    logLevel: options.logLevel === undefined || options.logLevel === 'silent' ? 'off' : options.logLevel,
    ...(options.config && { config: options.config }),
    ...(options.memory && { memory: options.memory }),
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    ...(options.allowedHosts && { allowedHosts: options.allowedHosts }),
    // @extism/extism preopens allowedPaths only with useWasi and ignores them otherwise; a `ro:`
    // prefix on its host side (which it rejects) becomes Tenon's read-only mount as is
    ...(options.useWasi &&
      options.allowedPaths && {
        allowedPaths: Object.fromEntries(Object.entries(options.allowedPaths).map(([guest, host]) => [host, guest])),
      }),
  });
  return new Plugin(compiled.instantiate());
}

function hostFunctions(functions: HostFunctions): HostFunction[] {
  return Object.entries(functions).flatMap(([namespace, fns]) =>
    Object.entries(fns).map(([name, fn]) => ({
      namespace,
      name,
      // @extism/extism declares no types: results pass to WebAssembly as the function returns them
      params: [],
      call: (context: TenonCallContext, ...args: never[]) => fn(new CallContext(context), ...args),
    })),
  );
}
