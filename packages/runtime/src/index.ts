/**
 * @tenon/runtime: run Extism-ABI WebAssembly plug-ins in process, sandboxed, as plain functions.
 *
 *   const plugin = await createPlugin('count_vowels.wasm');
 *   plugin.call('count_vowels', 'Hello, World!').json(); // { count: 3 }
 */

/** Compile a plug-in once (compilePlugin) and stamp out instances, or do both at once (createPlugin). */
export { compilePlugin, createPlugin, type PluginSource } from './compile.js';
export { CompiledPlugin } from './compiled.js';
/** Every error class, the TenonError brand guard, and the codes. */
export {
  AbortError,
  type AnyTenonError,
  CapabilityError,
  FuelExhaustedError,
  FunctionNotFoundError,
  HostFunctionError,
  HttpError,
  InternalError,
  isTenonError,
  type LimitCode,
  LimitError,
  LinkError,
  LoadError,
  ManifestError,
  type ManifestProblem,
  PluginError,
  PoolError,
  StateError,
  TenonError,
  type TenonErrorCode,
  TimeoutError,
  TrapError,
  type TrapKind,
  type UnresolvedImport,
} from './errors.js';
/** Host functions: what plug-ins may call back into, and the context they get. */
export { type CallContext, type HostFunction, USER_NAMESPACE, type ValueType } from './host-functions.js';
/** The audit record of each HTTP request a plug-in makes. */
export type { HttpExchangeResult } from './http/exchange.js';
export type { HttpExchange, HttpExchanger, HttpRequestRecord } from './http/plugin-http.js';
/** Plug-in logging. */
export { consoleLogger, type Logger, type LogLevel } from './log.js';
/** The manifest (Extism's format) and its validation. */
export { type Manifest, type MemoryLimits, parseManifest, type WasmSource } from './manifest.js';
/** A compiled plug-in, an instance, and a call's output. */
export { PluginOutput } from './output.js';
export { type CallOptions, type CallStats, Plugin, type PluginInput } from './plugin.js';
/** Worker threads: run plug-ins on every core, with per-call limits and stats, async host functions or ones run in the workers. */
/** Host functions from a module, in the format the pool, `tenon call` and `tenon test` share. */
export { loadHostFunctions } from './pool/host-module.js';
export { createPool, Pool, type PoolCallOptions, type PoolCallResult, type PoolOptions } from './pool/pool.js';
/** Options for compiling a plug-in. */
export type { PluginOptions, SizeLimits } from './settings.js';
/** What a call wrote to WASI stdout and stderr (`plugin.stdio`). */
export type { CallStdio } from './wasi/stdio.js';
