import { ManifestError } from './errors.js';
import type { HostFunction, ValueType } from './host-functions.js';
import type { HttpRequestRecord } from './http/plugin-http.js';
import { consoleLogger, defaultLogLevel, type Logger, type LogLevel, logLevelNumber } from './log.js';
import type { Manifest, MemoryLimits } from './manifest.js';
import { type Mount, resolveMounts } from './wasi/mounts.js';

/** Options for compilePlugin() and createPlugin(); they override the manifest's fields. */
export interface PluginOptions {
  /**
   * Give the plug-in WASI preview 1, sandboxed: no environment, no arguments, and no files except
   * `allowedPaths` and `files` (see docs/wasi.md). Default false.
   */
  wasi?: boolean;
  /** Config values the plug-in reads with `config_get`, merged over the manifest's. */
  config?: Record<string, string>;
  /** Host functions the plug-in may import. */
  functions?: readonly HostFunction[];
  /** Where plug-in logs and WASI stdout/stderr go. Default: the console. */
  logger?: Logger;
  /**
   * The lowest level passed to the logger. Default: the TENON_LOG_LEVEL environment variable, else
   * 'warn'. Every line the logger gets starts with `[name] ` (see `name`).
   */
  logLevel?: LogLevel;
  /**
   * What log lines call the plug-in. Default: the main module's manifest name, else its file or URL
   * name without `.wasm`, else the module name of its `name` section, else "plugin".
   */
  name?: string;
  /** Memory limits, overriding the manifest's `memory`. */
  memory?: MemoryLimits;
  /** Size limits per call, and on instances. Default: none. */
  limits?: SizeLimits;
  /** HTTP hosts the plug-in may reach (globs on the host name), overriding the manifest's. */
  allowedHosts?: readonly string[];
  /** Called after every HTTP request a plug-in makes or tries (denied ones included): the audit trail. */
  onHttpRequest?: (record: HttpRequestRecord) => void;
  /**
   * Host directory -> guest path (`{ '/srv/partner-a': '/data' }`; prefix the host side with `ro:`
   * for read-only), overriding the manifest's `allowed_paths`. The guest cannot reach outside a
   * directory, through `..` or links. Needs `wasi: true`. Relative host paths resolve against `baseDir`.
   */
  allowedPaths?: Record<string, string>;
  /**
   * Read-only files the guest sees, by absolute guest path (`{ '/data/rates.csv': bytes }`); text
   * is stored as UTF-8. Each top-level directory becomes a preopen. Never touches the disk. Needs `wasi: true`.
   */
  files?: Record<string, Uint8Array | string>;
  /** Wall-clock limit per call in milliseconds, enforced in-thread (overrides the manifest's `timeout_ms`). */
  timeoutMs?: number | null;
  /** Fuel limit per call (about one unit per WebAssembly instruction; see docs/limits.md). Default: unlimited. */
  fuel?: number;
  /**
   * Inject fuel metering, so calls report the fuel they use and per-call `fuel` limits work.
   * Default: on when `fuel`, `timeoutMs` or `deterministic` is set (it costs 3-9% on loops).
   */
  meter?: boolean;
  /**
   * `reuse` (default, Extism's semantics): one instance serves every call, keeping its memory,
   * globals and vars. `fresh`: every call gets a new instance, so nothing of one call reaches the next.
   */
  instance?: 'reuse' | 'fresh';
  /**
   * Make calls reproducible: WASI clocks start at a fixed epoch and advance with fuel, randomness
   * comes from a generator seeded per call (`seed`, default 0), the environment is empty. The same
   * input then gives the same output and the same fuel, byte for byte.
   */
  deterministic?: boolean | { seed?: number };
  /** Directory that relative `path` sources resolve against. Default: the current directory. */
  baseDir?: string;
  /** @internal Set by `@tenon/runtime/extism` only: the JS SDK's semantics where they differ from the Rust runtime's. */
  extismJs?: ExtismJsSemantics;
}

/**
 * @internal Where `@extism/extism` (the JS SDK) behaves unlike the Rust runtime, followed by the
 * drop-in only: `memory.maxVarBytes` counts values (not keys), `var_set` leaves the key and value
 * blocks to the plug-in, `memory.maxPages` bounds Extism memory but not the plug-in's own memories,
 * and WASI stdout/stderr are dropped (`silent`) or go to the process's own.
 */
export interface ExtismJsSemantics {
  wasiOutput: 'silent' | 'process';
}

/** Size limits (all optional; a call that passes one fails with a LimitError of the named code). */
export interface SizeLimits {
  /** Largest input a call accepts, in bytes (INPUT_LIMIT). */
  maxInputBytes?: number;
  /** Largest output a call may return, in bytes (OUTPUT_LIMIT). */
  maxOutputBytes?: number;
  /** Most bytes of log lines (plug-in logs and WASI output) a call may write (LOG_LIMIT). */
  maxLogBytes?: number;
  /** Most live (not closed) instances of one compiled plug-in (INSTANCE_LIMIT at instantiate()). */
  maxInstances?: number;
  /** Most elements each table the plug-in defines may grow to (`table.grow` past it returns -1). */
  maxTableElements?: number;
  /** Bytes of WASI stdout and of stderr kept per call for `plugin.stdio` (default 64 KiB each; the rest is dropped, `truncated` set). */
  maxStdioBytes?: number;
}

/** Everything an instance needs, resolved once at compile time. */
export interface PluginSettings {
  readonly wasi: boolean;
  /** WASI preopens: host directories (checked to exist) and in-memory files. */
  readonly mounts: readonly Mount[];
  /** The config values as UTF-8, encoded once. */
  readonly configBytes: ReadonlyMap<string, Uint8Array>;
  readonly functions: readonly HostFunction[];
  readonly logger: Logger;
  readonly logLevelNumber: number;
  /** Cap per memory in 64 KiB pages, initial pages included; undefined means unlimited. */
  readonly maxPages: number | undefined;
  readonly maxVarBytes: number;
  readonly allowedHosts: readonly string[];
  readonly maxHttpResponseBytes: number;
  readonly onHttpRequest: ((record: HttpRequestRecord) => void) | undefined;
  readonly timeoutMs: number | undefined;
  readonly fuel: number | undefined;
  readonly meter: boolean;
  readonly instance: 'reuse' | 'fresh';
  readonly limits: Required<SizeLimits>;
  /** The random seed of deterministic mode, or undefined when calls see the real world. */
  readonly seed: bigint | undefined;
  /** @internal The JS SDK's semantics (the drop-in), or undefined for the Rust runtime's. */
  readonly extismJs: ExtismJsSemantics | undefined;
}

const MIB = 1024 * 1024;
const VALUE_TYPES: ReadonlySet<string> = new Set<ValueType>(['i32', 'i64', 'f32', 'f64', 'ptr']);

/** Merge the manifest and the options, validating the options' shapes. */
export function resolveSettings(manifest: Manifest, options: PluginOptions): PluginSettings {
  const memory = { ...manifest.memory, ...options.memory };
  const timeoutMs = options.timeoutMs !== undefined ? options.timeoutMs : manifest.timeoutMs;
  if (timeoutMs !== undefined && timeoutMs !== null && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new RangeError(`timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`);
  }
  if (options.fuel !== undefined) checkFuel(options.fuel, 'fuel');
  const instance = options.instance ?? 'reuse';
  if (instance !== 'reuse' && instance !== 'fresh') throw new TypeError(`instance must be 'reuse' or 'fresh', got "${String(instance)}"`);
  const mounts = resolveMounts(options.allowedPaths ?? manifest.allowedPaths, options.files, options.wasi ?? false, options.baseDir);
  const functions = options.functions ?? [];
  for (const [i, fn] of functions.entries()) checkHostFunction(fn, i);
  const config = new Map<string, unknown>(Object.entries({ ...manifest.config, ...options.config }));
  for (const [key, value] of config) {
    if (typeof value !== 'string') throw new ManifestError(`config.${key}`, `must be a string, got ${typeof value}`);
  }
  return {
    wasi: options.wasi ?? false,
    mounts,
    configBytes: new Map([...config].map(([key, value]) => [key, Buffer.from(value as string)])),
    functions,
    logger: options.logger ?? consoleLogger,
    logLevelNumber: logLevel(options.logLevel),
    maxPages: memory.maxPages,
    maxVarBytes: memory.maxVarBytes ?? MIB,
    allowedHosts: options.allowedHosts ?? manifest.allowedHosts ?? [],
    maxHttpResponseBytes: memory.maxHttpResponseBytes ?? 50 * MIB,
    onHttpRequest: options.onHttpRequest,
    timeoutMs: timeoutMs ?? undefined,
    fuel: options.fuel,
    meter:
      options.meter ??
      (options.fuel !== undefined || (timeoutMs !== undefined && timeoutMs !== null) || (options.deterministic ?? false) !== false),
    instance,
    limits: sizeLimits(options.limits ?? {}),
    seed: deterministicSeed(options.deterministic),
    extismJs: options.extismJs,
  };
}

function logLevel(option: LogLevel | undefined): number {
  if (option !== undefined) return logLevelNumber(option);
  const { level, what } = defaultLogLevel();
  return logLevelNumber(level, what);
}

function sizeLimits(limits: SizeLimits): Required<SizeLimits> {
  const out = {
    maxInputBytes: Infinity,
    maxOutputBytes: Infinity,
    maxLogBytes: Infinity,
    maxInstances: Infinity,
    maxTableElements: Infinity,
    maxStdioBytes: 64 * 1024,
  };
  for (const key of Object.keys(out) as (keyof SizeLimits)[]) {
    const value = limits[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`limits.${key} must be a non-negative integer, got ${value}`);
    out[key] = value;
  }
  return out;
}

function deterministicSeed(option: PluginOptions['deterministic']): bigint | undefined {
  if (option === undefined || option === false) return undefined;
  const seed = option === true ? 0 : (option.seed ?? 0);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`deterministic.seed must be a non-negative integer, got ${seed}`);
  return BigInt(seed);
}

/** Fuel limits are positive safe integers. */
export function checkFuel(fuel: number, what: string): void {
  if (!Number.isSafeInteger(fuel) || fuel <= 0) throw new RangeError(`${what} must be a positive integer, got ${fuel}`);
}

function checkHostFunction(fn: HostFunction, index: number): void {
  const where = `functions[${index}]`;
  if (typeof fn !== 'object' || fn === null) throw new TypeError(`${where} must be a host function object`);
  if (typeof fn.name !== 'string' || fn.name === '') throw new TypeError(`${where}.name must be a non-empty string`);
  if (typeof fn.call !== 'function') throw new TypeError(`${where}.call must be a function (host function "${fn.name}")`);
  for (const key of ['params', 'results'] as const) {
    const types = fn[key];
    if (types === undefined) continue;
    if (!Array.isArray(types) || !types.every((t) => VALUE_TYPES.has(t))) {
      throw new TypeError(`${where}.${key} must be an array of 'i32' | 'i64' | 'f32' | 'f64' | 'ptr' (host function "${fn.name}")`);
    }
  }
}
