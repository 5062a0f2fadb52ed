import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ManifestError } from '../errors.js';

/** A host directory the guest sees at `guestPath` (Extism's `allowed_paths` entry). */
export interface HostMount {
  readonly kind: 'host';
  /** Absolute, normalized: `/data`. */
  readonly guestPath: string;
  /** The directory's real path on the host (links resolved once, when the plug-in is compiled). */
  readonly hostPath: string;
  /** From the `ro:` prefix: the guest may read, never change. */
  readonly readOnly: boolean;
}

/** Files given in memory (the `files` option) under one top-level guest directory; always read-only. */
export interface MemoryMount {
  readonly kind: 'memory';
  readonly guestPath: string;
  /** Path below `guestPath` ('/'-separated) -> contents. */
  readonly files: ReadonlyMap<string, Uint8Array>;
}

/** One WASI preopen. */
export type Mount = HostMount | MemoryMount;

const PATHS = 'allowed_paths';
const FILES = 'files';
const encoder = new TextEncoder();

/**
 * Check `allowedPaths` (host directory -> guest path, `ro:` prefix for read-only) and `files`
 * (guest file path -> contents) and turn them into preopens. Relative host directories resolve
 * against `baseDir` (default: the current directory), as Extism's runtime resolves them against
 * its working directory. Throws ManifestError when a directory is missing or a path is unusable.
 */
export function resolveMounts(allowedPaths: unknown, files: unknown, wasi: boolean, baseDir: string | undefined): Mount[] {
  const mounts: Mount[] = [];
  for (const [key, guest] of entries(allowedPaths, 'allowedPaths', 'host directory -> guest path')) {
    if (!wasi) throw new ManifestError(PATHS, `maps "${key}" into WASI's file system, which needs wasi: true (or --wasi)`);
    if (typeof guest !== 'string') throw new TypeError(`allowedPaths["${key}"] must be a guest path string, got ${typeof guest}`);
    const readOnly = key.startsWith('ro:');
    const host = readOnly ? key.slice(3) : key;
    if (host === '') throw new ManifestError(PATHS, `"${key}" names no host directory`);
    const guestPath = normalizeGuestPath(guest, PATHS, `guest path "${guest}" of "${key}"`);
    if (mounts.some((m) => m.guestPath === guestPath)) throw new ManifestError(PATHS, `two directories map to guest path "${guestPath}"`);
    mounts.push({ kind: 'host', guestPath, hostPath: hostDirectory(host, baseDir), readOnly });
  }
  const groups = new Map<string, Map<string, Uint8Array>>();
  const directories = new Set<string>();
  for (const [path, contents] of entries(files, 'files', 'guest file path -> contents')) {
    if (!wasi) throw new ManifestError(FILES, `puts "${path}" in WASI's file system, which needs wasi: true`);
    const parts = normalizeGuestPath(path, FILES, `"${path}"`).split('/').slice(1);
    if (parts.length < 2)
      throw new ManifestError(
        FILES,
        `"${path}" must be inside a directory, such as "/data${path}": each top-level directory becomes a preopen`,
      );
    let bytes: Uint8Array;
    if (typeof contents === 'string') bytes = encoder.encode(contents);
    else if (contents instanceof Uint8Array) bytes = contents.slice();
    else throw new TypeError(`files["${path}"] must be a string or a Uint8Array, got ${typeof contents}`);
    const top = `/${parts[0]}`;
    const group = groups.get(top) ?? new Map<string, Uint8Array>();
    groups.set(top, group);
    const below = parts.slice(1).join('/');
    if (group.has(below)) throw new ManifestError(FILES, `"${path}" is given twice`);
    group.set(below, bytes);
    for (let i = 1; i < parts.length; i++) directories.add(`/${parts.slice(0, i).join('/')}`);
  }
  for (const [top, group] of groups) {
    for (const below of group.keys()) {
      if (directories.has(`${top}/${below}`)) throw new ManifestError(FILES, `"${top}/${below}" is both a file and a directory`);
    }
    if (mounts.some((m) => m.guestPath === top))
      throw new ManifestError(FILES, `"${top}" is already mapped to a host directory by allowed_paths`);
    mounts.push({ kind: 'memory', guestPath: top, files: group });
  }
  return mounts;
}

function entries(value: unknown, option: string, shape: string): [string, unknown][] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'object' || Array.isArray(value)) throw new TypeError(`${option} must be an object of ${shape}`);
  return Object.entries(value);
}

/** An absolute guest path without empty, `.` or `..` components: `/data/` becomes `/data`. */
function normalizeGuestPath(path: string, field: string, what: string): string {
  if (!path.startsWith('/')) throw new ManifestError(field, `${what} must be absolute (start with "/")`);
  if (path.includes('\0')) throw new ManifestError(field, `${what} contains a NUL character`);
  const parts = path.split('/').filter((part) => part !== '');
  if (parts.some((part) => part === '.' || part === '..'))
    throw new ManifestError(field, `${what} must not contain "." or ".." components`);
  return `/${parts.join('/')}`;
}

function hostDirectory(host: string, baseDir: string | undefined): string {
  let real: string;
  try {
    real = realpathSync(resolve(baseDir ?? process.cwd(), host));
  } catch (error) {
    const missing = (error as { code?: string }).code === 'ENOENT';
    throw new ManifestError(
      PATHS,
      `host directory "${host}" ${missing ? 'does not exist' : `cannot be used (${(error as Error).message})`}`,
      {
        cause: error,
      },
    );
  }
  if (!statSync(real).isDirectory())
    throw new ManifestError(PATHS, `host path "${host}" is not a directory (only directories can be mapped)`);
  return real;
}
