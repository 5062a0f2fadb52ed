import { kernelBinary } from './binary.js';

/** The kernel's exports as the host sees them; the i64 ones are linked straight into plug-ins. */
export interface KernelExports {
  readonly host_begin: (length: number) => number;
  readonly host_alloc: (length: number) => number;
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

/** The `extism:host/env` names a plug-in may import, all served by the kernel. */
export const KERNEL_IMPORTS: readonly string[] = [
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

let compiled: WebAssembly.Module | undefined;

/** The kernel module, compiled once per process. */
function kernelModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(kernelBinary);
  return compiled;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

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

  constructor(host: KernelHost, maxPages: number | undefined) {
    this.memory = new WebAssembly.Memory(maxPages === undefined ? { initial: 1 } : { initial: 1, maximum: Math.max(1, maxPages) });
    const instance = new WebAssembly.Instance(kernelModule(), {
      host: {
        memory: this.memory,
        config_get: host.config_get,
        var_get: host.var_get,
        var_set: host.var_set,
        log: host.log,
        http_request: host.http_request,
        http_headers: host.http_headers,
      },
    });
    this.exports = instance.exports as unknown as KernelExports;
    const env: Record<string, WebAssembly.ExportValue> = {};
    for (const name of KERNEL_IMPORTS) env[name] = instance.exports[name] as WebAssembly.ExportValue;
    this.env = env;
    this.#u8 = new Uint8Array(this.memory.buffer);
    this.#buffer = Buffer.from(this.memory.buffer);
  }

  /** The whole kernel memory; re-taken after a grow detached the old buffer. */
  get u8(): Uint8Array {
    if (this.#u8.byteLength === 0) this.#u8 = new Uint8Array(this.memory.buffer);
    return this.#u8;
  }

  /** Start a call whose input is `text` as UTF-8; false when memory cannot hold it. */
  beginText(text: string): boolean {
    // Short ASCII strings are copied by hand: TextEncoder and Buffer cost 60-400 ns a call here.
    const n = text.length;
    if (n <= 64) {
      const offset = this.exports.host_begin(n);
      if (offset < 0) return false;
      const u8 = this.u8;
      let i = 0;
      for (; i < n; i++) {
        const c = text.charCodeAt(i);
        if (c > 0x7f) break;
        u8[offset + i] = c;
      }
      if (i === n) return true;
    }
    const length = Buffer.byteLength(text);
    const offset = this.exports.host_begin(length);
    if (offset < 0) return false;
    if (this.#buffer.byteLength === 0) this.#buffer = Buffer.from(this.memory.buffer);
    this.#buffer.write(text, offset, length, 'utf8');
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
    if (length === 0) return null;
    return decoder.decode(this.u8.subarray(offset, offset + length));
  }

  /** Allocate a block holding `bytes`; 0 for empty bytes; -1 when memory is exhausted. */
  write(bytes: Uint8Array): number {
    if (bytes.length === 0) return 0;
    const offset = this.exports.host_alloc(bytes.length);
    if (offset === 0) return -1;
    this.u8.set(bytes, offset);
    return offset;
  }

  /** Allocate a block holding `text` as UTF-8; 0 for an empty string; -1 when memory is exhausted. */
  writeText(text: string): number {
    return this.write(encoder.encode(text));
  }

  free(offset: number): void {
    this.exports.host_free(offset);
  }
}
