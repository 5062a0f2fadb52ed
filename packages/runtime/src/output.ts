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

  /** The output bytes (the caller's to keep). */
  bytes(): Uint8Array {
    this.detach();
    return this.#bytes!;
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
    this.#bytes = kernel.u8.slice(this.#offset, this.#offset + this.#length);
    this.#kernel = undefined;
  }
}

const EMPTY = new Uint8Array(0);
const decoder = new TextDecoder();
