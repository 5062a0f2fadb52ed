import { kernelBinary } from './binary.js';

/** The kernel's exports as the host sees them; the i64 ones are linked straight into plug-ins. */
export interface KernelExports {
  readonly host_begin: (length: number) => number;
  readonly host_wipe: () => void;
  readonly host_detach_views: () => void;
  readonly host_alloc: (length: number) => number;
  readonly host_alloc_zeroed: (length: number) => number;
  readonly host_free: (offset: number) => void;
  readonly host_length: (offset: number) => number;
  readonly host_output: () => number;
  readonly host_output_length: () => number;
  readonly host_error: () => number;
  readonly host_set_error: (offset: number) => void;
  readonly host_set_log_level: (level: number) => void;
  readonly host_set_http_status: (status: number) => void;
  readonly host_heap_bytes: () => number;
  readonly [name: string]: unknown;
}

/** The functions a kernel calls out to; offsets are i32 kernel addresses (0 is null, -1 invalid). */
export interface KernelHost {
  config_get(key: number): number;
  var_get(key: number): number;
  var_set(key: number, value: number): void;
  log(level: number, message: number): void;
  http_request(request: number, body: number): number;
  http_headers(): number;
}

/**
 * The `extism:host/env` names the kernel serves in its own WebAssembly: they can trap but not
 * throw, and never call out to JavaScript.
 */
export const KERNEL_WASM_ONLY: ReadonlySet<string> = new Set([
  'alloc',
  'free',
  'length',
  'length_unsafe',
  'load_u8',
  'load_u64',
  'store_u8',
  'store_u64',
  'input_length',
  'input_offset',
  'input_load_u8',
  'input_load_u64',
  'output_set',
  'error_set',
  'error_get',
  'output_offset',
  'output_length',
  'input_set',
  'reset',
  'memory_bytes',
  'get_log_level',
  'http_status_code',
]);

/** The `extism:host/env` names a plug-in may import, all served by the kernel: those above, and those that call out through KernelHost. */
export const KERNEL_IMPORTS: readonly string[] = [
  ...KERNEL_WASM_ONLY,
  'config_get',
  'var_get',
  'var_set',
  'http_request',
  'http_headers',
  'log_trace',
  'log_debug',
  'log_info',
  'log_warn',
  'log_error',
];

/** The host of a kernel no instance uses: plug-ins cannot call it, so it is never reached. */
const NO_HOST: KernelHost = {
  config_get: () => 0,
  var_get: () => 0,
  var_set: () => {},
  log: () => {},
  http_request: () => 0,
  http_headers: () => 0,
};

let compiled: WebAssembly.Module | undefined;

/** The kernel module, compiled once per process. */
function kernelModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(kernelBinary);
  return compiled;
}

const decoder = new TextDecoder();

/**
 * One kernel instance: Extism memory for one plug-in instance. Reads copy out of kernel memory;
 * `bytesView` returns a view that is valid only until the next allocation.
 */
export class Kernel {
  readonly exports: KernelExports;
  /** The `extism:host/env` import object for plug-ins linked to this kernel. */
  readonly env: Record<string, WebAssembly.ExportValue>;
  readonly memory: WebAssembly.Memory;
  #u8: Uint8Array;
  #buffer: Buffer;

  /** Who answers the kernel's host calls: the plug-in instance using it now. */
  host: KernelHost = NO_HOST;

  /** A kernel whose memory may hold `maxPages` pages of 64 KiB (unlimited when undefined). */
  constructor(maxPages: number | undefined) {
    this.memory = new WebAssembly.Memory(maxPages === undefined ? { initial: 1 } : { initial: 1, maximum: Math.max(1, maxPages) });
    // Kernels are pooled and change hosts, so the imports look the host up on each call.
    const instance = new WebAssembly.Instance(kernelModule(), {
      host: {
        memory: this.memory,
        config_get: (key: number) => this.host.config_get(key),
        var_get: (key: number) => this.host.var_get(key),
        var_set: (key: number, value: number) => this.host.var_set(key, value),
        log: (level: number, message: number) => this.host.log(level, message),
        http_request: (request: number, body: number) => this.host.http_request(request, body),
        http_headers: () => this.host.http_headers(),
      },
    });
    this.exports = instance.exports as unknown as KernelExports;
    const env: Record<string, WebAssembly.ExportValue> = {};
    for (const name of KERNEL_IMPORTS) env[name] = instance.exports[name] as WebAssembly.ExportValue;
    this.env = env;
    this.#u8 = new Uint8Array(this.memory.buffer);
    this.#buffer = Buffer.from(this.memory.buffer);
  }

  /** Detach from the instance that used it: forget its blocks, zero its bytes and stop answering its calls. */
  release(): void {
    this.host = NO_HOST;
    this.exports.host_wipe();
  }

  /**
   * Detach every view of kernel memory handed out so far (they read as empty from now on): growing
   * a memory by 0 pages replaces its ArrayBuffer, as the JS API specifies for every grow. The
   * kernel's own memory.grow is the cheaper of the two; Memory.grow(0) is the fallback for an
   * engine that would keep the buffer on an instruction that grows by nothing.
   */
  detachViews(): void {
    const u8 = this.u8;
    this.exports.host_detach_views();
    if (u8.byteLength !== 0) this.memory.grow(0);
  }

  /** Forget every block and zero all of Extism memory (~2 µs for the first 64 KiB page). */
  wipe(): void {
    this.exports.host_wipe();
  }

  /** The whole kernel memory; re-taken after a grow detached the old buffer. */
  get u8(): Uint8Array {
    if (this.#u8.byteLength === 0) this.#u8 = new Uint8Array(this.memory.buffer);
    return this.#u8;
  }

  /** Start a call whose input is `text` as UTF-8; false when memory cannot hold it. */
  beginText(text: string): boolean {
    if (text.length <= 64) {
      const offset = this.exports.host_begin(text.length);
      if (offset < 0) return false;
      if (this.#copyAscii(text, offset)) return true;
    }
    const length = Buffer.byteLength(text);
    const offset = this.exports.host_begin(length);
    if (offset < 0) return false;
    this.#utf8Write(text, offset, length);
    return true;
  }

  /** Start a call whose input is `bytes`; false when memory cannot hold it. */
  begin(bytes: Uint8Array): boolean {
    const offset = this.exports.host_begin(bytes.length);
    if (offset < 0) return false;
    if (bytes.length > 0) this.u8.set(bytes, offset);
    return true;
  }

  /** Length of the live block at `offset`, or 0 when `offset` is not one. */
  length(offset: number): number {
    return this.exports.host_length(offset) >>> 0;
  }

  /** `length` bytes at `offset` decoded as UTF-8; short ASCII strings skip TextDecoder (~90 ns). */
  decode(offset: number, length: number): string {
    const u8 = this.u8;
    if (length <= 32) {
      let text = '';
      for (let i = offset, end = offset + length; i < end; i++) {
        const c = u8[i]!;
        if (c > 0x7f) return decoder.decode(u8.subarray(offset, offset + length));
        text += String.fromCharCode(c);
      }
      return text;
    }
    return decoder.decode(u8.subarray(offset, offset + length));
  }

  /** A view of the block at `offset`, valid until the next allocation; null when it is not a live block. */
  view(offset: number): Uint8Array | null {
    const length = this.length(offset);
    return length === 0 ? null : this.u8.subarray(offset, offset + length);
  }

  /** A copy of the block at `offset`, or null when it is not a live block. */
  read(offset: number): Uint8Array | null {
    const length = this.length(offset);
    // Blocks are never empty (alloc(0) is null), so a zero length always means "not a block".
    if (length === 0) return null;
    return this.u8.slice(offset, offset + length);
  }

  /** The block at `offset` decoded as UTF-8, or null when it is not a live block. */
  readText(offset: number): string | null {
    const length = this.length(offset);
    return length === 0 ? null : this.decode(offset, length);
  }

  /** Allocate a block holding `bytes`; 0 for empty bytes; -1 when memory is exhausted. */
  write(bytes: Uint8Array): number {
    const length = bytes.length;
    if (length === 0) return 0;
    // `bytes` may be a view of this very memory, which the allocation can grow, detaching it: then
    // its bytes are still where it showed them. (Not `bytes.buffer === ...`: reading the buffer of a
    // small array V8 keeps on its heap moves it off the heap, ~100 ns of a call's var_get.)
    const at = bytes.byteOffset;
    const offset = this.exports.host_alloc(length);
    if (offset === 0) return -1;
    if (bytes.length === length) this.u8.set(bytes, offset);
    else this.u8.copyWithin(offset, at, at + length);
    return offset;
  }

  /** Allocate a zeroed block of `length` (> 0) bytes; -1 when memory is exhausted. */
  alloc(length: number): number {
    const offset = this.exports.host_alloc_zeroed(length);
    return offset === 0 ? -1 : offset;
  }

  /** Allocate a block holding `text` as UTF-8; 0 for an empty string; -1 when memory is exhausted. */
  writeText(text: string): number {
    const length = Buffer.byteLength(text);
    if (length === 0) return 0;
    const offset = this.exports.host_alloc(length);
    if (offset === 0) return -1;
    if (length > 64 || !this.#copyAscii(text, offset)) this.#utf8Write(text, offset, length);
    return offset;
  }

  /** Copy `text` byte for byte if it is ASCII (TextEncoder and Buffer cost 60-400 ns a call here); false at the first non-ASCII character. */
  #copyAscii(text: string, offset: number): boolean {
    const u8 = this.u8;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) return false;
      u8[offset + i] = c;
    }
    return true;
  }

  #utf8Write(text: string, offset: number, length: number): void {
    if (this.#buffer.byteLength === 0) this.#buffer = Buffer.from(this.memory.buffer);
    this.#buffer.write(text, offset, length, 'utf8');
  }

  free(offset: number): void {
    this.exports.host_free(offset);
  }
}
