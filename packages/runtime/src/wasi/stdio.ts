import { ConsoleStdout, Fd, type wasi } from '@bjorn3/browser_wasi_shim';

/** What a plug-in wrote to WASI stdout and stderr during one call. */
export interface CallStdio {
  /** The first `limits.maxStdioBytes` bytes written to stdout. */
  stdout: Uint8Array;
  /** The first `limits.maxStdioBytes` bytes written to stderr. */
  stderr: Uint8Array;
  /** True when either stream went past `limits.maxStdioBytes` (the rest reached the logger only). */
  truncated: boolean;
}

/** The first `limit` bytes written to one stream during the current call. */
class Capture {
  chunks: Uint8Array[] = [];
  bytes = 0;
  truncated = false;
  readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  add(data: Uint8Array): void {
    const room = this.limit - this.bytes;
    if (data.length > room) this.truncated = true;
    if (room <= 0 || data.length === 0) return;
    // the shim hands each write a copy of guest memory: keeping it is safe
    const kept = data.length > room ? data.subarray(0, room) : data;
    this.chunks.push(kept);
    this.bytes += kept.length;
  }

  reset(): void {
    this.chunks = [];
    this.bytes = 0;
    this.truncated = false;
  }

  bytesWritten(): Uint8Array {
    const out = new Uint8Array(this.bytes);
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }
}

/** A stdout or stderr descriptor: each write is captured, then line-buffered to the logger. */
class CapturedStream extends Fd {
  readonly #capture: Capture;
  readonly #lines: ConsoleStdout;

  constructor(capture: Capture, lines: ConsoleStdout) {
    super();
    this.#capture = capture;
    this.#lines = lines;
  }

  override fd_write(data: Uint8Array): { ret: number; nwritten: number } {
    this.#capture.add(data);
    return this.#lines.fd_write(data);
  }

  override fd_fdstat_get(): { ret: number; fdstat: wasi.Fdstat | null } {
    return this.#lines.fd_fdstat_get();
  }

  override fd_filestat_get(): { ret: number; filestat: wasi.Filestat | null } {
    return this.#lines.fd_filestat_get();
  }
}

/**
 * WASI stdout and stderr of one plug-in instance. It outlives the sandboxes rebuilt after a trap
 * or for `instance: 'fresh'`, so a call's capture holds everything the call wrote.
 */
export class WasiStdio {
  readonly #stdout: Capture;
  readonly #stderr: Capture;
  readonly #logStdout: (line: string) => void;
  readonly #logStderr: (line: string) => void;

  /** `limit`: bytes kept per stream and call; `stdout`/`stderr` receive each complete line. */
  constructor(limit: number, stdout: (line: string) => void, stderr: (line: string) => void) {
    this.#stdout = new Capture(limit);
    this.#stderr = new Capture(limit);
    this.#logStdout = stdout;
    this.#logStderr = stderr;
  }

  /** Descriptors 1 and 2 for a new sandbox. */
  fds(): [Fd, Fd] {
    return [
      new CapturedStream(this.#stdout, ConsoleStdout.lineBuffered(this.#logStdout)),
      new CapturedStream(this.#stderr, ConsoleStdout.lineBuffered(this.#logStderr)),
    ];
  }

  /** Start a call: forget what the previous one wrote. */
  reset(): void {
    this.#stdout.reset();
    this.#stderr.reset();
  }

  /** What the current or last call wrote. */
  result(): CallStdio {
    return {
      stdout: this.#stdout.bytesWritten(),
      stderr: this.#stderr.bytesWritten(),
      truncated: this.#stdout.truncated || this.#stderr.truncated,
    };
  }
}

/** The stdio of a plug-in without WASI, or before its first call. */
export function emptyStdio(): CallStdio {
  return { stdout: new Uint8Array(0), stderr: new Uint8Array(0), truncated: false };
}
