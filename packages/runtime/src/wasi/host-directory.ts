import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmdirSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { Fd, wasi } from '@bjorn3/browser_wasi_shim';
import { confine, type LastComponent, relativeTo } from './confine.js';
import { HostFile } from './host-file.js';
import { ALL_RIGHTS, errnoOf, filestatOf, filetypeOf } from './host-stat.js';
import type { HostMount } from './mounts.js';

const LOOKUP_SYMLINK_FOLLOW = 1;
const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_NOFOLLOW, O_NONBLOCK } = constants;

/**
 * A directory of a host mount, open for the guest (the mount's root is its preopen). It holds no
 * host descriptor, only its place in the mount: every path the guest passes is resolved again from
 * the mount's root by `confine`, so nothing reaches outside it. A read-only mount answers EROFS to
 * anything that would change it.
 */
export class HostDirectory extends Fd {
  readonly #mount: HostMount;
  /** This directory's path below the mount's root, '/'-separated ('' for the root). */
  readonly #base: string;
  readonly #preopen: boolean;
  /** The entries fd_readdir hands out, read again whenever the guest starts over at cookie 0. */
  #listing: wasi.Dirent[] | undefined;

  constructor(mount: HostMount, base: string, preopen: boolean) {
    super();
    this.#mount = mount;
    this.#base = base;
    this.#preopen = preopen;
  }

  #resolve(path: string, last: LastComponent): string | number {
    return confine(this.#mount.hostPath, this.#base, path, last);
  }

  override fd_prestat_get(): { ret: number; prestat: wasi.Prestat | null } {
    if (!this.#preopen) return { ret: wasi.ERRNO_BADF, prestat: null };
    return { ret: 0, prestat: wasi.Prestat.dir(this.#mount.guestPath) };
  }

  override fd_fdstat_get(): { ret: number; fdstat: wasi.Fdstat | null } {
    const fdstat = new wasi.Fdstat(wasi.FILETYPE_DIRECTORY, 0);
    // wasi-libc asks for (what it wants & what is inheritable): offering everything lets each open say what it means
    fdstat.fs_rights_base = ALL_RIGHTS;
    fdstat.fs_rights_inherited = ALL_RIGHTS;
    return { ret: 0, fdstat };
  }

  override fd_filestat_get(): { ret: number; filestat: wasi.Filestat | null } {
    return this.path_filestat_get(LOOKUP_SYMLINK_FOLLOW, '.');
  }

  override path_filestat_get(flags: number, path: string): { ret: number; filestat: wasi.Filestat | null } {
    const target = this.#resolve(path, flags & LOOKUP_SYMLINK_FOLLOW ? 'follow' : 'nofollow');
    if (typeof target === 'number') return { ret: target, filestat: null };
    try {
      return { ret: 0, filestat: filestatOf(lstatSync(target, { bigint: true })) };
    } catch (error) {
      return { ret: errnoOf(error), filestat: null };
    }
  }

  override path_open(
    dirflags: number,
    path: string,
    oflags: number,
    rightsBase: bigint,
    _rightsInheriting: bigint,
    fdflags: number,
  ): { ret: number; fd_obj: Fd | null } {
    const create = (oflags & wasi.OFLAGS_CREAT) !== 0;
    const exclusive = create && (oflags & wasi.OFLAGS_EXCL) !== 0;
    const truncate = (oflags & wasi.OFLAGS_TRUNC) !== 0;
    const readable = (rightsBase & BigInt(wasi.RIGHTS_FD_READ)) !== 0n;
    const writable = (rightsBase & BigInt(wasi.RIGHTS_FD_WRITE)) !== 0n;
    if (this.#mount.readOnly && (create || truncate || writable)) return { ret: wasi.ERRNO_ROFS, fd_obj: null };
    const target = this.#resolve(path, dirflags & LOOKUP_SYMLINK_FOLLOW ? 'follow' : 'nofollow');
    if (typeof target === 'number') return { ret: target, fd_obj: null };
    let stats: ReturnType<typeof lstatSync>;
    try {
      stats = lstatSync(target, { throwIfNoEntry: false });
    } catch (error) {
      return { ret: errnoOf(error), fd_obj: null };
    }
    if (stats === undefined) {
      if (!create) return { ret: wasi.ERRNO_NOENT, fd_obj: null };
      if (oflags & wasi.OFLAGS_DIRECTORY) return { ret: wasi.ERRNO_INVAL, fd_obj: null }; // as Linux: O_CREAT makes files
    } else {
      if (exclusive) return { ret: wasi.ERRNO_EXIST, fd_obj: null };
      if (stats.isSymbolicLink()) return { ret: wasi.ERRNO_LOOP, fd_obj: null }; // O_NOFOLLOW on a link
      if (stats.isDirectory()) {
        if (writable || truncate) return { ret: wasi.ERRNO_ISDIR, fd_obj: null };
        return { ret: 0, fd_obj: new HostDirectory(this.#mount, relativeTo(this.#mount.hostPath, target), false) };
      }
      if (oflags & wasi.OFLAGS_DIRECTORY) return { ret: wasi.ERRNO_NOTDIR, fd_obj: null };
      // FIFOs and devices could block the thread or reach the host beyond the mount
      if (!stats.isFile()) return { ret: wasi.ERRNO_ACCES, fd_obj: null };
    }
    const mode = writable ? (readable ? O_RDWR : O_WRONLY) : O_RDONLY;
    // O_NOFOLLOW: the last component was checked, and must not have become a link since;
    // O_NONBLOCK: one that became a FIFO since then does not block the open
    const flags = mode | O_NOFOLLOW | O_NONBLOCK | (create ? O_CREAT : 0) | (exclusive ? O_EXCL : 0) | (truncate ? O_TRUNC : 0);
    let fd: number;
    try {
      fd = openSync(target, flags, 0o666);
    } catch (error) {
      return { ret: errnoOf(error), fd_obj: null };
    }
    let regular: boolean;
    try {
      regular = fstatSync(fd).isFile();
    } catch {
      regular = false;
    }
    if (!regular) {
      closeSync(fd);
      return { ret: wasi.ERRNO_ACCES, fd_obj: null };
    }
    const append = (fdflags & wasi.FDFLAGS_APPEND) !== 0;
    return { ret: 0, fd_obj: new HostFile(fd, { readable, writable, append, rights: rightsBase & ALL_RIGHTS }) };
  }

  override fd_readdir_single(cookie: bigint): { ret: number; dirent: wasi.Dirent | null } {
    if (cookie === 0n || this.#listing === undefined) {
      const listing = this.#list();
      if (typeof listing === 'number') return { ret: listing, dirent: null };
      this.#listing = listing;
    }
    return { ret: 0, dirent: cookie < BigInt(this.#listing.length) ? this.#listing[Number(cookie)]! : null };
  }

  #list(): wasi.Dirent[] | number {
    const path = this.#resolve('.', 'follow');
    if (typeof path === 'number') return path;
    try {
      const own = statSync(path, { bigint: true }).ino;
      // the root's parent is outside the mount: it shows as the root itself
      const parent = this.#base === '' ? own : statSync(dirname(path), { bigint: true }).ino;
      const names = readdirSync(path).sort();
      const entries: [string, bigint, number][] = [
        ['.', own, wasi.FILETYPE_DIRECTORY],
        ['..', parent, wasi.FILETYPE_DIRECTORY],
      ];
      for (const name of names) {
        const stats = lstatSync(join(path, name), { bigint: true, throwIfNoEntry: false });
        if (stats) entries.push([name, stats.ino, filetypeOf(stats)]);
      }
      return entries.map(([name, ino, type], i) => new wasi.Dirent(BigInt(i + 1), ino, name, type));
    } catch (error) {
      return errnoOf(error);
    }
  }

  override path_create_directory(path: string): number {
    return this.#change(path, (target) => mkdirSync(target));
  }

  override path_remove_directory(path: string): number {
    return this.#change(path, (target) => rmdirSync(target));
  }

  override path_unlink_file(path: string): number {
    return this.#change(path, (target) => {
      if (lstatSync(target).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      unlinkSync(target);
    });
  }

  /** Rename an entry to `newPath` in `to`; both must be in the same mount (EXDEV otherwise, as across devices). */
  rename(oldPath: string, to: HostDirectory, newPath: string): number {
    if (to.#mount !== this.#mount) return wasi.ERRNO_XDEV;
    const destination = to.#resolve(newPath, 'entry');
    if (typeof destination === 'number') return destination;
    return this.#change(oldPath, (source) => renameSync(source, destination));
  }

  // Links would let a guest name one file from two places, and symbolic ones could point anywhere.
  override path_link(): number {
    return wasi.ERRNO_PERM;
  }

  override path_lookup(): { ret: number; inode_obj: null } {
    return { ret: wasi.ERRNO_PERM, inode_obj: null };
  }

  /** Apply a change to the entry `path` names: EROFS on a read-only mount, the errno node:fs gives otherwise. */
  #change(path: string, change: (target: string) => void): number {
    if (this.#mount.readOnly) return wasi.ERRNO_ROFS;
    const target = this.#resolve(path, 'entry');
    if (typeof target === 'number') return target;
    try {
      change(target);
      return 0;
    } catch (error) {
      return errnoOf(error);
    }
  }
}
