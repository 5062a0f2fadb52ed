import { ConsoleStdout, File, OpenFile, WASI, WASIProcExit } from '@bjorn3/browser_wasi_shim';

/**
 * WASI preview 1 for one plug-in instance, as a sandbox: no preopened directories (so no file
 * system at all), no arguments, no environment, stdin empty, stdout and stderr line-buffered to
 * the host's callbacks. Clocks and randomness are the host's.
 *
 * Built on @bjorn3/browser_wasi_shim, a pure-JavaScript WASI that never touches the host's real
 * file system or environment (node:wasi hands the guest real file descriptors and is not a
 * sandbox). We replace the few functions where the shim throws non-Error values.
 */
export class WasiSandbox {
  readonly imports: Record<string, (...args: never[]) => unknown>;
  readonly #wasi: WASI;

  constructor(stdout: (line: string) => void, stderr: (line: string) => void) {
    const fds = [new OpenFile(new File([])), ConsoleStdout.lineBuffered(stdout), ConsoleStdout.lineBuffered(stderr)];
    this.#wasi = new WASI([], [], fds);
    const imports = { ...this.#wasi.wasiImport } as Record<string, (...args: never[]) => unknown>;
    // The shim throws strings here; the ABI answer for "not available" is ENOTSUP.
    for (const name of ['sock_recv', 'sock_send', 'sock_shutdown', 'sock_accept']) imports[name] = () => ERRNO_NOTSUP;
    imports.proc_raise = () => ERRNO_NOTSUP;
    this.imports = imports;
  }

  /** Point WASI at the plug-in's memory; called once the main module is instantiated. */
  bind(memory: WebAssembly.Memory): void {
    this.#wasi.inst = { exports: { memory } };
  }
}

const ERRNO_NOTSUP = 58;

/** The exit code if `error` is a WASI `proc_exit`, else undefined. */
export function wasiExitCode(error: unknown): number | undefined {
  return error instanceof WASIProcExit ? error.code : undefined;
}
