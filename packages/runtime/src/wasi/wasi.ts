import { WASI, WASIProcExit } from '@bjorn3/browser_wasi_shim';
import { closeAll, fileSystemImports } from './fs-imports.js';
import { HostDirectory } from './host-directory.js';
import { emptyStdin, memoryPreopen } from './memory-fs.js';
import type { Mount } from './mounts.js';
import type { WasiStdio } from './stdio.js';

/** Where a WASI sandbox gets time and randomness, and how it sleeps. */
export interface WasiWorld {
  /** Nanoseconds since the Unix epoch (realtime) or since an arbitrary start (monotonic). */
  now(clock: 'realtime' | 'monotonic'): bigint;
  /** Fill `bytes` with random bytes. */
  random(bytes: Uint8Array): void;
  /** Sleep for `ns` nanoseconds; returns false when the call's deadline does not allow it. */
  sleep(ns: bigint): boolean;
}

/**
 * The host's real clocks and randomness; sleeping blocks the thread (WASI is synchronous). A sleep
 * past the call's deadline (`performance.now()` milliseconds) is refused and `expire` is called.
 */
export function realWorld(deadline: () => number, expire: () => void): WasiWorld {
  const origin = BigInt(Date.now()) * 1_000_000n - BigInt(Math.round(performance.now() * 1e6));
  return {
    now: (clock) => (clock === 'realtime' ? BigInt(Date.now()) * 1_000_000n : BigInt(Math.round(performance.now() * 1e6)) + origin),
    random: (bytes) => {
      for (let i = 0; i < bytes.length; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
    },
    sleep: (ns) => {
      const until = performance.now() + Number(ns) / 1e6;
      if (until > deadline()) {
        expire();
        return false;
      }
      while (performance.now() < until) {
        // a synchronous sleep: the plug-in asked to block this thread
      }
      return true;
    },
  };
}

/**
 * A reproducible world for `deterministic: true`: clocks start at a fixed epoch and advance with
 * the fuel the call has used (1 ns per unit) and with the plug-in's own sleeps; randomness comes
 * from a generator seeded per call. The same input then gives the same output and the same fuel.
 */
export function deterministicWorld(seed: bigint, fuel: () => number): WasiWorld & { reset(): void } {
  let state = seed;
  let slept = 0n;
  return {
    /** Start a call: the clock and the generator begin again. */
    reset(): void {
      state = seed;
      slept = 0n;
    },
    now: () => DETERMINISTIC_EPOCH_NS + BigInt(fuel()) + slept,
    random: (bytes: Uint8Array) => {
      // splitmix64
      for (let i = 0; i < bytes.length; i += 8) {
        state = (state + 0x9e3779b97f4a7c15n) & MASK64;
        let z = state;
        z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
        z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
        z ^= z >> 31n;
        for (let j = 0; j < 8 && i + j < bytes.length; j++) bytes[i + j] = Number((z >> BigInt(8 * j)) & 0xffn);
      }
    },
    sleep: (ns: bigint) => {
      slept += ns;
      return true;
    },
  };
}

/** 2000-01-01T00:00:00Z: the start of every deterministic call's clock. */
const DETERMINISTIC_EPOCH_NS = 946_684_800_000_000_000n;
const MASK64 = (1n << 64n) - 1n;

/**
 * WASI preview 1 for one plug-in instance, as a sandbox: no arguments, no environment, stdin empty,
 * stdout and stderr captured and line-buffered to the host (see WasiStdio); clocks, randomness and
 * sleep come from a {@link WasiWorld}. The only file system is the mounts: host directories the
 * guest cannot leave (HostDirectory) and read-only in-memory files; without mounts there is none.
 *
 * Built on @bjorn3/browser_wasi_shim, a pure-JavaScript WASI that never touches the host's real
 * file system or environment (node:wasi hands the guest real file descriptors and is not a
 * sandbox): host mounts are our own descriptors over node:fs, plugged into the shim. We replace the
 * functions where the shim throws non-Error values, the clock, random and poll functions, so the
 * world is ours to choose, and a few file-system ones (see fileSystemImports).
 */
export class WasiSandbox {
  readonly imports: Record<string, (...args: never[]) => unknown>;
  readonly #wasi: WASI;
  #memory: WebAssembly.Memory | undefined;

  constructor(stdio: WasiStdio, world: WasiWorld, mounts: readonly Mount[] = []) {
    const preopens = mounts.map((mount) => (mount.kind === 'host' ? new HostDirectory(mount, '', true) : memoryPreopen(mount)));
    // the shim turns its console.log tracing on unless told `debug: false` ("wasi: 0 0" on stdout)
    this.#wasi = new WASI([], [], [emptyStdin(), ...stdio.fds(), ...preopens], { debug: false });
    const imports = {
      ...this.#wasi.wasiImport,
      ...fileSystemImports(this.#wasi, () => this.#memory!),
    } as Record<string, (...args: never[]) => unknown>;
    // The shim throws strings here; the ABI answer for "not available" is ENOTSUP.
    for (const name of ['sock_recv', 'sock_send', 'sock_shutdown', 'sock_accept']) imports[name] = () => ERRNO_NOTSUP;
    imports.proc_raise = () => ERRNO_NOTSUP;
    const view = (): DataView => new DataView(this.#memory!.buffer);
    const clockOf = (id: number): 'realtime' | 'monotonic' | undefined =>
      id === 0 ? 'realtime' : id === 1 || id === 2 || id === 3 ? 'monotonic' : undefined;
    imports.clock_time_get = ((id: number, _precision: bigint, out: number) => {
      const clock = clockOf(id);
      if (!clock) return ERRNO_INVAL;
      view().setBigUint64(out, world.now(clock), true);
      return 0;
    }) as never;
    imports.clock_res_get = ((id: number, out: number) => {
      if (!clockOf(id)) return ERRNO_INVAL;
      view().setBigUint64(out, 1000n, true);
      return 0;
    }) as never;
    imports.random_get = ((buf: number, length: number) => {
      world.random(new Uint8Array(this.#memory!.buffer, buf, length));
      return 0;
    }) as never;
    imports.poll_oneoff = ((input: number, output: number, subscriptions: number, events: number) =>
      pollClocks(view(), world, input, output, subscriptions, events)) as never;
    for (const [name, fn] of Object.entries(imports)) imports[name] = faultOnBadAddress(fn);
    this.imports = imports;
  }

  /** Point WASI at the plug-in's memory; called once the main module is instantiated. */
  bind(memory: WebAssembly.Memory | undefined): void {
    this.#memory = memory;
    this.#wasi.inst = { exports: { memory: memory! } };
  }

  /**
   * The WASI imports of a side module: the same context (descriptors, preopens, stdio) as the main
   * module's `imports`, but each call works on the side module's own memory, `module.memory`, set
   * once it is instantiated; the main module's memory is bound again when the call returns.
   */
  importsFor(module: { memory: WebAssembly.Memory | undefined }): Record<string, (...args: never[]) => unknown> {
    const imports: Record<string, (...args: never[]) => unknown> = {};
    for (const [name, fn] of Object.entries(this.imports)) {
      imports[name] = (...args: never[]) => {
        const main = this.#memory;
        this.bind(module.memory);
        try {
          return fn(...args);
        } finally {
          this.bind(main);
        }
      };
    }
    return imports;
  }

  /** The instance is gone: close what it left open (host files hold host descriptors). Idempotent. */
  close(): void {
    closeAll(this.#wasi);
  }
}

/**
 * poll_oneoff for clock subscriptions (what `sleep` compiles to): sleep until the earliest one.
 * Subscriptions to file descriptors get ENOTSUP: the sandbox has no files that could block.
 */
function pollClocks(view: DataView, world: WasiWorld, input: number, output: number, count: number, events: number): number {
  if (count === 0) return ERRNO_INVAL;
  let earliest: { userdata: bigint; ns: bigint } | undefined;
  for (let i = 0; i < count; i++) {
    const at = input + i * 48;
    if (view.getUint8(at + 8) !== 0) return ERRNO_NOTSUP; // not a clock subscription
    const clock = view.getUint32(at + 16, true);
    let ns = view.getBigUint64(at + 24, true);
    if (view.getUint16(at + 40, true) & 1) ns -= world.now(clock === 0 ? 'realtime' : 'monotonic'); // absolute
    if (ns < 0n) ns = 0n;
    if (!earliest || ns < earliest.ns) earliest = { userdata: view.getBigUint64(at, true), ns };
  }
  if (!world.sleep(earliest!.ns)) return ERRNO_INTR;
  view.setBigUint64(output, earliest!.userdata, true);
  view.setUint16(output + 8, 0, true);
  view.setUint8(output + 10, 0);
  view.setUint32(events, 1, true);
  return 0;
}

/**
 * A plug-in's pointer outside its memory makes a DataView or typed array over that memory throw a
 * RangeError, in the shim or in our own functions. WASI's answer to a bad address is EFAULT, and
 * the plug-in goes on; anything else thrown is the host's own failure and propagates (INTERNAL).
 */
function faultOnBadAddress(fn: (...args: never[]) => unknown): (...args: never[]) => unknown {
  return (...args) => {
    try {
      return fn(...args);
    } catch (error) {
      if (error instanceof RangeError && OUT_OF_BOUNDS.test(error.message)) return ERRNO_FAULT;
      throw error;
    }
  };
}

/** V8's messages for an offset or length outside an ArrayBuffer (DataView and typed array constructors and accessors). */
const OUT_OF_BOUNDS = /outside the bounds|out of bounds|Invalid typed array length|Invalid DataView length/;

const ERRNO_FAULT = 21;
const ERRNO_INTR = 27;
const ERRNO_INVAL = 28;
const ERRNO_NOTSUP = 58;

/** The exit code if `error` is a WASI `proc_exit`, else undefined. */
export function wasiExitCode(error: unknown): number | undefined {
  return error instanceof WASIProcExit ? error.code : undefined;
}
