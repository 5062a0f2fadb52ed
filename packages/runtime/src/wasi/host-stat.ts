import type { BigIntStats } from 'node:fs';
import { wasi } from '@bjorn3/browser_wasi_shim';

/** node:fs error codes as WASI errnos (wasi-libc's errno values are the same numbers). */
const ERRNOS: Readonly<Record<string, number>> = {
  EACCES: wasi.ERRNO_ACCES,
  EPERM: wasi.ERRNO_PERM,
  ENOENT: wasi.ERRNO_NOENT,
  EEXIST: wasi.ERRNO_EXIST,
  ENOTDIR: wasi.ERRNO_NOTDIR,
  EISDIR: wasi.ERRNO_ISDIR,
  ENOTEMPTY: wasi.ERRNO_NOTEMPTY,
  ELOOP: wasi.ERRNO_LOOP,
  ENAMETOOLONG: wasi.ERRNO_NAMETOOLONG,
  EXDEV: wasi.ERRNO_XDEV,
  EBADF: wasi.ERRNO_BADF,
  EINVAL: wasi.ERRNO_INVAL,
  ENOSPC: wasi.ERRNO_NOSPC,
  EDQUOT: wasi.ERRNO_DQUOT,
  EFBIG: wasi.ERRNO_FBIG,
  EROFS: wasi.ERRNO_ROFS,
  EMFILE: wasi.ERRNO_MFILE,
  ENFILE: wasi.ERRNO_NFILE,
  EBUSY: wasi.ERRNO_BUSY,
  EAGAIN: wasi.ERRNO_AGAIN,
  ETXTBSY: wasi.ERRNO_TXTBSY,
};

/** The WASI errno for an error node:fs threw; EIO for anything without a code we know. */
export function errnoOf(error: unknown): number {
  const code = (error as { code?: unknown } | null)?.code;
  return (typeof code === 'string' && ERRNOS[code]) || wasi.ERRNO_IO;
}

/** The WASI file type of what `stats` describes. */
export function filetypeOf(stats: {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
}): number {
  if (stats.isFile()) return wasi.FILETYPE_REGULAR_FILE;
  if (stats.isDirectory()) return wasi.FILETYPE_DIRECTORY;
  if (stats.isSymbolicLink()) return wasi.FILETYPE_SYMBOLIC_LINK;
  if (stats.isCharacterDevice()) return wasi.FILETYPE_CHARACTER_DEVICE;
  if (stats.isBlockDevice()) return wasi.FILETYPE_BLOCK_DEVICE;
  if (stats.isSocket()) return wasi.FILETYPE_SOCKET_STREAM;
  return wasi.FILETYPE_UNKNOWN;
}

/** A WASI filestat from node:fs stats read with `{ bigint: true }`. */
export function filestatOf(stats: BigIntStats): wasi.Filestat {
  const filestat = new wasi.Filestat(stats.ino, filetypeOf(stats), stats.size);
  filestat.dev = stats.dev;
  filestat.nlink = stats.nlink;
  filestat.atim = stats.atimeNs;
  filestat.mtim = stats.mtimeNs;
  filestat.ctim = stats.ctimeNs;
  return filestat;
}

/**
 * Write a filestat at `pointer` in the WASI layout (64 bytes: dev, ino, filetype, nlink, size,
 * atim, mtim, ctim). The shim's own writer puts the three timestamps at offsets 38, 46 and 52,
 * over the top of `size`, so every filestat the sandbox returns goes through this one.
 */
export function writeFilestat(view: DataView, pointer: number, filestat: wasi.Filestat): void {
  view.setBigUint64(pointer, filestat.dev, true);
  view.setBigUint64(pointer + 8, filestat.ino, true);
  view.setUint8(pointer + 16, filestat.filetype);
  for (let i = 17; i < 24; i++) view.setUint8(pointer + i, 0);
  view.setBigUint64(pointer + 24, filestat.nlink, true);
  view.setBigUint64(pointer + 32, filestat.size, true);
  view.setBigUint64(pointer + 40, filestat.atim, true);
  view.setBigUint64(pointer + 48, filestat.mtim, true);
  view.setBigUint64(pointer + 56, filestat.ctim, true);
}

/** Every WASI right: directories hand these down, and each open decides what it grants. */
export const ALL_RIGHTS = (1n << 29n) - 1n;
