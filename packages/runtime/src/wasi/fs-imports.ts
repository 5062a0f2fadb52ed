import { type WASI, wasi } from '@bjorn3/browser_wasi_shim';
import { HostDirectory } from './host-directory.js';
import { writeFilestat } from './host-stat.js';

/** Descriptors a plug-in may open beyond its preopens (each open host file holds a host descriptor). */
export const MAX_OPEN_FILES = 128;

const decoder = new TextDecoder('utf-8', { fatal: true });

type Import = (...args: never[]) => unknown;

/**
 * The file-system imports the sandbox answers itself instead of the shim:
 * - path_open reuses the lowest free descriptor (the shim appends forever) and caps how many are
 *   open, so a plug-in cannot use up the host process's descriptors (EMFILE past the cap);
 * - path_rename between host directories is one rename(2), within one mount (EXDEV across mounts);
 *   the shim's unlink-then-link works on its in-memory inodes only;
 * - path_symlink is refused with EPERM: a guest-made link could point anywhere;
 * - fd_filestat_get and path_filestat_get write the filestat at the right offsets (see writeFilestat).
 * Paths must be valid UTF-8 (EILSEQ otherwise): a lossy decode could name a file the guest did not.
 */
export function fileSystemImports(shim: WASI, memory: () => WebAssembly.Memory): Record<string, Import> {
  const lastSlot = shim.fds.length + MAX_OPEN_FILES;
  const text = (pointer: number, length: number): string | number => {
    try {
      return decoder.decode(new Uint8Array(memory().buffer, pointer, length));
    } catch (error) {
      return error instanceof RangeError ? wasi.ERRNO_FAULT : wasi.ERRNO_ILSEQ;
    }
  };
  const freeSlot = (): number | undefined => {
    for (let slot = 3; slot < lastSlot; slot++) if (shim.fds[slot] === undefined) return slot;
    return undefined;
  };
  const path_open = (
    fd: number,
    dirflags: number,
    pathPointer: number,
    pathLength: number,
    oflags: number,
    rightsBase: bigint,
    rightsInheriting: bigint,
    fdflags: number,
    openedPointer: number,
  ): number => {
    const dir = shim.fds[fd];
    if (!dir) return wasi.ERRNO_BADF;
    const path = text(pathPointer, pathLength);
    if (typeof path === 'number') return path;
    const slot = freeSlot();
    if (slot === undefined) return wasi.ERRNO_MFILE;
    const { ret, fd_obj } = dir.path_open(dirflags, path, oflags, rightsBase, rightsInheriting, fdflags);
    if (ret !== 0 || !fd_obj) return ret || wasi.ERRNO_IO;
    shim.fds[slot] = fd_obj;
    new DataView(memory().buffer).setUint32(openedPointer, slot, true);
    return 0;
  };
  const path_rename = (fd: number, oldPointer: number, oldLength: number, newFd: number, newPointer: number, newLength: number): number => {
    const from = shim.fds[fd];
    const to = shim.fds[newFd];
    if (!from || !to) return wasi.ERRNO_BADF;
    if (!(from instanceof HostDirectory) && !(to instanceof HostDirectory)) {
      return shim.wasiImport.path_rename!(fd, oldPointer, oldLength, newFd, newPointer, newLength) as number;
    }
    if (!(from instanceof HostDirectory && to instanceof HostDirectory)) return wasi.ERRNO_XDEV;
    const oldPath = text(oldPointer, oldLength);
    if (typeof oldPath === 'number') return oldPath;
    const newPath = text(newPointer, newLength);
    if (typeof newPath === 'number') return newPath;
    return from.rename(oldPath, to, newPath);
  };
  const path_symlink = (_oldPointer: number, _oldLength: number, fd: number): number => (shim.fds[fd] ? wasi.ERRNO_PERM : wasi.ERRNO_BADF);
  const fd_filestat_get = (fd: number, pointer: number): number => {
    const file = shim.fds[fd];
    if (!file) return wasi.ERRNO_BADF;
    const { ret, filestat } = file.fd_filestat_get();
    if (filestat) writeFilestat(new DataView(memory().buffer), pointer, filestat);
    return ret;
  };
  const path_filestat_get = (fd: number, flags: number, pathPointer: number, pathLength: number, pointer: number): number => {
    const dir = shim.fds[fd];
    if (!dir) return wasi.ERRNO_BADF;
    const path = text(pathPointer, pathLength);
    if (typeof path === 'number') return path;
    const { ret, filestat } = dir.path_filestat_get(flags, path);
    if (filestat) writeFilestat(new DataView(memory().buffer), pointer, filestat);
    return ret;
  };
  return { path_open, path_rename, path_symlink, fd_filestat_get, path_filestat_get };
}

/** Close every descriptor of a sandbox whose instance is gone (host files give back their host descriptors). */
export function closeAll(shim: WASI): void {
  for (const fd of shim.fds) fd?.fd_close();
  shim.fds.length = 0;
}
