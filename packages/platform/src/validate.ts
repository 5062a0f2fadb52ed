// Validation of an uploaded module against its extension point: structural checks from the bytes
// (cheap, first, so hostile modules fail fast), then compile, the export, the start function, and
// every simulation within the limits. The report says what passed and what to fix.
import { isDeepStrictEqual } from 'node:util';
import { type CompiledPlugin, isTenonError } from '@tenon/runtime';
import { fuelBudget } from './definition.js';
import { type ModuleShape, readModuleShape } from './module-shape.js';
import { type LoadedPoint, MAX_TABLE_ELEMENTS } from './point.js';
import type { SimulationResult, ValidationCheck, ValidationReport } from './types.js';

/** Functions a module may define: real plug-ins have a few thousand; a million is an attack on the compiler. */
export const MAX_FUNCTIONS = 50_000;

const KERNEL = 'extism:host/env';
const USER = 'extism:host/user';
const WASI = 'wasi_snapshot_preview1';

const encoder = new TextEncoder();

export interface Validation {
  status: 'validated' | 'rejected';
  report: ValidationReport;
}

/** Who uploads: the host's rules see them in simulations as in runs. */
export interface Uploader {
  partner: string;
  plugin: string;
}

export async function validateModule(point: LoadedPoint, sha256: string, bytes: Uint8Array, uploader: Uploader): Promise<Validation> {
  const started = performance.now();
  const checks: ValidationCheck[] = [];
  const simulations: SimulationResult[] = [];
  const done = (): Validation => ({
    status: checks.every((c) => c.ok) && simulations.every((s) => s.ok) ? 'validated' : 'rejected',
    report: { checks, simulations, durationMs: Math.round((performance.now() - started) * 1000) / 1000 },
  });
  const { limits } = point.info;
  checks.push(check('size', bytes.length <= limits.maxModuleBytes, `${bytes.length} bytes (limit ${limits.maxModuleBytes})`));
  let shape: ModuleShape;
  try {
    shape = readModuleShape(bytes);
    checks.push(check('parse', true, 'a WebAssembly module'));
  } catch (error) {
    checks.push(check('parse', false, `not a valid module: ${(error as Error).message}`));
    return done();
  }
  checks.push(
    check('functions', shape.functions <= MAX_FUNCTIONS, `${shape.functions} functions defined (limit ${MAX_FUNCTIONS})`),
    memoryCheck(shape, limits.maxPages),
    tableCheck(shape),
    importCheck(shape, point),
  );
  if (!checks.every((c) => c.ok)) return done();

  let compiled: CompiledPlugin;
  try {
    compiled = await point.compiled(sha256, async () => bytes);
    checks.push(check('compile', true, 'compiled and metered'));
  } catch (error) {
    checks.push(check('compile', false, `does not compile: ${(error as Error).message}`));
    return done();
  }
  const fn = point.info.function;
  checks.push(
    check(
      'export',
      compiled.functions.includes(fn),
      compiled.functions.includes(fn)
        ? `exports "${fn}"`
        : `does not export "${fn}" (exports: ${compiled.functions.map((f) => `"${f}"`).join(', ') || 'none'})`,
    ),
  );
  if (!checks.every((c) => c.ok)) return done();

  // Instantiating links the imports and runs the start function, within the base budget.
  const grants = point.allGrants;
  try {
    point.configure(compiled, {}, grants, 'fresh').instantiate().close();
    checks.push(check('instantiate', true, shape.hasStart ? 'links; the start function ends within the budget' : 'links'));
  } catch (error) {
    if (!isTenonError(error)) throw error;
    const what = error.code === 'LINK_FAILED' ? 'does not link' : 'the start function does not end within the budget';
    checks.push(check('instantiate', false, `${what}: ${error.code}: ${error.message}`));
    return done();
  }

  for (const simulation of point.info.simulations) {
    const plugin = point.configure(compiled, simulation.config ?? {}, grants, 'fresh').instantiate();
    try {
      const json = encoder.encode(JSON.stringify(simulation.input));
      const budget = fuelBudget(limits, json.length);
      const judged = point.invoke(plugin, simulation.input, json, budget, {
        tenant: 'simulation',
        key: simulation.name,
        installation: 'simulation',
        plugin: uploader.plugin,
        partner: uploader.partner,
        config: simulation.config ?? {},
        earlier: [],
      });
      const expect = simulation.expect;
      let ok: boolean;
      let message: string;
      if ('output' in expect) {
        ok = judged.outcome === 'ok' && isDeepStrictEqual(judged.output, expect.output);
        message = ok
          ? 'answered as expected'
          : judged.outcome === 'ok'
            ? `expected ${clip(expect.output)}, got ${clip(judged.output)}`
            : `expected ${clip(expect.output)}, got ${judged.outcome} ${judged.code}: ${judged.message}`;
      } else if ('accepted' in expect) {
        ok = judged.outcome === 'ok';
        message = ok ? 'answer accepted' : `expected an accepted answer, got ${judged.outcome} ${judged.code}: ${judged.message}`;
      } else {
        ok = judged.code === expect.error;
        message = ok
          ? `failed with ${expect.error} as expected`
          : `expected ${expect.error}, got ${judged.outcome}${judged.code ? ` ${judged.code}` : ` ${clip(judged.output)}`}`;
      }
      const result: SimulationResult = {
        name: simulation.name,
        ok,
        outcome: judged.outcome,
        message,
        fuel: judged.fuel,
        budget,
        durationUs: judged.durationUs,
      };
      if (judged.code !== undefined) result.code = judged.code;
      simulations.push(result);
    } finally {
      plugin.close();
    }
  }
  return done();
}

function check(name: string, ok: boolean, message: string): ValidationCheck {
  return { name, ok, message };
}

function memoryCheck(shape: ModuleShape, maxPages: number): ValidationCheck {
  if (shape.memories.length > 1) return check('memory', false, `${shape.memories.length} memories (a plug-in has at most one)`);
  const memory = shape.memories[0];
  if (memory === undefined) return check('memory', true, 'no memory');
  if (memory.min > maxPages) {
    return check('memory', false, `the memory starts at ${memory.min} pages of 64 KiB, more than the limit of ${maxPages}`);
  }
  return check('memory', true, `${memory.min} pages at start (limit ${maxPages})`);
}

function tableCheck(shape: ModuleShape): ValidationCheck {
  const big = shape.tables.findIndex((t) => t.min > MAX_TABLE_ELEMENTS);
  if (big >= 0) {
    return check('tables', false, `table ${big} starts with ${shape.tables[big]!.min} elements, more than ${MAX_TABLE_ELEMENTS}`);
  }
  return check('tables', true, `${shape.tables.length} table(s) within ${MAX_TABLE_ELEMENTS} elements`);
}

function importCheck(shape: ModuleShape, point: LoadedPoint): ValidationCheck {
  const { hostFunctions, wasi } = point.info;
  const refused = shape.imports.filter(
    (i) =>
      !(
        (i.module === KERNEL && i.kind === 'function') ||
        (i.module === USER && i.kind === 'function' && hostFunctions.includes(i.name)) ||
        (i.module === WASI && i.kind === 'function' && wasi)
      ),
  );
  if (refused.length === 0) return check('imports', true, `${shape.imports.length} imports, all offered by the extension point`);
  const list = refused
    .slice(0, 5)
    .map((i) => `${i.module}.${i.name}`)
    .join(', ');
  const offered = [KERNEL, ...hostFunctions.map((f) => `${USER}.${f}`), ...(wasi ? [WASI] : [])].join(', ');
  return check(
    'imports',
    false,
    `imports what the extension point does not offer: ${list}${refused.length > 5 ? ', ...' : ''} (offered: ${offered})`,
  );
}

function clip(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
