import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CompiledPlugin } from './compiled.js';
import { type LimitCode, LimitError, LoadError, ManifestError, StateError, type TenonError } from './errors.js';
import { instrument, METER_MODULE } from './limits/instrument.js';
import { prefixedLogger } from './log.js';
import { type Manifest, mainModuleIndex, parseManifest } from './manifest.js';
import type { Plugin } from './plugin.js';
import { pluginName } from './plugin-name.js';
import { type PluginOptions, resolveSettings } from './settings.js';
import { exposeState } from './snapshot/exports.js';
import { resolveSources } from './source.js';

/**
 * Where a plug-in comes from: a manifest (Extism JSON, snake_case or camelCase), module bytes, a
 * compiled WebAssembly.Module, a URL, or a string: an http(s) URL, a manifest as JSON text, or a
 * file path (a `.json` file is read as a manifest, relative paths in it resolve against its folder).
 */
export type PluginSource = Manifest | Uint8Array | ArrayBuffer | WebAssembly.Module | URL | string;

/** Load, check and compile a plug-in once; instantiate it as often as you like. */
export async function compilePlugin(source: PluginSource, options: PluginOptions = {}): Promise<CompiledPlugin> {
  const { manifest, baseDir } = await toManifest(source, options.baseDir);
  const settings = resolveSettings(manifest, options);
  const resolved = await resolveSources(manifest, baseDir === undefined ? {} : { baseDir });
  // The JS SDK's memory.maxPages bounds Extism memory only (the kernel's, capped elsewhere), not the plug-in's own
  const maxPages = settings.extismJs ? undefined : settings.maxPages;
  const modules = await Promise.all(
    resolved.map(async ({ name, bytes, module }, i) => {
      if (module) {
        if (settings.meter) {
          throw new StateError(
            'UNSUPPORTED',
            'fuel, timeoutMs, deterministic and meter need the module bytes to meter it; pass bytes instead of a WebAssembly.Module',
          );
        }
        if (maxPages !== undefined || settings.limits.maxTableElements !== Infinity) {
          throw new ManifestError(
            `wasm[${i}].module`,
            'memory.maxPages and limits.maxTableElements need the module bytes to cap it; pass bytes instead of a WebAssembly.Module',
          );
        }
        return { name, module, metered: false };
      }
      try {
        const maxTableElements = settings.limits.maxTableElements === Infinity ? undefined : settings.limits.maxTableElements;
        const rewrite = settings.meter || maxPages !== undefined || maxTableElements !== undefined;
        const rewritten = rewrite ? instrument(bytes!, { maxPages, maxTableElements, meter: settings.meter }) : bytes!;
        // every piece of state reachable from the host, so a closed instance can be restored and reused
        const exposed = resolved.length === 1 ? exposeState(rewritten, METER_MODULE) : undefined;
        const module = await WebAssembly.compile((exposed?.bytes ?? rewritten) as Uint8Array<ArrayBuffer>);
        return { name, module, metered: settings.meter, state: exposed?.plan };
      } catch (error) {
        throw invalidModule(bytes!, i, error);
      }
    }),
  );
  const main = mainModuleIndex(manifest);
  const name = pluginName(options.name, manifest, main, modules[main]!.module);
  // the drop-in passes lines on as @extism/extism does, unprefixed
  const logger = settings.extismJs ? settings.logger : prefixedLogger(settings.logger, name);
  return new CompiledPlugin({ ...settings, logger }, modules, main);
}

/** Explain why a module failed to rewrite or compile, in terms of the bytes the user gave. */
function invalidModule(bytes: Uint8Array, index: number, error: unknown): TenonError {
  // a limit the module does not fit, not a defect: say which module
  if (error instanceof LimitError)
    return new LimitError(error.code as LimitCode, `Cannot load wasm[${index}]: ${error.message}`, { cause: error });
  let reason: string;
  try {
    new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
    reason = `Tenon could not rewrite it (${(error as Error).message}); please report this module`;
  } catch (original) {
    reason = (original as Error).message.replace(/^WebAssembly\.Module\(\): /, '');
  }
  return new LoadError(`wasm[${index}] is not a valid WebAssembly module: ${reason}`, { cause: error });
}

/** Compile and instantiate in one step: the usual way to get a plug-in to call. */
export async function createPlugin(source: PluginSource, options: PluginOptions = {}): Promise<Plugin> {
  return (await compilePlugin(source, options)).instantiate();
}

async function toManifest(source: PluginSource, baseDir: string | undefined): Promise<{ manifest: Manifest; baseDir: string | undefined }> {
  if (source instanceof Uint8Array) return { manifest: { wasm: [{ data: source }] }, baseDir };
  if (source instanceof ArrayBuffer) return { manifest: { wasm: [{ data: new Uint8Array(source) }] }, baseDir };
  if (source instanceof WebAssembly.Module) return { manifest: { wasm: [{ module: source }] }, baseDir };
  if (source instanceof URL) {
    if (source.protocol === 'file:') return toManifest(fileURLToPath(source), baseDir);
    return { manifest: { wasm: [{ url: source.href }] }, baseDir };
  }
  if (typeof source === 'string') {
    if (/^https?:\/\//i.test(source)) return { manifest: { wasm: [{ url: source }] }, baseDir };
    if (source.trimStart().startsWith('{')) return { manifest: parseManifest(source), baseDir };
    if (source.toLowerCase().endsWith('.json')) {
      const path = resolve(baseDir ?? '.', source);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        throw new LoadError(`Cannot read manifest "${path}": ${(error as Error).message}`, { cause: error });
      }
      return { manifest: parseManifest(text), baseDir: baseDir ?? dirname(path) };
    }
    return { manifest: { wasm: [{ path: source }] }, baseDir };
  }
  if (typeof source === 'object' && source !== null) return { manifest: parseManifest(source), baseDir };
  throw new TypeError(`Cannot load a plug-in from ${source === null ? 'null' : typeof source}`);
}
