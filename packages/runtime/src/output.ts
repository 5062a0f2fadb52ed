import type { Kernel } from './kernel/kernel.js';

/**
 * What a plug-in function returned. It reads straight from Extism memory until the instance's next
 * call (or close), and copies its bytes out only then, or when `bytes()` asks: `call().text()` and
 * `call().json()` decode in place and never allocate a copy.
 */
export class PluginOutput {
  #kernel: Kernel | undefined;
  #offset: number;
  readonly #length: number;
  #bytes: Uint8Array | undefined;

  /** @internal Use Plugin.call(). */
  constructor(kernel: Kernel | undefined, offset: number, length: number) {
    this.#kernel = length === 0 ? undefined : kernel;
    this.#offset = offset;
    this.#length = length;
    if (length === 0) this.#bytes = EMPTY;
  }

  /** @internal An output that already holds its bytes (one that crossed from a worker). */
  static of(bytes: Uint8Array): PluginOutput {
    const output = new PluginOutput(undefined, 0, bytes.length);
    output.#bytes = bytes;
    return output;
  }

  /** Output size in bytes. */
  get length(): number {
    return this.#length;
  }

  /**
   * The output bytes (the caller's to keep). Outputs of 65 bytes to 4 KiB are carved from a 64 KiB
   * slab that other outputs share, as Node's Buffer pool does: read them through `byteOffset` and
   * `byteLength`, and never hand their `.buffer` to anyone (it holds other calls' outputs). Keep
   * a copy (`slice()`) of one you hold for long: the piece keeps its whole slab alive.
   */
  bytes(): Uint8Array {
    this.detach();
    return this.#bytes!;
  }

  /**
   * @internal Bytes whose ArrayBuffer holds this output alone, to transfer or hand on whole (a
   * pool worker, the @extism/extism drop-in); the caller consumes the output.
   */
  ownBytes(): Uint8Array {
    const kernel = this.#kernel;
    if (kernel) return kernel.u8.slice(this.#offset, this.#offset + this.#length);
    const bytes = this.#bytes!;
    return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
  }

  /** The output decoded as UTF-8. */
  text(): string {
    const kernel = this.#kernel;
    return kernel ? kernel.decode(this.#offset, this.#length) : decoder.decode(this.#bytes);
  }

  /** The output parsed as JSON. */
  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }

  toString(): string {
    return this.text();
  }

  /** @internal Copy the bytes out of Extism memory before it is reused. */
  detach(): void {
    const kernel = this.#kernel;
    if (!kernel) return;
    this.#bytes = copyOut(kernel.u8, this.#offset, this.#length);
    this.#kernel = undefined;
  }
}

/** Outputs up to this size share a slab; larger ones get an ArrayBuffer of their own. */
const SLAB_MAX = 4096;
/** Up to this size V8 allocates a typed array's bytes on its own heap, faster than carving a slab. */
const ON_HEAP_MAX = 64;
/** The slab's size: a new ArrayBuffer is what costs, so 1 KiB outputs took 260-590 ns from 16 KiB slabs, 105-140 ns from 64 KiB ones. */
const SLAB_BYTES = 64 * 1024;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

/**
 * A copy of `length` bytes of `source` at `offset`. A new ArrayBuffer of its own costs ~430 ns for
 * 1 KiB (4.3 µs for 4 KiB, as V8 accounts external memory), a piece of a shared slab ~95 ns: small
 * outputs are carved from the slab, whose memory lives as long as any output carved from it.
 */
function copyOut(source: Uint8Array, offset: number, length: number): Uint8Array {
  if (length <= ON_HEAP_MAX || length > SLAB_MAX) return source.slice(offset, offset + length);
  if (slabUsed + length > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const bytes = new Uint8Array(slab, slabUsed, length);
  // 8-byte aligned, so a caller may take a Float64Array or BigUint64Array view of a piece
  slabUsed = (slabUsed + length + 7) & ~7;
  bytes.set(new Uint8Array(source.buffer, offset, length));
  return bytes;
}

const EMPTY = new Uint8Array(0);
const decoder = new TextDecoder();
