import type { Kernel } from './kernel/kernel.js';
import { u64Bytes, varInt, varText } from './var-codec.js';

/** A WebAssembly value type; `ptr` is an i64 Extism block offset. */
export type ValueType = 'i32' | 'i64' | 'f32' | 'f64' | 'ptr';

/** The default namespace plug-ins import host functions from. */
export const USER_NAMESPACE = 'extism:host/user';

/**
 * A function the host gives plug-ins. `call` gets a {@link CallContext} then the raw arguments
 * (i64 and ptr arguments arrive as bigint, the others as number); it returns nothing, one value,
 * or an array of values (with `results` declared, a number is accepted for an i64 result).
 */
export interface HostFunction {
  /** Import module name; defaults to `extism:host/user`. */
  readonly namespace?: string;
  readonly name: string;
  /** Parameter types, for documentation and checks; the plug-in's import declares the real ones. */
  readonly params?: readonly ValueType[];
  /** Result types; when omitted the return value goes to WebAssembly unconverted. */
  readonly results?: readonly ValueType[];
  readonly call: (context: CallContext, ...args: never[]) => unknown;
}

const encoder = new TextEncoder();

/**
 * What a host function sees of the plug-in that called it: its Extism memory (blocks by offset),
 * its vars, and the host context given to `call()`. Valid only during that host function call.
 */
export interface CallContext {
  /** The value passed as `hostContext` to `call()`. */
  readonly hostContext: unknown;
  /** A copy of the block at `offset`, or null when `offset` is not a live block. */
  read(offset: bigint | number): Uint8Array | null;
  /**
   * The block at `offset` without a copy. Use it only within the host call that took it, and take
   * it again after `alloc()` or `write()` (they may grow Extism memory, which detaches it). Every
   * view is detached when the plug-in call returns: from then on it reads as empty (length 0),
   * never as a later call's bytes. A view kept from one host call to the next of the same plug-in
   * call still reads that call's memory as it is then: the plug-in may have freed and reused the block.
   */
  view(offset: bigint | number): Uint8Array | null;
  /** The block at `offset` as UTF-8 text, or null when `offset` is not a live block. */
  text(offset: bigint | number): string | null;
  /** The block at `offset` parsed as JSON, or null when `offset` is not a live block. */
  json<T = unknown>(offset: bigint | number): T | null;
  /**
   * A new block holding `data` (bytes, or text as UTF-8); returns its offset (0 for empty data).
   * Data that does not fit in Extism memory fails the call with MEMORY_LIMIT (it throws).
   */
  write(data: Uint8Array | string): number;
  /** A new block holding `value` as JSON; returns its offset. */
  writeJson(value: unknown): number;
  /**
   * A new block of `length` bytes, zeroed, for the host to fill in place through `view(offset)`
   * (no copy of the result on the JavaScript heap); returns its offset (0 for length 0). A block
   * that does not fit fails the call with MEMORY_LIMIT (it throws). Views taken before it may be
   * detached by it (Extism memory may grow): take them after.
   */
  alloc(length: number): number;
  /** The length in bytes of the block at `offset` (0 if it is not a live block). */
  length(offset: bigint | number): number;
  /** Free the block at `offset`. */
  free(offset: bigint | number): void;
  /** Read a var of this plug-in instance. */
  getVar(name: string): Uint8Array | undefined;
  /** A var as UTF-8 text. */
  getVarText(name: string): string | undefined;
  /** A var as an unsigned little-endian integer (8 bytes, or 4 as the Go PDK writes); other lengths throw RangeError. */
  getVarInt(name: string): bigint | undefined;
  /** Set (or with undefined, delete) a var of this plug-in instance, within `maxVarBytes`. */
  setVar(name: string, value: Uint8Array | string | undefined): void;
  /** Set a var to the 8 little-endian bytes of a u64 (0 to 2^64-1), as PDKs read integers. */
  setVarInt(name: string, value: bigint | number): void;
}

/** Host-side state a CallContext reads; owned by the plug-in instance. */
export interface CallContextOwner {
  readonly kernel: Kernel;
  readonly hostContext: unknown;
  /** The current call's deadline in performance.now() milliseconds (Infinity when none). */
  readonly deadline: number;
  getVar(name: string): Uint8Array | undefined;
  setVar(name: string, value: Uint8Array | undefined): void;
  varEntries(): [string, Uint8Array][];
  /** Write a block for the plug-in; one that does not fit fails the call with MEMORY_LIMIT. */
  place(data: Uint8Array | string, what: string): number;
  /** A new zeroed block of `length` bytes for the plug-in; one that does not fit fails the call with MEMORY_LIMIT. */
  allocate(length: number, what: string): number;
}

/** Offsets come from the plug-in: anything that is not a small non-negative integer is no block. */
function offsetOf(offset: bigint | number): number {
  const n = Number(offset);
  return Number.isInteger(n) && n > 0 && n < 0x1_0000_0000 ? n : 0;
}

export class KernelCallContext implements CallContext {
  readonly #owner: CallContextOwner;
  /** A view was handed out during the current plug-in call: it must not outlive the call. */
  #viewed = false;

  constructor(owner: CallContextOwner) {
    this.#owner = owner;
  }

  get hostContext(): unknown {
    return this.#owner.hostContext;
  }

  /** @internal The call's deadline (performance.now() ms): how long a host function may block. */
  get deadline(): number {
    return this.#owner.deadline;
  }

  read(offset: bigint | number): Uint8Array | null {
    return this.#owner.kernel.read(offsetOf(offset));
  }

  view(offset: bigint | number): Uint8Array | null {
    this.#viewed = true;
    return this.#owner.kernel.view(offsetOf(offset));
  }

  /**
   * @internal When plug-in code stops running (a call, an instantiation): detach the views host
   * calls took, so a kept one reads as empty. Once per plug-in call rather than per host call: the
   * detach (~0.25 µs, a memory.grow(0)) cost a 1 KiB round trip a fifth of its time; a view kept
   * between two host calls of one call sees only that call's memory.
   */
  endPluginCode(): void {
    if (!this.#viewed) return;
    this.#viewed = false;
    this.#owner.kernel.detachViews();
  }

  text(offset: bigint | number): string | null {
    return this.#owner.kernel.readText(offsetOf(offset));
  }

  json<T = unknown>(offset: bigint | number): T | null {
    const text = this.text(offset);
    return text === null ? null : (JSON.parse(text) as T);
  }

  write(data: Uint8Array | string): number {
    return this.#owner.place(data, 'a host function block');
  }

  writeJson(value: unknown): number {
    return this.write(JSON.stringify(value));
  }

  alloc(length: number): number {
    if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`alloc() takes a byte count, got ${length}`);
    return this.#owner.allocate(length, 'a host function block');
  }

  length(offset: bigint | number): number {
    return this.#owner.kernel.length(offsetOf(offset));
  }

  free(offset: bigint | number): void {
    this.#owner.kernel.free(offsetOf(offset));
  }

  getVar(name: string): Uint8Array | undefined {
    return this.#owner.getVar(name)?.slice();
  }

  getVarText(name: string): string | undefined {
    return varText(this.#owner.getVar(name));
  }

  getVarInt(name: string): bigint | undefined {
    return varInt(name, this.#owner.getVar(name));
  }

  setVar(name: string, value: Uint8Array | string | undefined): void {
    this.#owner.setVar(name, typeof value === 'string' ? encoder.encode(value) : value);
  }

  setVarInt(name: string, value: bigint | number): void {
    this.#owner.setVar(name, u64Bytes(name, value));
  }

  /** @internal Every var, not copied: a pool worker posts them (a copy) to the pool's thread. */
  varEntries(): [string, Uint8Array][] {
    return this.#owner.varEntries();
  }
}

/** Converts a host function's return value to what WebAssembly expects for `results`. */
export function toWasmResults(results: readonly ValueType[] | undefined, value: unknown): unknown {
  if (results === undefined) return value;
  if (results.length === 0) return undefined;
  if (results.length === 1) return toWasmValue(results[0] as ValueType, value);
  if (!Array.isArray(value) || value.length !== results.length) {
    throw new TypeError(`expected an array of ${results.length} results, got ${describe(value)}`);
  }
  return value.map((v, i) => toWasmValue(results[i] as ValueType, v));
}

function toWasmValue(type: ValueType, value: unknown): unknown {
  if (type === 'i64' || type === 'ptr') {
    if (typeof value === 'bigint') return value;
    if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  } else if (typeof value === 'number') {
    return value;
  }
  throw new TypeError(`expected an ${type === 'ptr' ? 'i64' : type} result, got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === 'string' ? `the string "${value}"` : `${typeof value} ${String(value)}`;
}
