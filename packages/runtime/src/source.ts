import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { LoadError, ManifestError } from './errors.js';
import type { Manifest, WasmSource } from './manifest.js';

/** A manifest module, loaded: bytes (checked against its hash) or an already compiled module. */
export interface ResolvedModule {
  /** The name other modules import it by ("main" when unnamed). */
  readonly name: string;
  readonly bytes?: Uint8Array;
  readonly module?: WebAssembly.Module;
}

/** How sources are fetched and where relative paths start. */
export interface ResolveOptions {
  /** Folder that relative `path` sources resolve against (default: the current directory). */
  baseDir?: string;
  fetch?: typeof fetch;
}

/** Largest module accepted from a URL. */
const MAX_DOWNLOAD_BYTES = 1024 * 1024 * 1024;

/** Load every module of a validated manifest. */
export function resolveSources(manifest: Manifest, options: ResolveOptions = {}): Promise<ResolvedModule[]> {
  return Promise.all(manifest.wasm.map((source, i) => resolveSource(source, i, options)));
}

async function resolveSource(source: WasmSource, index: number, options: ResolveOptions): Promise<ResolvedModule> {
  const name = source.name ?? 'main';
  const where = `wasm[${index}]`;
  if (source.module) return { name, module: source.module };
  let bytes: Uint8Array;
  let origin: string;
  if (source.data !== undefined) {
    bytes = typeof source.data === 'string' ? Buffer.from(source.data, 'base64') : source.data;
    origin = `${where}.data`;
  } else if (source.path !== undefined) {
    const path = resolve(options.baseDir ?? '.', source.path);
    origin = `"${path}"`;
    try {
      bytes = await readFile(path);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
      throw new LoadError(`Cannot read ${where}.path "${path}": ${reason}`, { cause: error });
    }
  } else {
    origin = `"${source.url}"`;
    bytes = await download(source, where, options.fetch ?? fetch);
  }
  checkHash(source, where, bytes);
  checkMagic(bytes, origin);
  return { name, bytes };
}

async function download(source: WasmSource, where: string, fetchFn: typeof fetch): Promise<Uint8Array> {
  const url = source.url as string;
  let response: Response;
  try {
    response = await fetchFn(url, { method: source.method ?? 'GET', ...(source.headers && { headers: source.headers }) });
  } catch (error) {
    throw new LoadError(`Cannot fetch ${where}.url "${url}": ${(error as Error).message}`, { cause: error });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new LoadError(`Cannot fetch ${where}.url "${url}": HTTP ${response.status} ${response.statusText}`.trimEnd());
  }
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_DOWNLOAD_BYTES) {
    await response.body?.cancel();
    throw new LoadError(`Cannot fetch ${where}.url "${url}": ${declared} bytes is more than the 1 GiB a module may have`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body?.getReader();
  for (let next = await reader?.read(); next && !next.done; next = await reader?.read()) {
    total += next.value.length;
    if (total > MAX_DOWNLOAD_BYTES) {
      await reader?.cancel();
      throw new LoadError(`Cannot fetch ${where}.url "${url}": the module is larger than 1 GiB`);
    }
    chunks.push(next.value);
  }
  return Buffer.concat(chunks, total);
}

function checkHash(source: WasmSource, where: string, bytes: Uint8Array): void {
  if (source.hash === undefined) return;
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== source.hash) {
    throw new ManifestError(`${where}.hash`, `does not match the module (expected "${source.hash}", got "${actual}")`, {
      code: 'HASH_MISMATCH',
    });
  }
}

function checkMagic(bytes: Uint8Array, origin: string): void {
  const magic = bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
  if (magic && bytes[4] === 1 && bytes[5] === 0 && bytes[6] === 0 && bytes[7] === 0) return;
  if (magic && bytes[6] === 1 && bytes[7] === 0) {
    throw new LoadError(`${origin} is a WebAssembly component; Tenon runs core modules (Extism plug-ins), not components`);
  }
  const head = Buffer.from(bytes.subarray(0, 64)).toString('latin1').trimStart();
  const looks = magic
    ? `WebAssembly version ${bytes[4]} (only version 1 exists)`
    : head.startsWith('(module') || head.startsWith(';;')
      ? 'WAT text: assemble it to a binary first (wat2wasm)'
      : head.startsWith('{') || head.startsWith('[')
        ? 'JSON: pass it as a manifest instead'
        : bytes.length === 0
          ? 'empty'
          : 'not WebAssembly (no \\0asm magic)';
  throw new LoadError(`${origin} is not a WebAssembly module: it is ${looks}`);
}
