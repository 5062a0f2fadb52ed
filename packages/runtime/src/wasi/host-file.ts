import { closeSync, fstatSync, fsyncSync, ftruncateSync, readSync, writeSync } from 'node:fs';
import { Fd, wasi } from '@bjorn3/browser_wasi_shim';
import { errnoOf, filestatOf } from './host-stat.js';

/** What an open grants: the guest asked for these rights and the mount allows them. */
export interface FileAccess {
  readonly readable: boolean;
  readonly writable: boolean;
  readonly append: boolean;
  /** The WASI rights reported by fd_fdstat_get. */
  readonly rights: bigint;
}

/** Most bytes one fd_read or fd_pread reads: the guest's buffer length is its word, not ours to allocate. */
const MAX_READ = 1024 * 1024;

// A plug-in that is never closed still gives its descriptors back when it is collected.
const unclosed = new FinalizationRegistry<number>((fd) => {
  try {
    closeSync(fd);
  } catch {
    // already gone with the process's descriptor table
  }
});

/**
 * A regular file of a host mount, open for the guest: a real descriptor, with the position kept
 * here so pread and pwrite never move it. Rights are checked on every call (WASI's model): a file
 * opened without FD_WRITE cannot be written, whatever the host descriptor would allow.
 */
export class HostFile extends Fd {
  #fd: number | undefined;
  #position = 0;
  #append: boolean;
  readonly #access: FileAccess;

  constructor(fd: number, access: FileAccess) {
    super();
    this.#fd = fd;
    this.#access = access;
    this.#append = access.append;
    unclosed.register(this, fd, this);
  }

  override fd_read(size: number): { ret: number; data: Uint8Array } {
    const { ret, data } = this.fd_pread(size, BigInt(this.#position));
    this.#position += data.length;
    return { ret, data };
  }

  override fd_pread(size: number, offset: bigint): { ret: number; data: Uint8Array } {
    if (this.#fd === undefined || !this.#access.readable) return { ret: wasi.ERRNO_BADF, data: EMPTY };
    if (offset > BigInt(Number.MAX_SAFE_INTEGER)) return { ret: wasi.ERRNO_INVAL, data: EMPTY };
    const buffer = Buffer.allocUnsafe(Math.min(size, MAX_READ));
    try {
      const n = readSync(this.#fd, buffer, 0, buffer.length, Number(offset));
      return { ret: 0, data: buffer.subarray(0, n) };
    } catch (error) {
      return { ret: errnoOf(error), data: EMPTY };
    }
  }

  override fd_write(data: Uint8Array): { ret: number; nwritten: number } {
    if (this.#fd === undefined || !this.#access.writable) return { ret: wasi.ERRNO_BADF, nwritten: 0 };
    let at = this.#position;
    if (this.#append) {
      // emulated: Linux ignores pwrite's offset on O_APPEND descriptors, which would break fd_pwrite
      try {
        at = fstatSync(this.#fd).size;
      } catch (error) {
        return { ret: errnoOf(error), nwritten: 0 };
      }
    }
    const result = this.fd_pwrite(data, BigInt(at));
    this.#position = at + result.nwritten;
    return result;
  }

  override fd_pwrite(data: Uint8Array, offset: bigint): { ret: number; nwritten: number } {
    if (this.#fd === undefined || !this.#access.writable) return { ret: wasi.ERRNO_BADF, nwritten: 0 };
    if (offset > BigInt(Number.MAX_SAFE_INTEGER)) return { ret: wasi.ERRNO_FBIG, nwritten: 0 };
    try {
      return { ret: 0, nwritten: writeSync(this.#fd, data, 0, data.length, Number(offset)) };
    } catch (error) {
      return { ret: errnoOf(error), nwritten: 0 };
    }
  }

  override fd_seek(offset: bigint, whence: number): { ret: number; offset: bigint } {
    if (this.#fd === undefined) return { ret: wasi.ERRNO_BADF, offset: 0n };
    let from: number;
    if (whence === wasi.WHENCE_SET) from = 0;
    else if (whence === wasi.WHENCE_CUR) from = this.#position;
    else if (whence === wasi.WHENCE_END) {
      try {
        from = fstatSync(this.#fd).size;
      } catch (error) {
        return { ret: errnoOf(error), offset: 0n };
      }
    } else return { ret: wasi.ERRNO_INVAL, offset: 0n };
    const target = BigInt(from) + offset;
    if (target < 0n || target > BigInt(Number.MAX_SAFE_INTEGER)) return { ret: wasi.ERRNO_INVAL, offset: 0n };
    this.#position = Number(target);
    return { ret: 0, offset: target };
  }

  override fd_tell(): { ret: number; offset: bigint } {
    if (this.#fd === undefined) return { ret: wasi.ERRNO_BADF, offset: 0n };
    return { ret: 0, offset: BigInt(this.#position) };
  }

  override fd_filestat_get(): { ret: number; filestat: wasi.Filestat | null } {
    if (this.#fd === undefined) return { ret: wasi.ERRNO_BADF, filestat: null };
    try {
      return { ret: 0, filestat: filestatOf(fstatSync(this.#fd, { bigint: true })) };
    } catch (error) {
      return { ret: errnoOf(error), filestat: null };
    }
  }

  override fd_filestat_set_size(size: bigint): number {
    if (this.#fd === undefined || !this.#access.writable) return wasi.ERRNO_BADF;
    if (size > BigInt(Number.MAX_SAFE_INTEGER)) return wasi.ERRNO_FBIG;
    try {
      ftruncateSync(this.#fd, Number(size));
      return 0;
    } catch (error) {
      return errnoOf(error);
    }
  }

  override fd_fdstat_get(): { ret: number; fdstat: wasi.Fdstat | null } {
    if (this.#fd === undefined) return { ret: wasi.ERRNO_BADF, fdstat: null };
    const fdstat = new wasi.Fdstat(wasi.FILETYPE_REGULAR_FILE, this.#append ? wasi.FDFLAGS_APPEND : 0);
    fdstat.fs_rights_base = this.#access.rights;
    return { ret: 0, fdstat };
  }

  override fd_fdstat_set_flags(flags: number): number {
    if (this.#fd === undefined) return wasi.ERRNO_BADF;
    this.#append = (flags & wasi.FDFLAGS_APPEND) !== 0; // the other flags mean nothing to a synchronous host
    return 0;
  }

  override fd_sync(): number {
    if (this.#fd === undefined) return wasi.ERRNO_BADF;
    if (!this.#access.writable) return 0;
    try {
      fsyncSync(this.#fd);
      return 0;
    } catch (error) {
      return errnoOf(error);
    }
  }

  override fd_close(): number {
    if (this.#fd === undefined) return 0;
    const fd = this.#fd;
    this.#fd = undefined;
    unclosed.unregister(this);
    try {
      closeSync(fd);
      return 0;
    } catch (error) {
      return errnoOf(error);
    }
  }
}

const EMPTY = new Uint8Array(0);
