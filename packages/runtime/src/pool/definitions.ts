// The plug-ins a pool knows: each source compiled once (found again by value or identity), and
// described for the workers, which rebuild it from its modules without compiling.
import { createHash } from 'node:crypto';
import { compilePlugin, type PluginSource } from '../compile.js';
import { CompiledPlugin } from '../compiled.js';
import { type HostFunction, USER_NAMESPACE } from '../host-functions.js';
import type { PluginOptions, PluginSettings } from '../settings.js';
import { importKey } from './host-module.js';
import type { PluginDefinition } from './protocol.js';

export interface Pooled {
  id: number;
  definition: PluginDefinition;
  settings: PluginSettings;
}

/** A plug-in the pool knows, compiling or ready. */
export interface Definition {
  promise: Promise<Pooled>;
  value: Pooled | undefined;
}

export class PluginDefinitions {
  readonly #options: PluginOptions | undefined;
  /** The workers' own host functions (the pool's hostFunctions module), as imported in this thread. */
  readonly #ownFunctions: Promise<readonly HostFunction[]> | undefined;
  readonly #byId = new Map<number, Pooled>();
  readonly #byKey = new Map<string, Definition>();
  readonly #byObject = new WeakMap<object, Definition>();
  #nextPlugin = 0;

  constructor(options: PluginOptions | undefined, ownFunctions: Promise<readonly HostFunction[]> | undefined) {
    this.#options = options;
    this.#ownFunctions = ownFunctions;
  }

  /** A plug-in by the id its workers know it by. */
  byId(id: number): Pooled | undefined {
    return this.#byId.get(id);
  }

  /** The plug-in `source` names, compiled once (and again after a failure). */
  get(source: CompiledPlugin | PluginSource): Definition {
    const object = typeof source === 'object' ? source : undefined;
    // an object seen before is found by identity, without hashing its bytes again
    const known = object && this.#byObject.get(object);
    if (known) return known;
    const key = sourceKey(source);
    let entry = key === undefined ? undefined : this.#byKey.get(key);
    if (!entry) {
      const created: Definition = { promise: this.#define(source), value: undefined };
      created.promise.then(
        (pooled) => {
          created.value = pooled;
        },
        // a source that failed to compile is tried again on the next call
        () => {
          if (key !== undefined) this.#byKey.delete(key);
          if (object) this.#byObject.delete(object);
        },
      );
      if (key !== undefined) this.#byKey.set(key, created);
      entry = created;
    }
    if (object) this.#byObject.set(object, entry);
    return entry;
  }

  async #define(source: CompiledPlugin | PluginSource): Promise<Pooled> {
    const own = (await this.#ownFunctions) ?? [];
    const ownIndex = new Map(own.map((fn, index) => [importKey(fn, USER_NAMESPACE), index]));
    let compiled: CompiledPlugin;
    if (source instanceof CompiledPlugin) compiled = source;
    else if (own.length === 0) compiled = await compilePlugin(source, this.#options);
    else {
      // the plug-in links against the workers' functions too; those replace its own of the same name
      const given = this.#options?.functions ?? [];
      const functions = [...own, ...given.filter((fn) => !ownIndex.has(importKey(fn, USER_NAMESPACE)))];
      compiled = await compilePlugin(source, { ...this.#options, functions });
    }
    const { functions, logger, onHttpRequest, ...portable } = compiled.settings;
    const id = ++this.#nextPlugin;
    const definition: PluginDefinition = {
      id,
      ...compiled.parts,
      settings: portable,
      functions: functions.map((fn) => {
        const { namespace, name, params, results } = fn;
        const local = ownIndex.get(importKey(fn, USER_NAMESPACE));
        return {
          ...(namespace !== undefined && { namespace }),
          name,
          ...(params !== undefined && { params }),
          ...(results !== undefined && { results }),
          ...(local !== undefined && { local }),
        };
      }),
      auditHttp: onHttpRequest !== undefined,
    };
    const pooled = { id, definition, settings: compiled.settings };
    this.#byId.set(id, pooled);
    return pooled;
  }
}

/**
 * Sources remembered by value: strings and URLs as written, module bytes by their sha256 (a host
 * that reads the file again per call must not get a new plug-in, and a new instance, each time).
 */
function sourceKey(source: CompiledPlugin | PluginSource): string | undefined {
  if (typeof source === 'string') return source;
  if (source instanceof URL) return source.href;
  if (source instanceof Uint8Array || source instanceof ArrayBuffer)
    return `sha256:${createHash('sha256').update(new Uint8Array(source)).digest('hex')}`;
  return undefined;
}
