// The module of host functions a pool's workers import, so that those functions run beside the
// plug-in instead of crossing to the pool's thread. Its format is the one `tenon call
// --host-functions` and cases.json's `hostFunctions` take: an array of host functions exported as
// `functions`, or as the default export.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LoadError } from '../errors.js';
import type { HostFunction } from '../host-functions.js';

/**
 * The module's URL, checked to name a file now, so that a mistyped path fails where the pool is
 * created rather than at its first call. A relative path is taken from the working directory.
 */
export function hostModuleUrl(module: string | URL): URL {
  const url = module instanceof URL ? module : /^(file|data):/.test(module) ? new URL(module) : pathToFileURL(resolve(module));
  if (url.protocol === 'file:') {
    const path = fileURLToPath(url);
    let file: boolean;
    try {
      file = statSync(path).isFile();
    } catch (error) {
      throw new LoadError(`Cannot load host functions from "${path}": ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`, {
        cause: error,
      });
    }
    if (!file) throw new LoadError(`Cannot load host functions from "${path}": not a file`);
  } else if (url.protocol !== 'data:') {
    throw new LoadError(`Cannot load host functions from "${url.href}": only file: and data: modules can be imported by workers`);
  }
  return url;
}

/** Imports the module and checks its shape: each thread that runs its functions calls this once. */
export async function importHostFunctions(url: string): Promise<readonly HostFunction[]> {
  const where = url.startsWith('file:') ? fileURLToPath(url) : url.slice(0, 60);
  let module: { functions?: unknown; default?: unknown };
  try {
    module = await import(url);
  } catch (error) {
    throw new LoadError(`Cannot import host functions from "${where}": ${(error as Error).message}`, { cause: error });
  }
  const functions = module.functions ?? module.default;
  if (!Array.isArray(functions))
    throw new LoadError(`"${where}" must export its host functions as an array named \`functions\` (or as the default export)`);
  for (const [i, fn] of functions.entries()) {
    const shape = fn as Partial<HostFunction> | null;
    if (typeof shape?.name !== 'string' || typeof shape.call !== 'function')
      throw new LoadError(`"${where}": functions[${i}] must be a host function ({ name, call })`);
  }
  return functions as HostFunction[];
}

/** The key a plug-in imports a host function by. */
export function importKey(fn: { namespace?: string | undefined; name: string }, defaultNamespace: string): string {
  return `${fn.namespace ?? defaultNamespace}\0${fn.name}`;
}

/**
 * The host functions a module exports (a path, or a `file:`/`data:` URL), in the format a pool's
 * `hostFunctions`, `tenon call --host-functions` and cases.json's `hostFunctions` share.
 */
export function loadHostFunctions(module: string | URL): Promise<readonly HostFunction[]> {
  return importHostFunctions(hostModuleUrl(module).href);
}
