import { ManifestError, type ManifestProblem } from './errors.js';

/** One module of a plug-in: exactly one of `data`, `path`, `url` or `module`. */
export interface WasmSource {
  /** The module's bytes, or base64 text of them. */
  data?: Uint8Array | string;
  /** A file path (relative to the manifest's folder when loaded from a file). */
  path?: string;
  /** An http(s) URL to fetch the module from. */
  url?: string;
  /** Request headers for `url`. */
  headers?: Record<string, string>;
  /** Request method for `url` (default GET). */
  method?: string;
  /** An already compiled module (then `hash` cannot be checked). */
  module?: WebAssembly.Module;
  /** The name other modules of the manifest import this one by; the entry point is "main". */
  name?: string;
  /** Lower-case hex sha256 of the module's bytes; loading fails when it does not match. */
  hash?: string;
}

/** Memory limits. */
export interface MemoryLimits {
  /** Pages of 64 KiB each memory (the plug-in's own and its Extism memory) may hold, initial pages included. */
  maxPages?: number;
  /** Largest HTTP response body a plug-in may receive, in bytes (default 50 MiB). */
  maxHttpResponseBytes?: number;
  /** Bytes all vars of an instance may take, keys included (default 1 MiB; 0 disables vars). */
  maxVarBytes?: number;
}

/** A plug-in manifest: Extism's format, in camelCase (Extism's snake_case JSON is accepted too). */
export interface Manifest {
  wasm: WasmSource[];
  memory?: MemoryLimits;
  /** Read-only values plug-ins read with `config_get`. */
  config?: Record<string, string>;
  /** Host name globs plug-ins may send HTTP requests to; absent or null denies all. */
  allowedHosts?: string[] | null;
  /** Host directory -> guest path (prefix the host side with `ro:` for read-only). */
  allowedPaths?: Record<string, string>;
  /** Wall-clock limit per call, in milliseconds; null for none. */
  timeoutMs?: number | null;
}

/** Each top-level key in both spellings, camelCase first. */
const TOP_LEVEL: readonly (readonly [keyof Manifest, string])[] = [
  ['wasm', 'wasm'],
  ['memory', 'memory'],
  ['config', 'config'],
  ['allowedHosts', 'allowed_hosts'],
  ['allowedPaths', 'allowed_paths'],
  ['timeoutMs', 'timeout_ms'],
];

const MEMORY_KEYS: readonly (readonly [keyof MemoryLimits, string])[] = [
  ['maxPages', 'max_pages'],
  ['maxHttpResponseBytes', 'max_http_response_bytes'],
  ['maxVarBytes', 'max_var_bytes'],
];

const SOURCE_KEYS = new Set(['data', 'path', 'url', 'headers', 'method', 'module', 'name', 'hash']);

/**
 * Validate a manifest (an object, or JSON text) and return it normalized to camelCase.
 * Throws one ManifestError listing every invalid field (`problems`), in the spelling the input used.
 */
export function parseManifest(input: unknown): Manifest {
  let value = input;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch (error) {
      throw new ManifestError('manifest', `is not valid JSON (${(error as Error).message})`, { cause: error });
    }
  }
  const problems = new Problems();
  const raw = record(value, 'manifest', problems);
  if (!raw) throw problems.error();
  const fields = pickFields(raw, TOP_LEVEL, '', problems);
  const manifest: Manifest = { wasm: parseWasm(fields.get('wasm'), problems) };

  const memory = fields.get('memory');
  if (memory && memory.value !== undefined && memory.value !== null) {
    const parsed = parseMemory(memory.value, memory.key, problems);
    if (parsed) manifest.memory = parsed;
  }
  const config = fields.get('config');
  if (config && config.value !== undefined && config.value !== null) {
    const parsed = stringRecord(config.value, config.key, problems);
    if (parsed) manifest.config = parsed;
  }
  const hosts = fields.get('allowedHosts');
  if (hosts && hosts.value !== undefined) {
    const parsed = hosts.value === null ? null : stringArray(hosts.value, hosts.key, problems);
    if (parsed !== undefined) manifest.allowedHosts = parsed;
  }
  const paths = fields.get('allowedPaths');
  if (paths && paths.value !== undefined && paths.value !== null) {
    const parsed = stringRecord(paths.value, paths.key, problems);
    if (parsed) manifest.allowedPaths = parsed;
  }
  const timeout = fields.get('timeoutMs');
  if (timeout && timeout.value !== undefined) {
    if (timeout.value !== null && !isNonNegativeNumber(timeout.value)) {
      problems.add(timeout.key, `must be a non-negative number of milliseconds or null, got ${show(timeout.value)}`);
    } else manifest.timeoutMs = timeout.value as number | null;
  }
  if (problems.list.length > 0) throw problems.error();
  return manifest;
}

/** The problems found so far: whoever validates a manifest sees all of them at once, not one per attempt. */
class Problems {
  readonly list: ManifestProblem[] = [];

  add(field: string, message: string): undefined {
    this.list.push({ field, message });
    return undefined;
  }

  error(): ManifestError {
    const [first] = this.list;
    return new ManifestError(first!.field, first!.message, { problems: this.list });
  }
}

/** The index of the entry point: the only module, else the one named "main", else the last. */
export function mainModuleIndex(manifest: Manifest): number {
  if (manifest.wasm.length === 1) return 0;
  const named = manifest.wasm.findIndex((source) => source.name === 'main');
  return named >= 0 ? named : manifest.wasm.length - 1;
}

function parseWasm(field: { key: string; value: unknown } | undefined, problems: Problems): WasmSource[] {
  if (field === undefined || field.value === undefined) return problems.add('wasm', 'is required: list at least one module') ?? [];
  if (!Array.isArray(field.value)) return problems.add('wasm', `must be an array of modules, got ${show(field.value)}`) ?? [];
  if (field.value.length === 0) return problems.add('wasm', 'at least one module is required') ?? [];
  // Extism links modules by name, an unnamed one being "main": two unnamed modules collide.
  const names = new Map<string, number>();
  const sources: WasmSource[] = [];
  for (const [i, item] of field.value.entries()) {
    const source = parseSource(item, `wasm[${i}]`, problems);
    if (!source) continue;
    const name = source.name ?? 'main';
    const previous = names.get(name);
    if (previous !== undefined) {
      problems.add(
        `wasm[${i}].name`,
        source.name === undefined
          ? `wasm[${previous}] is already the unnamed ("main") module: name all but one`
          : `"${name}" is already the name of wasm[${previous}]`,
      );
    }
    names.set(name, i);
    sources.push(source);
  }
  return sources;
}

function parseSource(item: unknown, where: string, problems: Problems): WasmSource | undefined {
  const raw = record(item, where, problems);
  if (!raw) return undefined;
  const before = problems.list.length;
  for (const key of Object.keys(raw)) {
    if (!SOURCE_KEYS.has(key))
      problems.add(`${where}.${key}`, `is not a field of a wasm source (expected one of ${[...SOURCE_KEYS].join(', ')})`);
  }
  const kinds = (['data', 'path', 'url', 'module'] as const).filter((k) => raw[k] !== undefined);
  if (kinds.length !== 1) {
    problems.add(where, kinds.length === 0 ? 'needs one of data, path, url or module' : `has ${kinds.join(' and ')}: give exactly one`);
  }
  const source: WasmSource = {};
  const data = raw.data;
  if (data !== undefined) {
    if (data instanceof Uint8Array) source.data = data;
    else if (data instanceof ArrayBuffer) source.data = new Uint8Array(data);
    else if (typeof data === 'string') {
      if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(data) || data.trim() === '') problems.add(`${where}.data`, 'is not base64 text of a module');
      else source.data = data;
    } else if (typeof data === 'object' && data !== null && 'ptr' in data) {
      problems.add(`${where}.data`, 'is a {ptr, len} pointer, which only the Extism C API can use: give base64 text or bytes');
    } else problems.add(`${where}.data`, `must be bytes or base64 text, got ${show(data)}`);
  }
  if (raw.path !== undefined) {
    const path = nonEmptyString(raw.path, `${where}.path`, problems);
    if (path !== undefined) source.path = path;
  }
  if (raw.url !== undefined) {
    const url = nonEmptyString(raw.url, `${where}.url`, problems);
    let parsed: URL | undefined;
    try {
      if (url !== undefined) parsed = new URL(url);
    } catch {
      problems.add(`${where}.url`, `"${url}" is not a URL`);
    }
    if (parsed && parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      problems.add(`${where}.url`, `must be http or https, got "${parsed.protocol}"`);
    } else if (parsed) source.url = url!;
  }
  if (raw.headers !== undefined) {
    const headers = stringRecord(raw.headers, `${where}.headers`, problems);
    if (headers) source.headers = headers;
  }
  if (raw.method !== undefined) {
    const method = nonEmptyString(raw.method, `${where}.method`, problems);
    if (method !== undefined) source.method = method.toUpperCase();
  }
  if (raw.module !== undefined) {
    if (!(raw.module instanceof WebAssembly.Module))
      problems.add(`${where}.module`, `must be a WebAssembly.Module, got ${show(raw.module)}`);
    else source.module = raw.module;
  }
  if (raw.name !== undefined) {
    const name = nonEmptyString(raw.name, `${where}.name`, problems);
    if (name !== undefined) source.name = name;
  }
  if (raw.hash !== undefined) {
    const hash = raw.hash;
    if (typeof hash !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hash)) {
      problems.add(`${where}.hash`, `must be 64 hex digits (a sha256), got ${show(hash)}`);
    } else if (source.module) problems.add(`${where}.hash`, 'cannot be checked for a compiled module: give the bytes instead');
    else source.hash = hash.toLowerCase();
  }
  return problems.list.length === before ? source : undefined;
}

function parseMemory(value: unknown, where: string, problems: Problems): MemoryLimits | undefined {
  const raw = record(value, where, problems);
  if (!raw) return undefined;
  const fields = pickFields(raw, MEMORY_KEYS, `${where}.`, problems);
  const memory: MemoryLimits = {};
  for (const [key, { key: spelled, value: v }] of fields) {
    if (v === undefined || v === null) continue;
    const max = key === 'maxPages' ? 65536 : Number.MAX_SAFE_INTEGER;
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > max) {
      problems.add(spelled, `must be an integer from 0 to ${max}, got ${show(v)}`);
    } else memory[key] = v as number;
  }
  return memory;
}

/** Read the known keys of `raw` in either spelling; unknown or doubly spelled keys are problems. */
function pickFields<K extends string>(
  raw: Record<string, unknown>,
  known: readonly (readonly [K, string])[],
  prefix: string,
  problems: Problems,
): Map<K, { key: string; value: unknown }> {
  const fields = new Map<K, { key: string; value: unknown }>();
  for (const key of Object.keys(raw)) {
    const entry = known.find(([camel, snake]) => key === camel || key === snake);
    if (!entry) {
      const near = known.find(([camel]) => distance(normalize(key), normalize(camel)) <= 2);
      problems.add(`${prefix}${key}`, `is not a known field${near ? ` (did you mean "${near[1]}"?)` : ''}`);
    } else if (fields.has(entry[0])) problems.add(`${prefix}${key}`, `is given twice (as "${entry[0]}" and "${entry[1]}")`);
    else fields.set(entry[0], { key: `${prefix}${key}`, value: raw[key] });
  }
  return fields;
}

function normalize(key: string): string {
  return key.toLowerCase().replaceAll('_', '');
}

/** Levenshtein distance, for "did you mean" on short keys. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}

function record(value: unknown, where: string, problems: Problems): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    return problems.add(where, `must be an object, got ${show(value)}`);
  }
  return value as Record<string, unknown>;
}

function stringRecord(value: unknown, where: string, problems: Problems): Record<string, string> | undefined {
  const raw = record(value, where, problems);
  if (!raw) return undefined;
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(raw)) {
    if (typeof v !== 'string') problems.add(`${where}.${key}`, `must be a string, got ${show(v)}`);
    else out[key] = v;
  }
  return out;
}

function stringArray(value: unknown, where: string, problems: Problems): string[] | undefined {
  if (!Array.isArray(value)) return problems.add(where, `must be an array of strings, got ${show(value)}`);
  return value.filter((v, i) => typeof v === 'string' || problems.add(`${where}[${i}]`, `must be a string, got ${show(v)}`));
}

function nonEmptyString(value: unknown, where: string, problems: Problems): string | undefined {
  if (typeof value !== 'string' || value === '') return problems.add(where, `must be a non-empty string, got ${show(value)}`);
  return value;
}

function isNonNegativeNumber(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function show(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}...` : value}"`;
  if (typeof value === 'object') return value instanceof Uint8Array ? 'bytes' : 'an object';
  return `${typeof value} ${String(value)}`;
}
