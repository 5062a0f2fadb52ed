import type { StatePlan } from './exports.js';

/**
 * Largest memory worth restoring, in bytes: a restore writes every byte of it, where a new
 * instance's memory is zero pages the system maps in on first touch, and a new instance costs
 * about as much as restoring 2 to 4 MiB here (bench/sandbox.ts, the 2 MiB-segment row).
 */
const MAX_RESTORE_BYTES = 4 << 20;

/**
 * An instance's whole state as it was once (memory, tables, mutable globals), to bring a used
 * instance back to it: cheaper than a new instance, and as clean (see exposeState for what makes
 * every piece reachable). A memory or table that grew since cannot shrink back: such an instance
 * is not restorable and goes.
 */
export class Snapshot {
  /** A snapshot of the instance with these exports, or undefined when its memory is too large to be worth restoring. */
  static take(exports: WebAssembly.Exports, plan: StatePlan): Snapshot | undefined {
    const memory = plan.memory === undefined ? undefined : (exports[plan.memory] as WebAssembly.Memory);
    return memory && memory.buffer.byteLength > MAX_RESTORE_BYTES ? undefined : new Snapshot(exports, plan);
  }

  readonly #memory: WebAssembly.Memory | undefined;
  /** The memory's bytes up to its last non-zero 64 KiB page; the rest was zeros. */
  readonly #bytes: Uint8Array;
  readonly #memoryBytes: number;
  readonly #tables: readonly { readonly table: WebAssembly.Table; readonly slots: unknown[] }[];
  readonly #globals: readonly { readonly global: WebAssembly.Global; readonly value: unknown }[];

  private constructor(exports: WebAssembly.Exports, plan: StatePlan) {
    this.#memory = plan.memory === undefined ? undefined : (exports[plan.memory] as WebAssembly.Memory);
    const u8 = this.#memory ? new Uint8Array(this.#memory.buffer) : new Uint8Array(0);
    this.#memoryBytes = u8.length;
    this.#bytes = u8.slice(0, usedExtent(u8));
    this.#tables = plan.tables.map((name) => {
      const table = exports[name] as WebAssembly.Table;
      return { table, slots: Array.from({ length: table.length }, (_, i) => table.get(i)) };
    });
    this.#globals = plan.globals.map((name) => {
      const global = exports[name] as WebAssembly.Global;
      return { global, value: global.value };
    });
  }

  /** Bytes of memory the snapshot holds (what a restore copies; the rest it zeroes). */
  get bytes(): number {
    return this.#bytes.length;
  }

  /** Put the instance back as it was; false (and nothing changed) when its memory or a table grew. */
  restore(): boolean {
    const memory = this.#memory;
    if (memory && memory.buffer.byteLength !== this.#memoryBytes) return false;
    for (const { table, slots } of this.#tables) if (table.length !== slots.length) return false;
    if (memory) {
      const u8 = new Uint8Array(memory.buffer);
      u8.set(this.#bytes);
      u8.fill(0, this.#bytes.length);
    }
    for (const { table, slots } of this.#tables) {
      for (let i = 0; i < slots.length; i++) if (table.get(i) !== slots[i]) table.set(i, slots[i]);
    }
    for (const { global, value } of this.#globals) global.value = value;
    return true;
  }
}

/** The end of the last 64 KiB page holding a non-zero byte (a new memory is mostly zeros). */
function usedExtent(u8: Uint8Array): number {
  const words = new Uint32Array(u8.buffer, 0, u8.length >>> 2);
  for (let page = (u8.length >>> 16) - 1; page >= 0; page--) {
    for (let i = page << 14, end = (page + 1) << 14; i < end; i++) if (words[i] !== 0) return (page + 1) << 16;
  }
  return 0;
}
