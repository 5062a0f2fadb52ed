import { Directory, type Fd, File, type Inode, OpenDirectory, OpenFile, wasi } from '@bjorn3/browser_wasi_shim';
import { ALL_RIGHTS } from './host-stat.js';
import type { MemoryMount } from './mounts.js';

/**
 * In-memory files on the shim's own classes, made read-only all the way down. The shim's files
 * grow on fd_allocate and fd_filestat_set_size even when marked read-only, and its directories
 * create entries on O_CREAT: either would let a guest make the host allocate without bound.
 */

/** A read-only open file: the shim's, without the calls that resize it. */
class MemoryOpenFile extends OpenFile {
  override fd_allocate(): number {
    return wasi.ERRNO_BADF;
  }

  override fd_filestat_set_size(): number {
    return wasi.ERRNO_BADF;
  }
}

/** A file whose bytes every instance shares: nothing can write them (fd_write sees `readonly`). */
class MemoryFile extends File {
  constructor(data: Uint8Array) {
    super(new Uint8Array(0), { readonly: true });
    this.data = data;
  }

  override path_open(): { ret: number; fd_obj: OpenFile } {
    return { ret: 0, fd_obj: new MemoryOpenFile(this) };
  }
}

class MemoryDirectory extends Directory {
  override path_open(): { ret: number; fd_obj: OpenDirectory } {
    return { ret: 0, fd_obj: new MemoryDirectoryFd(this, undefined) };
  }
}

/** An open in-memory directory (a preopen when it has a name): EROFS to every change. */
class MemoryDirectoryFd extends OpenDirectory {
  readonly #name: string | undefined;

  constructor(dir: Directory, name: string | undefined) {
    super(dir);
    this.#name = name;
  }

  override fd_prestat_get(): { ret: number; prestat: wasi.Prestat | null } {
    if (this.#name === undefined) return { ret: wasi.ERRNO_BADF, prestat: null };
    return { ret: 0, prestat: wasi.Prestat.dir(this.#name) };
  }

  override fd_fdstat_get(): { ret: number; fdstat: wasi.Fdstat | null } {
    const fdstat = new wasi.Fdstat(wasi.FILETYPE_DIRECTORY, 0);
    // so that wasi-libc passes FD_WRITE when it means to write, and the open can answer EROFS
    fdstat.fs_rights_base = ALL_RIGHTS;
    fdstat.fs_rights_inherited = ALL_RIGHTS;
    return { ret: 0, fdstat };
  }

  override path_open(
    dirflags: number,
    path: string,
    oflags: number,
    rightsBase: bigint,
    rightsInheriting: bigint,
    fdflags: number,
  ): { ret: number; fd_obj: Fd | null } {
    if (oflags & (wasi.OFLAGS_CREAT | wasi.OFLAGS_TRUNC) || rightsBase & BigInt(wasi.RIGHTS_FD_WRITE)) {
      return { ret: wasi.ERRNO_ROFS, fd_obj: null };
    }
    return super.path_open(dirflags, path, oflags, rightsBase, rightsInheriting, fdflags);
  }

  override path_create_directory(): number {
    return wasi.ERRNO_ROFS;
  }

  override path_link(): number {
    return wasi.ERRNO_ROFS;
  }

  override path_unlink(): { ret: number; inode_obj: Inode | null } {
    return { ret: wasi.ERRNO_ROFS, inode_obj: null };
  }

  override path_unlink_file(): number {
    return wasi.ERRNO_ROFS;
  }

  override path_remove_directory(): number {
    return wasi.ERRNO_ROFS;
  }
}

type Tree = Map<string, Tree | Uint8Array>;

/** The preopen for one in-memory mount: a fresh directory tree over the mount's (shared) bytes. */
export function memoryPreopen(mount: MemoryMount): Fd {
  const tree: Tree = new Map();
  for (const [path, bytes] of mount.files) {
    const parts = path.split('/');
    let node = tree;
    for (const part of parts.slice(0, -1)) {
      const child = node.get(part);
      const next: Tree = child instanceof Map ? child : new Map();
      node.set(part, next);
      node = next;
    }
    node.set(parts.at(-1)!, bytes);
  }
  return new MemoryDirectoryFd(directory(tree), mount.guestPath);
}

function directory(tree: Tree): MemoryDirectory {
  return new MemoryDirectory(
    [...tree].map(([name, node]): [string, Inode] => [name, node instanceof Map ? directory(node) : new MemoryFile(node)]),
  );
}

/** An empty, read-only stdin. */
export function emptyStdin(): Fd {
  return new MemoryFile(new Uint8Array(0)).path_open().fd_obj;
}
