/**
 * Every error @tenon/runtime throws on purpose is a TenonError with a stable `code`.
 * Callers branch on `code` (or the class), never on message text; docs/errors.md says how to solve each code.
 */

/** Stable error codes. */
export type TenonErrorCode =
  | 'MANIFEST_INVALID'
  | 'LOAD_FAILED'
  | 'HASH_MISMATCH'
  | 'LINK_FAILED'
  | 'FUNCTION_NOT_FOUND'
  | 'PLUGIN_FAILED'
  | 'PLUGIN_EXIT'
  | 'TRAP'
  | 'HOST_FUNCTION_FAILED'
  | 'MEMORY_LIMIT'
  | 'VAR_LIMIT'
  | 'INPUT_LIMIT'
  | 'OUTPUT_LIMIT'
  | 'LOG_LIMIT'
  | 'INSTANCE_LIMIT'
  | 'TIMEOUT'
  | 'FUEL_EXHAUSTED'
  | 'HTTP_RESPONSE_LIMIT'
  | 'CAPABILITY_DENIED'
  | 'HTTP_FAILED'
  | 'WORKER_CRASHED'
  | 'ABORTED'
  | 'REENTRANT_CALL'
  | 'CLOSED'
  | 'UNSUPPORTED'
  | 'INTERNAL';

/** Options every TenonError constructor takes. */
export interface TenonErrorOptions {
  cause?: unknown;
}

/** The base class: a stable `code`, and a brand that survives two copies of this package. */
export class TenonError extends Error {
  readonly isTenonError = true;
  readonly code: TenonErrorCode;

  constructor(code: TenonErrorCode, message: string, options?: TenonErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }

  override get name(): string {
    return this.constructor.name;
  }

  /** The form an error travels in across a worker or the network: code, class, message and the subclass's own fields. */
  toJSON(): { code: TenonErrorCode; name: string; message: string } & Record<string, unknown> {
    const json: { code: TenonErrorCode; name: string; message: string } & Record<string, unknown> = {
      code: this.code,
      name: this.name,
      message: this.message,
    };
    for (const [key, value] of Object.entries(this)) {
      if (key !== 'isTenonError' && key !== 'code' && value !== undefined && typeof value !== 'function') json[key] = value;
    }
    return json;
  }
}

/**
 * Every error @tenon/runtime throws, as a union discriminated by `code`: after
 * `isTenonError(e) && e.code === 'PLUGIN_FAILED'`, `e` is a PluginError and `e.pluginMessage` reads
 * without a cast.
 */
export type AnyTenonError =
  | ManifestError
  | LoadError
  | LinkError
  | FunctionNotFoundError
  | PluginError
  | TrapError
  | HostFunctionError
  | (LimitError & { readonly code: Exclude<LimitCode, 'FUEL_EXHAUSTED' | 'TIMEOUT'> })
  | FuelExhaustedError
  | TimeoutError
  | CapabilityError
  | HttpError
  | StateError
  | PoolError
  | AbortError
  | InternalError;

/** True for any TenonError, even one thrown by another copy of this package; narrows by `code`. */
export function isTenonError(value: unknown): value is AnyTenonError {
  return typeof value === 'object' && value !== null && (value as { isTenonError?: unknown }).isTenonError === true;
}

/** One invalid field of a manifest, in the spelling the input used (`wasm[0].hash`, `memory.max_pages`). */
export interface ManifestProblem {
  field: string;
  message: string;
}

/**
 * The manifest or options are invalid (or a module's hash does not match). `problems` lists every invalid field
 * found, `field` is the first of them; the message names them all.
 */
export class ManifestError extends TenonError {
  declare readonly code: 'MANIFEST_INVALID' | 'HASH_MISMATCH';
  readonly field: string;
  readonly problems: readonly ManifestProblem[];

  constructor(
    field: string,
    message: string,
    options?: TenonErrorOptions & { code?: 'MANIFEST_INVALID' | 'HASH_MISMATCH'; problems?: readonly ManifestProblem[] },
  ) {
    const problems = options?.problems && options.problems.length > 0 ? options.problems : [{ field, message }];
    super(
      options?.code ?? 'MANIFEST_INVALID',
      problems.length === 1
        ? `${field}: ${message}`
        : `${problems.length} problems in the manifest: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`,
      options,
    );
    this.field = field;
    this.problems = problems;
  }
}

/** The module could not be read, fetched or compiled. */
export class LoadError extends TenonError {
  declare readonly code: 'LOAD_FAILED';
  constructor(message: string, options?: TenonErrorOptions) {
    super('LOAD_FAILED', message, options);
  }
}

/** One import the host could not resolve. */
export interface UnresolvedImport {
  module: string;
  name: string;
  kind: WebAssembly.ImportExportKind;
  /** The manifest modules from the main one to the one that imports it, by name. */
  path?: readonly string[];
}

/** Instantiation failed: `unresolved` lists every import the host does not provide. */
export class LinkError extends TenonError {
  declare readonly code: 'LINK_FAILED';
  readonly unresolved: readonly UnresolvedImport[];

  constructor(message: string, unresolved: readonly UnresolvedImport[] = [], options?: TenonErrorOptions) {
    super('LINK_FAILED', message, options);
    this.unresolved = unresolved;
  }
}

/** The plug-in has no callable export of that name (or it has the wrong signature). */
export class FunctionNotFoundError extends TenonError {
  declare readonly code: 'FUNCTION_NOT_FOUND';
  readonly functionName: string;

  constructor(functionName: string, message: string) {
    super('FUNCTION_NOT_FOUND', message);
    this.functionName = functionName;
  }
}

/** The plug-in reported failure: a message set with `error_set`, a non-zero return code, or a WASI exit code. */
export class PluginError extends TenonError {
  declare readonly code: 'PLUGIN_FAILED' | 'PLUGIN_EXIT';
  /** The export's i32 return code, or the WASI exit code for `PLUGIN_EXIT`. */
  readonly returnCode: number;
  /** The plug-in's own message (from `error_set`), if it gave one. */
  readonly pluginMessage: string | undefined;
  /** The output the plug-in set before it failed (its diagnostics, often), if any. */
  readonly output: Uint8Array | undefined;

  constructor(
    message: string,
    returnCode: number,
    pluginMessage?: string,
    code: 'PLUGIN_FAILED' | 'PLUGIN_EXIT' = 'PLUGIN_FAILED',
    output?: Uint8Array,
  ) {
    super(code, message);
    this.returnCode = returnCode;
    this.pluginMessage = pluginMessage;
    this.output = output;
  }
}

/** What kind of trap stopped the plug-in. */
export type TrapKind =
  | 'unreachable'
  | 'memory_out_of_bounds'
  | 'stack_overflow'
  | 'divide_by_zero'
  | 'integer_overflow'
  | 'invalid_conversion'
  | 'table_out_of_bounds'
  | 'indirect_call_mismatch'
  | 'null_reference'
  | 'unaligned_access'
  | 'other';

/** The plug-in trapped: WebAssembly stopped it (`kind` says why). The instance stays usable. */
export class TrapError extends TenonError {
  declare readonly code: 'TRAP';
  readonly kind: TrapKind;

  constructor(kind: TrapKind, message: string, options?: TenonErrorOptions) {
    super('TRAP', message, options);
    this.kind = kind;
  }
}

/** A host function threw; the original error is the `cause`. */
export class HostFunctionError extends TenonError {
  declare readonly code: 'HOST_FUNCTION_FAILED';
  readonly functionName: string;

  constructor(functionName: string, message: string, options?: TenonErrorOptions) {
    super('HOST_FUNCTION_FAILED', message, options);
    this.functionName = functionName;
  }
}

/** Codes of the resource limits. */
export type LimitCode =
  | 'MEMORY_LIMIT'
  | 'VAR_LIMIT'
  | 'INPUT_LIMIT'
  | 'OUTPUT_LIMIT'
  | 'LOG_LIMIT'
  | 'INSTANCE_LIMIT'
  | 'HTTP_RESPONSE_LIMIT'
  | 'TIMEOUT'
  | 'FUEL_EXHAUSTED';

/** A resource limit was hit: memory, vars, input, output or log size, instances, time or fuel. */
export class LimitError extends TenonError {
  declare readonly code: LimitCode;
  constructor(code: LimitCode, message: string, options?: TenonErrorOptions) {
    super(code, message, options);
  }
}

/** A call (or an instantiation) used up its fuel; `fuelUsed` says how much it had used. */
export class FuelExhaustedError extends LimitError {
  declare readonly code: 'FUEL_EXHAUSTED';
  readonly fuelUsed: number;
  readonly fuelLimit: number;

  constructor(message: string, fuelUsed: number, fuelLimit: number) {
    super('FUEL_EXHAUSTED', message);
    this.fuelUsed = fuelUsed;
    this.fuelLimit = fuelLimit;
  }
}

/** A call (or an instantiation) ran past its deadline. */
export class TimeoutError extends LimitError {
  declare readonly code: 'TIMEOUT';
  readonly timeoutMs: number;

  constructor(message: string, timeoutMs: number) {
    super('TIMEOUT', message);
    this.timeoutMs = timeoutMs;
  }
}

/** The plug-in asked for something the host did not grant (an HTTP host, a path). */
export class CapabilityError extends TenonError {
  declare readonly code: 'CAPABILITY_DENIED';
  /** What was refused, when it has a name: the URL of an HTTP request. */
  readonly resource: string | undefined;

  constructor(message: string, options?: TenonErrorOptions & { resource?: string }) {
    super('CAPABILITY_DENIED', message, options);
    this.resource = options?.resource;
  }
}

/** A plug-in's HTTP request could not be completed: the server was unreachable, or took too long. */
export class HttpError extends TenonError {
  declare readonly code: 'HTTP_FAILED';
  constructor(message: string, options?: TenonErrorOptions) {
    super('HTTP_FAILED', message, options);
  }
}

/** The plug-in was used in a way its state does not allow: closed, or called re-entrantly. */
export class StateError extends TenonError {
  declare readonly code: 'CLOSED' | 'REENTRANT_CALL' | 'UNSUPPORTED';
  constructor(code: 'CLOSED' | 'REENTRANT_CALL' | 'UNSUPPORTED', message: string) {
    super(code, message);
  }
}

/** A pool worker died (out of memory, or killed as a last resort) while it ran this call. */
export class PoolError extends TenonError {
  declare readonly code: 'WORKER_CRASHED';
  constructor(message: string, options?: TenonErrorOptions) {
    super('WORKER_CRASHED', message, options);
  }
}

/**
 * The caller's AbortSignal ended the call (a pool call, before or while it ran); `cause` is the
 * signal's reason. Named as the web platform names it, so `error.name === 'AbortError'` checks still work.
 */
export class AbortError extends TenonError {
  declare readonly code: 'ABORTED';
  constructor(message: string, options?: TenonErrorOptions) {
    super('ABORTED', message, options);
  }
}

/**
 * Tenon's own code threw during a call (a JavaScript error that is neither the plug-in's trap nor a
 * coded error): a host bug, never blamed on the plug-in. The original error, with its stack, is the `cause`.
 */
export class InternalError extends TenonError {
  declare readonly code: 'INTERNAL';
  constructor(message: string, options?: TenonErrorOptions) {
    super('INTERNAL', message, options);
  }
}

const CLASSES: Record<string, { prototype: TenonError }> = {
  TenonError,
  ManifestError,
  LoadError,
  LinkError,
  FunctionNotFoundError,
  PluginError,
  TrapError,
  HostFunctionError,
  LimitError,
  FuelExhaustedError,
  TimeoutError,
  CapabilityError,
  HttpError,
  StateError,
  PoolError,
  AbortError,
  InternalError,
};

/** An error as it crosses a thread: its class name, code, message and own fields. */
export type SerializedError = { name: string; code: string; message: string; stack?: string } & Record<string, unknown>;

/** @internal */
export function serializeError(error: unknown): SerializedError {
  if (isTenonError(error)) return { ...error.toJSON(), ...(error.stack !== undefined && { stack: error.stack }) };
  const message = error instanceof Error ? error.message : String(error);
  return { name: 'Error', code: '', message, ...(error instanceof Error && error.stack !== undefined && { stack: error.stack }) };
}

/** @internal Rebuild a serialized error as the same class, so callers branch on it as on a local one. */
export function reviveError(data: SerializedError): Error {
  const type = CLASSES[data.name];
  if (!type || data.code === '') return Object.assign(new Error(data.message), data.stack === undefined ? {} : { stack: data.stack });
  const error = Object.create(type.prototype) as TenonError;
  Object.defineProperty(error, 'message', { value: data.message, writable: true, configurable: true });
  const { name: _name, message: _message, ...fields } = data;
  return Object.assign(error, { isTenonError: true }, fields);
}
