import { LinkError, type UnresolvedImport } from './errors.js';
import { KERNEL_IMPORTS } from './kernel/kernel.js';
import { METER_MODULE } from './limits/instrument.js';

/** A compiled module of a manifest, with the name other modules import it by. */
export interface LinkableModule {
  readonly name: string;
  readonly module: WebAssembly.Module;
}

const EXTISM_ENV = 'extism:host/env';
const WASI_MODULES = new Set(['wasi_snapshot_preview1', 'wasi_unstable']);

/** Function imports of one module from another that is instantiated after it (in a cycle). */
export interface ForwardedImports {
  /** The importing module's index. */
  readonly importer: number;
  /** The name of the module it imports from, instantiated later. */
  readonly exporter: string;
  /** The functions it imports from it. */
  readonly names: readonly string[];
}

/** How to instantiate a manifest's modules: in `order`, with `forwarded` imports where modules import each other. */
export interface LinkPlan {
  readonly order: readonly number[];
  readonly forwarded: readonly ForwardedImports[];
}

/**
 * The order to instantiate a manifest's modules in (dependencies first), checked once at compile
 * time. Modules may import each other in a cycle: a function import can be forwarded to a module
 * instantiated later, so a cycle is closed on such an edge; memories, tables and globals must exist
 * when their importer is instantiated. Fails with a LinkError listing every import nothing provides,
 * and a hint for each kind, or naming a cycle that no function import can close.
 */
export function linkOrder(
  modules: readonly LinkableModule[],
  provided: ReadonlyMap<string, ReadonlySet<string>>,
  wasi: boolean,
  main = modules.length - 1,
): LinkPlan {
  const byName = new Map(modules.map((m, i) => [m.name, i]));
  const unresolved: (UnresolvedImport & { importer: string })[] = [];
  // per module: each module it imports from, and the functions it imports from it (undefined once
  // anything but a function is imported: such an edge cannot be forwarded)
  const dependencies = modules.map(() => new Map<number, string[] | undefined>());
  modules.forEach((m, i) => {
    for (const imp of WebAssembly.Module.imports(m.module)) {
      const dependency = byName.get(imp.module);
      if (dependency !== undefined && dependency !== i) {
        const exported = WebAssembly.Module.exports(modules[dependency]!.module).some((e) => e.name === imp.name);
        if (exported) {
          const edges = dependencies[i]!;
          const functions = edges.has(dependency) ? edges.get(dependency) : [];
          edges.set(dependency, functions && imp.kind === 'function' ? [...functions, imp.name] : undefined);
          continue;
        }
      }
      if (imp.module === EXTISM_ENV && KERNEL_IMPORTS.includes(imp.name) && imp.kind === 'function') continue;
      // Tenon's own metering imports, injected by the rewriter
      if (
        imp.module === METER_MODULE &&
        ((imp.name === 'fuel' && imp.kind === 'global') || (imp.name === 'refuel' && imp.kind === 'function'))
      )
        continue;
      if (WASI_MODULES.has(imp.module) && wasi && imp.module === 'wasi_snapshot_preview1') continue;
      if (provided.get(imp.module)?.has(imp.name) && imp.kind === 'function') continue;
      unresolved.push({ module: imp.module, name: imp.name, kind: imp.kind, importer: m.name });
    }
  });
  if (unresolved.length > 0) {
    const lines = unresolved.map(
      (u) => `  ${u.module} ${u.name} (${u.kind})${modules.length > 1 ? ` imported by "${u.importer}"` : ''}: ${hint(u, wasi)}`,
    );
    throw new LinkError(
      `Cannot link the plug-in: ${unresolved.length} import${unresolved.length === 1 ? '' : 's'} not provided\n${lines.join('\n')}`,
      unresolved.map(({ module, name, kind, importer }) => ({
        module,
        name,
        kind,
        path: importPath(modules, dependencies, main, importer),
      })),
    );
  }

  // Dependencies first; when every module left waits on another (a cycle), the first one whose
  // waits are all on functions goes next, and those imports are forwarded.
  const order: number[] = [];
  const forwarded: ForwardedImports[] = [];
  const done = new Set<number>();
  const waits = (i: number) => [...dependencies[i]!].filter(([d]) => !done.has(d));
  while (order.length < modules.length) {
    const left = modules.map((_, i) => i).filter((i) => !done.has(i));
    let next = left.find((i) => waits(i).length === 0);
    if (next === undefined) {
      next = left.find((i) => waits(i).every(([, functions]) => functions !== undefined));
      if (next === undefined) throw new LinkError(`Cannot link the plug-in: ${hardCycle(left, modules, dependencies)}`);
      for (const [d, functions] of waits(next)) forwarded.push({ importer: next, exporter: modules[d]!.name, names: functions! });
    }
    order.push(next);
    done.add(next);
  }
  return { order, forwarded };
}

/** A cycle among `left` through imports that are not all functions, named module by module. */
function hardCycle(
  left: readonly number[],
  modules: readonly LinkableModule[],
  dependencies: readonly Map<number, string[] | undefined>[],
): string {
  // every module left has a non-function import from another module left: follow them until one repeats
  const path: number[] = [left[0]!];
  for (;;) {
    const last = path[path.length - 1]!;
    const [next] = [...dependencies[last]!].find(([d, functions]) => functions === undefined && left.includes(d))!;
    const seen = path.indexOf(next);
    if (seen >= 0) {
      const cycle = [...path.slice(seen), next].map((i) => `"${modules[i]!.name}"`).join(' -> ');
      return `modules import memories, tables or globals from each other in a cycle (${cycle}); only function imports may close a cycle`;
    }
    path.push(next);
  }
}

/** The module names from `main` to `importer` along resolved imports (breadth first: the shortest chain). */
function importPath(
  modules: readonly LinkableModule[],
  dependencies: readonly ReadonlyMap<number, unknown>[],
  main: number,
  importer: string,
): string[] {
  const previous = new Map<number, number>([[main, -1]]);
  const queue = [main];
  for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
    if (modules[i]!.name === importer) {
      const path: string[] = [];
      for (let at = i; at !== -1; at = previous.get(at)!) path.unshift(modules[at]!.name);
      return path;
    }
    for (const d of dependencies[i]!.keys()) {
      if (!previous.has(d)) {
        previous.set(d, i);
        queue.push(d);
      }
    }
  }
  return [importer];
}

/** What AssemblyScript's runtime imports from `env` unless told otherwise, and what to do about it. */
const ASSEMBLYSCRIPT_HINTS: Readonly<Record<string, string>> = {
  abort: "AssemblyScript's abort handler: build with `--use abort=~lib/@tenon/pdk/assembly/index/abort` (`tenon new` projects do)",
  trace: "AssemblyScript's trace(): log with `log.debug()` from @tenon/pdk instead",
  seed: "AssemblyScript's Math.random() asks the host for a seed: plug-ins get no ambient randomness; take it as input",
  'Date.now': "AssemblyScript's Date.now(): plug-ins get no ambient clock; take the time as input, or use WASI's clock",
};

function hint(u: UnresolvedImport, wasi: boolean): string {
  if (u.module === EXTISM_ENV) return 'not part of the Extism ABI this host implements (built with a newer PDK?)';
  if (WASI_MODULES.has(u.module)) {
    if (u.module === 'wasi_unstable') return 'the pre-2020 WASI snapshot is not supported; rebuild for wasi_snapshot_preview1';
    if (!wasi) return 'the plug-in uses WASI: enable it with `wasi: true` (or --wasi)';
  }
  if (u.module === 'env' && u.name.startsWith('extism_')) {
    return 'the pre-1.0 Extism ABI (2023); rebuild the plug-in with a current PDK';
  }
  const assemblyScript = u.module === 'env' ? ASSEMBLYSCRIPT_HINTS[u.name] : undefined;
  if (assemblyScript) return assemblyScript;
  if (u.kind === 'function') return 'declare a host function with this namespace and name';
  return `the host provides no ${u.kind} imports`;
}
