import { lstatSync, realpathSync, statSync } from 'node:fs';
import { dirname, sep } from 'node:path';
import { wasi } from '@bjorn3/browser_wasi_shim';
import { errnoOf } from './host-stat.js';

/**
 * How the last component of a path is treated: `follow` resolves a symbolic link there (open and
 * stat with LOOKUPFLAGS_SYMLINK_FOLLOW), `nofollow` leaves it as is, and `entry` names an entry to
 * create, remove or rename, so it is not followed and must be a plain name (not `.` or `..`).
 */
export type LastComponent = 'follow' | 'nofollow' | 'entry';

/**
 * Resolve a guest path to a host path that stays inside the mount `root` (a real path: no links).
 * `base` is the guest's directory, as components relative to root ('' for root itself); `path` is
 * what the guest passed, relative to it. Returns the host path or a WASI errno.
 *
 * The walk starts at root for every call and goes one component at a time: `..` may not climb above
 * root, and a symbolic link met on the way (and at the end when following) must resolve, through
 * realpath, to a place inside root. So a path the guest gives can only lead where the directory
 * tree inside the mount leads, whatever links the host put in it. The path returned has no links
 * in it except, when not following, its last component; callers open it with O_NOFOLLOW.
 */
export function confine(root: string, base: string, path: string, last: LastComponent): string | number {
  if (path === '') return wasi.ERRNO_NOENT;
  if (path.includes('\0')) return wasi.ERRNO_INVAL;
  if (path.startsWith('/')) return wasi.ERRNO_NOTCAPABLE; // WASI paths are relative to a directory fd
  const given = path.split('/').filter((part) => part !== '');
  if (last === 'entry') {
    const name = given.at(-1);
    if (name === undefined || name === '.' || name === '..') return wasi.ERRNO_INVAL;
  }
  const parts = [...(base === '' ? [] : base.split('/')), ...given].filter((part) => part !== '.');
  let current = root;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const final = i === parts.length - 1;
    if (part === '..') {
      if (current === root) return wasi.ERRNO_NOTCAPABLE;
      current = dirname(current); // current never holds a link, so this is its real parent
      continue;
    }
    // a host separator inside a component would be a second component the walk never checked
    if (sep !== '/' && part.includes(sep)) return wasi.ERRNO_NOENT;
    const next = current.endsWith(sep) ? current + part : current + sep + part;
    if (final && last !== 'follow') return next;
    let stats: ReturnType<typeof lstatSync>;
    try {
      stats = lstatSync(next, { throwIfNoEntry: false });
    } catch (error) {
      return errnoOf(error);
    }
    if (stats === undefined) return final ? next : wasi.ERRNO_NOENT;
    if (stats.isSymbolicLink()) {
      let target: string;
      try {
        target = realpathSync(next);
      } catch (error) {
        return errnoOf(error); // dangling (ENOENT) or a loop (ELOOP)
      }
      if (!inside(root, target)) return wasi.ERRNO_NOTCAPABLE;
      if (!final && !isDirectory(target)) return wasi.ERRNO_NOTDIR;
      current = target;
    } else {
      if (!final && !stats.isDirectory()) return wasi.ERRNO_NOTDIR;
      current = next;
    }
  }
  return current;
}

/** True when the real path `path` is `root` or below it. */
export function inside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** `path` (inside root) as components relative to root, joined with '/': what `confine` takes as `base`. */
export function relativeTo(root: string, path: string): string {
  if (path === root) return '';
  return path
    .slice(root.endsWith(sep) ? root.length : root.length + 1)
    .split(sep)
    .join('/');
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
