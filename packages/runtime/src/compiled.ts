import { LimitError, LinkError, TenonError, TrapError } from './errors.js';
import { USER_NAMESPACE } from './host-functions.js';
import { Kernel } from './kernel/kernel.js';
import { METER_MODULE } from './limits/instrument.js';
import type { Meter } from './limits/meter.js';
import { type LinkPlan, linkOrder } from './link.js';
import { Plugin, type Recycled, renew } from './plugin.js';
import type { PluginSettings } from './settings.js';
import type { StatePlan } from './snapshot/exports.js';
import { classifyTrap } from './trap.js';
import type { WasiSandbox } from './wasi/wasi.js';

const SPARE_KERNELS = 8;
/** Closed instances kept, restored, for the next instantiate() (each holds its memory: a few pages). */
const RECYCLED_INSTANCES = 8;

/** One compiled module of a plug-in; `state` says how to snapshot its instances, when that is possible. */
export interface CompiledModule {
  readonly name: string;
  readonly module: WebAssembly.Module;
  readonly metered: boolean;
  readonly state?: StatePlan | undefined;
}

/**
 * A plug-in compiled once, ready to stamp out instances: compilation, memory caps and import
 * checks happen here, so `instantiate()` only links and runs no compiler.
 */
export class CompiledPlugin {
  readonly #settings: PluginSettings;
  readonly #modules: readonly CompiledModule[];
  readonly #plan: LinkPlan;
  /** Where each module's memory comes from, for its WASI calls: an export's name, or the import's module and name. */
  readonly #memories: readonly (readonly [string] | readonly [string, string] | undefined)[];
  readonly #main: number;
  readonly #functions: readonly string[];

  /** @internal use compilePlugin() */
  constructor(settings: PluginSettings, modules: readonly CompiledModule[], main: number) {
    this.#settings = settings;
    this.#modules = modules;
    // WASI keeps state outside the instance (open files, the world's clock), and a module linked to
    // others shares state with them: only a lone, WASI-free module is restored and reused
    this.state = modules.length === 1 && !settings.wasi ? modules[0]!.state : undefined;
    this.metered = modules.some((m) => m.metered);
    this.#main = main;
    const provided = new Map<string, Set<string>>();
    for (const fn of settings.functions) {
      const namespace = fn.namespace ?? USER_NAMESPACE;
      if (!provided.has(namespace)) provided.set(namespace, new Set());
      provided.get(namespace)?.add(fn.name);
    }
    this.#plan = linkOrder(modules, provided, settings.wasi, main);
    this.#memories = modules.map(({ module }) => {
      const exported = WebAssembly.Module.exports(module).find((e) => e.kind === 'memory');
      if (exported) return [exported.name] as const;
      const imported = WebAssembly.Module.imports(module).find((i) => i.kind === 'memory');
      return imported && ([imported.module, imported.name] as const);
    });
    this.#functions = WebAssembly.Module.exports(this.mainModule)
      .filter((e) => e.kind === 'function')
      .map((e) => e.name);
  }

  /** True when fuel metering was injected (the modules were given as bytes). */
  readonly metered: boolean;

  /** @internal How to snapshot an instance's state; undefined when instances cannot be restored. */
  readonly state: StatePlan | undefined;

  /** The main module (the entry point whose exports are callable). */
  get mainModule(): WebAssembly.Module {
    return this.#modules[this.#main]!.module;
  }

  /** Names of the main module's exported functions. */
  get functions(): readonly string[] {
    return this.#functions;
  }

  /** @internal */
  get settings(): PluginSettings {
    return this.#settings;
  }

  /** @internal The compiled modules and the main one's index: what a worker needs to rebuild this plug-in without compiling. */
  get parts(): { modules: readonly CompiledModule[]; main: number } {
    return { modules: this.#modules, main: this.#main };
  }

  /** A new, independent instance: its own memory, Extism memory and vars. */
  instantiate(): Plugin {
    const max = this.#settings.limits.maxInstances;
    if (this.#live >= max) {
      throw new LimitError('INSTANCE_LIMIT', `Cannot instantiate: ${this.#live} instances are open, the limit is ${max} (close one first)`);
    }
    const plugin = new Plugin(this);
    this.#live++;
    return plugin;
  }

  /** Instances created and not yet closed. */
  #live = 0;

  /** @internal */
  released(): void {
    this.#live--;
  }

  /** Kernels of closed instances, reset, for the next instances (creating one costs ~60 µs). */
  readonly #spareKernels: Kernel[] = [];

  /** @internal */
  takeKernel(): Kernel {
    // Extism memory is one of the plug-in's memories: the same cap (its first page is its own)
    return this.#spareKernels.pop() ?? new Kernel(this.#settings.maxPages);
  }

  /** @internal */
  returnKernel(kernel: Kernel): void {
    kernel.release();
    if (this.#spareKernels.length < SPARE_KERNELS) this.#spareKernels.push(kernel);
  }

  /** Instances of closed plug-ins, restored to their state before their first call. */
  readonly #recycled: Recycled[] = [];
  /** Instances of closed plug-ins still holding what their calls left, restored when the event loop has a turn. */
  readonly #used: Recycled[] = [];
  #restoring: NodeJS.Immediate | undefined;

  /** @internal A closed instance restored to new, with its kernel; undefined when there is none to restore. */
  takeRecycled(): Recycled | undefined {
    const restored = this.#recycled.pop();
    if (restored) return restored;
    // none restored off the call path yet (calls back to back): restore one here
    for (let used = this.#used.pop(); used; used = this.#used.pop()) {
      if (renew(used)) return used;
      this.returnKernel(used.kernel);
    }
    return undefined;
  }

  /**
   * @internal Keep a closed instance for a later instantiate(): it is restored after the closing
   * call returns, when the event loop has a turn (or by the instantiate() that needs it first).
   */
  recycle(used: Recycled): void {
    if (this.#recycled.length + this.#used.length >= RECYCLED_INSTANCES) {
      this.returnKernel(used.kernel);
      return;
    }
    this.#used.push(used);
    if (this.#restoring !== undefined) return;
    this.#restoring = setImmediate(() => {
      this.#restoring = undefined;
      for (let next = this.#used.pop(); next; next = this.#used.pop()) {
        if (renew(next)) this.#recycled.push(next);
        else this.returnKernel(next.kernel);
      }
    });
    this.#restoring.unref();
  }

  /** @internal Instantiate the modules against one kernel; dependencies first. */
  link(kernel: Kernel, hostImports: WebAssembly.Imports, wasi: WasiSandbox | undefined, meter: Meter | undefined): WebAssembly.Instance {
    const instances = new Map<string, WebAssembly.Instance>();
    let main: WebAssembly.Instance | undefined;
    for (const index of this.#plan.order) {
      const { name, module } = this.#modules[index]!;
      const imports: WebAssembly.Imports = { ...hostImports, 'extism:host/env': kernel.env };
      // one WASI context for every module of the plug-in; a side module's calls use its own memory
      const side = { memory: undefined as WebAssembly.Memory | undefined };
      if (wasi) imports.wasi_snapshot_preview1 = index === this.#main ? wasi.imports : wasi.importsFor(side);
      if (meter) imports[METER_MODULE] = { fuel: meter.global, refuel: meter.refuel };
      for (const [other, instance] of instances) imports[other] = instance.exports;
      for (const edge of this.#plan.forwarded) {
        if (edge.importer === index) imports[edge.exporter] = forwarders(name, edge.exporter, edge.names, instances);
      }
      let instance: WebAssembly.Instance;
      try {
        instance = new WebAssembly.Instance(module, imports);
      } catch (error) {
        throw linkFailure(error, name);
      }
      instances.set(name, instance);
      const memory = this.#memories[index];
      side.memory = (memory?.length === 1 ? instance.exports[memory[0]] : memory && imports[memory[0]]?.[memory[1]]) as
        | WebAssembly.Memory
        | undefined;
      if (index === this.#main) {
        main = instance;
        wasi?.bind(side.memory);
      }
    }
    // A side module built as a reactor sets itself up in _initialize (wasi-libc finds its preopens
    // there); the main module's runs at its first call, under that call's limits.
    for (const [name, instance] of instances) {
      const initialize = instance.exports._initialize;
      if (instance !== main && typeof initialize === 'function') {
        try {
          initialize();
        } catch (error) {
          throw linkFailure(error, name, '_initialize');
        }
      }
    }
    return main!;
  }
}

/**
 * Functions that call into a module instantiated later, closing a cycle of imports. A JavaScript
 * function can stand in for any function import; the target is looked up on the first call.
 */
function forwarders(
  importer: string,
  exporter: string,
  names: readonly string[],
  instances: ReadonlyMap<string, WebAssembly.Instance>,
): Record<string, (...args: unknown[]) => unknown> {
  const functions: Record<string, (...args: unknown[]) => unknown> = {};
  for (const name of names) {
    let target: ((...args: unknown[]) => unknown) | undefined;
    functions[name] = (...args) => {
      if (target === undefined) {
        const instance = instances.get(exporter);
        if (!instance) {
          throw new LinkError(
            `Cannot link the plug-in: module "${importer}" called "${exporter}" "${name}" while starting, before "${exporter}" was instantiated (they import each other)`,
          );
        }
        target = instance.exports[name] as (...args: unknown[]) => unknown;
      }
      return target(...args);
    };
  }
  return functions;
}

function linkFailure(error: unknown, moduleName: string, where = 'its start function'): TenonError {
  if (error instanceof TenonError) return error;
  if (error instanceof WebAssembly.LinkError) {
    return new LinkError(`Cannot link module "${moduleName}": ${error.message.replace(/^WebAssembly\.Instance\(\): /, '')}`, [], {
      cause: error,
    });
  }
  const trap = classifyTrap(error);
  if (trap) return new TrapError(trap.kind, `Module "${moduleName}" ${trap.description} in ${where}`, { cause: error });
  return new LinkError(`Cannot instantiate module "${moduleName}": ${String(error)}`, [], { cause: error });
}
