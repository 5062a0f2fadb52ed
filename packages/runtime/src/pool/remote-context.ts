// The CallContext a host function gets when its plug-in runs in a pool worker: the blocks its
// arguments point at were read in advance, and the blocks it writes are created in the worker
// when it returns (their offsets are placeholders until then).
import type { CallContext } from '../host-functions.js';
import { u64Bytes, varInt, varText } from '../var-codec.js';
import { PLACEHOLDER_BASE } from './protocol.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class RemoteCallContext implements CallContext {
  readonly hostContext: unknown;
  /** Blocks written by the host function, in order: placeholder PLACEHOLDER_BASE + index. */
  readonly writes: Uint8Array[] = [];
  /** Vars set or deleted (null) by the host function, in order: the worker applies them to the instance. */
  readonly varWrites: [string, Uint8Array | null][] = [];
  readonly #blocks: Map<number, Uint8Array>;
  readonly #vars: Map<string, Uint8Array>;

  constructor(blocks: readonly [number, Uint8Array][], hostContext: unknown, vars: readonly [string, Uint8Array][] = []) {
    this.#blocks = new Map(blocks);
    this.#vars = new Map(vars);
    this.hostContext = hostContext;
  }

  read(offset: bigint | number): Uint8Array | null {
    return this.view(offset)?.slice() ?? null;
  }

  view(offset: bigint | number): Uint8Array | null {
    const n = Number(offset);
    return this.#blocks.get(n) ?? this.writes[n - PLACEHOLDER_BASE] ?? null;
  }

  text(offset: bigint | number): string | null {
    const bytes = this.view(offset);
    return bytes === null ? null : decoder.decode(bytes);
  }

  json<T = unknown>(offset: bigint | number): T | null {
    const text = this.text(offset);
    return text === null ? null : (JSON.parse(text) as T);
  }

  write(data: Uint8Array | string): number {
    const bytes = typeof data === 'string' ? encoder.encode(data) : data.slice();
    if (bytes.length === 0) return 0;
    this.writes.push(bytes);
    return PLACEHOLDER_BASE + this.writes.length - 1;
  }

  writeJson(value: unknown): number {
    return this.write(JSON.stringify(value));
  }

  /** Filled in place through view() and created in the worker with the rest when the host function returns. */
  alloc(length: number): number {
    if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`alloc() takes a byte count, got ${length}`);
    if (length === 0) return 0;
    this.writes.push(new Uint8Array(length));
    return PLACEHOLDER_BASE + this.writes.length - 1;
  }

  length(offset: bigint | number): number {
    return this.view(offset)?.length ?? 0;
  }

  free(): void {
    // the worker's kernel frees what the plug-in frees; nothing to do from here
  }

  getVar(name: string): Uint8Array | undefined {
    return this.#vars.get(name)?.slice();
  }

  getVarText(name: string): string | undefined {
    return varText(this.#vars.get(name));
  }

  getVarInt(name: string): bigint | undefined {
    return varInt(name, this.#vars.get(name));
  }

  /** Seen at once by getVar; the worker applies it (within maxVarBytes) when the host function returns. */
  setVar(name: string, value: Uint8Array | string | undefined): void {
    const bytes = value === undefined ? undefined : typeof value === 'string' ? encoder.encode(value) : value.slice();
    if (bytes === undefined) this.#vars.delete(name);
    else this.#vars.set(name, bytes);
    this.varWrites.push([name, bytes ?? null]);
  }
  setVarInt(name: string, value: bigint | number): void {
    this.setVar(name, u64Bytes(name, value));
  }
}
