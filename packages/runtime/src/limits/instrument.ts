import { LimitError, LoadError } from '../errors.js';
import { KERNEL_WASM_ONLY } from '../kernel/kernel.js';
import { Reader, Writer } from './binary.js';
import { type IndexMap, OP, readInstruction, readValueType, writeInstruction } from './instructions.js';
import { type FuncType, rewriteCode, type Signatures } from './meter-code.js';
import type { Imports } from './meter-plan.js';

/** Where injected code finds the host: `(import "tenon" "fuel" (global (mut i32)))` and `(import "tenon" "refuel" (func))`. */
export const METER_MODULE = 'tenon';

export interface InstrumentOptions {
  /** Cap every memory the module defines at this many 64 KiB pages, initial pages included. */
  maxPages?: number | undefined;
  /** Cap every table the module defines at this many elements. */
  maxTableElements?: number | undefined;
  /** Inject fuel metering. */
  meter: boolean;
  /**
   * Give counted loops an unchecked copy, chosen at their entry when the fuel left covers them
   * (default true; the fuel charged is the same either way, which tests compare with it off).
   */
  countedLoops?: boolean;
}

/**
 * Rewrite a module: cap its memories and inject fuel metering.
 *
 * Cost model (deterministic: it depends only on the path taken, never on timing): entering a
 * function costs the number of instructions in its body outside any loop; each iteration of a
 * loop costs the number of instructions directly inside it (nested loops charge their own). The
 * charge is subtracted at function entry and at each loop header from a counter kept in a local,
 * handed between internal functions as an extra parameter and result and through the imported
 * `tenon.fuel` global everywhere else; when it goes below zero the code calls `tenon.refuel`, which
 * grants the next slice or leaves it negative, and the code traps. Everything else in the module
 * is re-emitted unchanged, with function and global indices shifted past the two new imports (and
 * internal functions given their new types).
 */
export function instrument(bytes: Uint8Array, options: InstrumentOptions): Uint8Array {
  const sections = readSections(bytes);
  const has = (id: number) => sections.some((s) => s.id === id);
  const imports = countImports(
    bytes,
    sections.find((s) => s.id === SECTION.import),
  );
  const typeSection = sections.find((s) => s.id === SECTION.type);
  const typeCount = typeSection ? new Reader(bytes, typeSection.start, typeSection.end).u32() : 0;
  // The two new imports take the slots after the existing ones: later indices move up by one.
  const shift: IndexMap = options.meter
    ? { func: (i) => (i >= imports.funcs ? i + 1 : i), global: (i) => (i >= imports.globals ? i + 1 : i) }
    : IDENTITY;
  const meter = options.meter ? { global: imports.globals, refuel: imports.funcs, type: typeCount } : undefined;
  const escaping = options.meter ? escapingFunctions(bytes, sections) : new Set<number>();
  // The code goes first: metering may give functions new types, which the type and function sections must list.
  const codeSection = sections.find((s) => s.id === SECTION.code);
  const signatures = readSignatures(bytes, sections);
  const code = codeSection
    ? rewriteCode(
        new Reader(bytes, codeSection.start, codeSection.end),
        shift,
        meter,
        imports,
        escaping,
        signatures,
        typeCount + 1,
        options.countedLoops ?? true,
      )
    : undefined;
  const appendTypes = (w: Writer) => {
    appendType(w);
    for (const entry of code?.newTypes ?? []) w.bytes(entry);
    return w;
  };

  const out = new Writer();
  out.bytes(bytes.subarray(0, 8));
  const emit = (id: number, body: Writer) => {
    out.byte(id).sized(body);
  };
  // Sections the rewrite needs but the module lacks are created in their place in the order.
  const missing = options.meter ? [SECTION.type, SECTION.import].filter((id) => !has(id)) : [];
  const emitMissingBefore = (rank: number) => {
    while (missing.length > 0 && ORDER[missing[0]!]! < rank) {
      const id = missing.shift()!;
      emit(
        id,
        id === SECTION.type
          ? appendTypes(new Writer().u32(1 + (code?.newTypes.length ?? 0)))
          : appendImports(new Writer().u32(2), meter!.type),
      );
    }
  };

  for (const section of sections) {
    if (section.id !== SECTION.custom) emitMissingBefore(ORDER[section.id] ?? 99);
    const r = new Reader(bytes, section.start, section.end);
    switch (section.id) {
      case SECTION.type:
        emit(section.id, meter ? rewriteVector(r, 1 + (code?.newTypes.length ?? 0), appendTypes) : copy(r));
        break;
      case SECTION.import:
        emit(section.id, meter ? rewriteVector(r, 2, (w) => appendImports(w, meter.type)) : copy(r));
        break;
      case SECTION.memory:
        emit(section.id, options.maxPages === undefined ? copy(r) : capMemories(r, options.maxPages));
        break;
      case SECTION.table:
        emit(section.id, options.maxTableElements === undefined ? copy(r) : capTables(r, options.maxTableElements));
        break;
      case SECTION.global:
        emit(section.id, rewriteGlobals(r, shift));
        break;
      case SECTION.export:
        emit(section.id, rewriteExports(r, shift));
        break;
      case SECTION.start:
        emit(section.id, new Writer().u32(shift.func(r.u32())));
        break;
      case SECTION.element:
        emit(section.id, rewriteElements(r, shift));
        break;
      case SECTION.function:
        emit(section.id, code ? new Writer().u32(code.functionTypes.length).bytes(encodeAll(code.functionTypes)) : copy(r));
        break;
      case SECTION.code:
        emit(section.id, code!.code);
        break;
      case SECTION.data:
        emit(section.id, rewriteData(r, shift));
        break;
      case SECTION.custom:
        emit(section.id, rewriteCustom(r, shift));
        break;
      default:
        emit(section.id, copy(r));
    }
  }
  emitMissingBefore(100);
  return out.finish();
}

const SECTION = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
} as const;
/** The order non-custom sections must appear in (the tag section, 13, sits between memory and global). */
const ORDER: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13 };

interface Section {
  id: number;
  start: number;
  end: number;
}

const IDENTITY: IndexMap = { func: (i) => i, global: (i) => i };

/**
 * Functions that something outside the module's own direct calls can reach: exports, the start
 * function, table elements and ref.func targets. They always charge at their own entry.
 */
function escapingFunctions(bytes: Uint8Array, sections: readonly Section[]): Set<number> {
  const escaping = new Set<number>();
  // Walk the sections that name functions with an IndexMap that records instead of moving.
  const record: IndexMap = {
    func: (i) => {
      escaping.add(i);
      return i;
    },
    global: (i) => i,
  };
  for (const section of sections) {
    const r = new Reader(bytes, section.start, section.end);
    if (section.id === SECTION.export) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        r.skip(r.u32());
        const kind = r.byte();
        const index = r.u32();
        if (kind === 0) escaping.add(index);
      }
    } else if (section.id === SECTION.start) escaping.add(r.u32());
    else if (section.id === SECTION.element) rewriteElements(r, record);
    else if (section.id === SECTION.global) rewriteGlobals(r, record);
  }
  return escaping;
}

function readSections(bytes: Uint8Array): Section[] {
  const magic = bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
  if (bytes.length < 8 || !magic || bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) {
    throw new LoadError('not a WebAssembly module (bad magic or version)');
  }
  const r = new Reader(bytes, 8);
  const sections: Section[] = [];
  let last = 0;
  while (!r.done) {
    const id = r.byte();
    const size = r.u32();
    const start = r.pos;
    r.skip(size);
    if (id !== SECTION.custom) {
      const rank = ORDER[id];
      if (rank === undefined) throw new LoadError(`unknown section id ${id} at byte ${start}`);
      if (rank <= last) throw new LoadError(`section ${id} is out of order or repeated`);
      last = rank;
    }
    sections.push({ id, start, end: r.pos });
  }
  return sections;
}

function copy(r: Reader): Writer {
  return new Writer().bytes(r.bytes.subarray(r.pos, r.end));
}

function encodeAll(values: readonly number[]): Uint8Array {
  const w = new Writer();
  for (const v of values) w.u32(v);
  return w.finish();
}

/** Every type's parameters and results, and each defined function's type, from the type and function sections. */
function readSignatures(bytes: Uint8Array, sections: readonly Section[]): Signatures {
  const types: FuncType[] = [];
  const typeSection = sections.find((s) => s.id === SECTION.type);
  if (typeSection) {
    const r = new Reader(bytes, typeSection.start, typeSection.end);
    const count = r.u32();
    for (let i = 0; i < count; i++) {
      const form = r.byte();
      if (form !== 0x60) throw new LoadError(`type ${i} is not a function type (0x${form.toString(16)}): GC types are not supported`);
      const params = r.u32();
      const paramsAt = r.pos;
      for (let j = 0; j < params; j++) readValueType(r);
      const paramTypes = bytes.subarray(paramsAt, r.pos);
      const results = r.u32();
      const resultsAt = r.pos;
      for (let j = 0; j < results; j++) readValueType(r);
      types.push({ params, results, paramTypes, resultTypes: bytes.subarray(resultsAt, r.pos) });
    }
  }
  const functionSection = sections.find((s) => s.id === SECTION.function);
  if (!functionSection) return { types, functions: [] };
  const r = new Reader(bytes, functionSection.start, functionSection.end);
  return {
    types,
    functions: Array.from({ length: r.u32() }, () => {
      const type = r.u32();
      if (type >= types.length) throw new LoadError(`a function has type ${type}, past the ${types.length} types`);
      return type;
    }),
  };
}

function countImports(bytes: Uint8Array, section: Section | undefined): Imports {
  const counts: Imports = { funcs: 0, globals: 0, host: new Set(), kernel: new Set() };
  if (!section) return counts;
  const r = new Reader(bytes, section.start, section.end);
  const n = r.u32();
  for (let i = 0; i < n; i++) {
    const module = r.name();
    const name = r.name();
    const kind = r.byte();
    if (kind === 0) {
      if (module !== 'extism:host/env') counts.host.add(counts.funcs);
      else if (KERNEL_WASM_ONLY.has(name)) counts.kernel.add(counts.funcs);
      counts.funcs++;
      r.u32();
    } else if (kind === 1) {
      readValueType(r);
      readLimits(r);
    } else if (kind === 2) readLimits(r);
    else if (kind === 3) {
      counts.globals++;
      readValueType(r);
      r.byte();
    } else if (kind === 4) {
      r.byte();
      r.u32();
    } else throw new LoadError(`import ${i} has unknown kind ${kind}`);
  }
  return counts;
}

function readLimits(r: Reader): { flags: number; min: number; max: number | undefined } {
  const flags = r.byte();
  if (flags > 3) throw new LoadError(`limits flag 0x${flags.toString(16)} (64-bit memories or tables) is not supported`);
  const min = r.u32();
  const max = flags & 1 ? r.u32() : undefined;
  return { flags, min, max };
}

/** Copy a vector section and append `extra` entries written by `append`. */
function rewriteVector(r: Reader, extra: number, append: (w: Writer) => Writer): Writer {
  const count = r.u32();
  const w = new Writer().u32(count + extra).bytes(r.bytes.subarray(r.pos, r.end));
  return append(w);
}

/** The type of `tenon.refuel`: () -> (). */
function appendType(w: Writer): Writer {
  return w.byte(0x60).u32(0).u32(0);
}

function appendImports(w: Writer, refuelType: number): Writer {
  w.name(METER_MODULE).name('fuel').byte(3).byte(0x7f).byte(1);
  w.name(METER_MODULE).name('refuel').byte(0).u32(refuelType);
  return w;
}

// memory.maxPages: a memory's maximum becomes the cap, counted from zero, so no memory ever
// holds more than maxPages pages; one that starts above the cap cannot be loaded at all
function capMemories(r: Reader, maxPages: number): Writer {
  const count = r.u32();
  const w = new Writer().u32(count);
  for (let i = 0; i < count; i++) {
    const { flags, min, max } = readLimits(r);
    if (min > maxPages) {
      throw new LimitError(
        'MEMORY_LIMIT',
        `Memory ${i} starts at ${min} page${min === 1 ? '' : 's'}, more than memory.maxPages (${maxPages})`,
      );
    }
    w.byte(flags | 1)
      .u32(min)
      .u32(Math.min(max ?? MAX_PAGES, maxPages));
  }
  return w;
}

const MAX_PAGES = 65536;

function capTables(r: Reader, maxElements: number): Writer {
  const count = r.u32();
  const w = new Writer().u32(count);
  for (let i = 0; i < count; i++) {
    const start = r.pos;
    if (r.bytes[r.pos] === 0x40) throw new LoadError(`table ${i} has an initializer expression, which is not supported`);
    readValueType(r);
    w.bytes(r.bytes.subarray(start, r.pos));
    const { flags, min, max } = readLimits(r);
    if (min > maxElements) {
      throw new LimitError('MEMORY_LIMIT', `Table ${i} starts with ${min} elements, more than limits.maxTableElements (${maxElements})`);
    }
    w.byte(flags | 1)
      .u32(min)
      .u32(Math.min(max ?? 0xffffffff, maxElements));
  }
  return w;
}

/** A constant expression (up to its `end`), with ref.func and global.get indices shifted. */
function rewriteExpr(r: Reader, w: Writer, shift: IndexMap): void {
  for (;;) {
    const instruction = readInstruction(r);
    writeInstruction(r.bytes, instruction, w, shift);
    if (instruction.op === OP.end) return;
  }
}

function rewriteGlobals(r: Reader, shift: IndexMap): Writer {
  const count = r.u32();
  const w = new Writer().u32(count);
  for (let i = 0; i < count; i++) {
    const start = r.pos;
    readValueType(r);
    r.byte();
    w.bytes(r.bytes.subarray(start, r.pos));
    rewriteExpr(r, w, shift);
  }
  return w;
}

function rewriteExports(r: Reader, shift: IndexMap): Writer {
  const count = r.u32();
  const w = new Writer().u32(count);
  for (let i = 0; i < count; i++) {
    const start = r.pos;
    r.skip(r.u32());
    w.bytes(r.bytes.subarray(start, r.pos));
    const kind = r.byte();
    const index = r.u32();
    w.byte(kind).u32(kind === 0 ? shift.func(index) : kind === 3 ? shift.global(index) : index);
  }
  return w;
}

function rewriteElements(r: Reader, shift: IndexMap): Writer {
  const count = r.u32();
  const w = new Writer().u32(count);
  for (let i = 0; i < count; i++) {
    const flags = r.u32();
    if (flags > 7) throw new LoadError(`element segment ${i} has unknown flags ${flags}`);
    w.u32(flags);
    if (flags === 2 || flags === 6) w.u32(r.u32()); // table index
    if ((flags & 1) === 0) rewriteExpr(r, w, shift); // active: offset
    if (flags & 3) {
      // elemkind (0x00) or reftype
      const start = r.pos;
      if (flags & 4) readValueType(r);
      else r.byte();
      w.bytes(r.bytes.subarray(start, r.pos));
    }
    const n = r.u32();
    w.u32(n);
    for (let j = 0; j < n; j++) {
      if (flags & 4) rewriteExpr(r, w, shift);
      else w.u32(shift.func(r.u32()));
    }
  }
  return w;
}

function rewriteData(r: Reader, shift: IndexMap): Writer {
  const count = r.u32();
  const w = new Writer().u32(count);
  for (let i = 0; i < count; i++) {
    const flags = r.u32();
    if (flags > 2) throw new LoadError(`data segment ${i} has unknown flags ${flags}`);
    w.u32(flags);
    if (flags === 2) w.u32(r.u32());
    if (flags !== 1) rewriteExpr(r, w, shift);
    const size = r.u32();
    const start = r.pos;
    r.skip(size);
    w.u32(size).bytes(r.bytes.subarray(start, r.pos));
  }
  return w;
}

/** The "name" section names functions and globals by index: shift those; copy other customs. */
function rewriteCustom(r: Reader, shift: IndexMap): Writer {
  const start = r.pos;
  const name = r.name();
  if (name !== 'name' || shift === IDENTITY) return new Writer().bytes(r.bytes.subarray(start, r.end));
  const w = new Writer().name(name);
  try {
    while (!r.done) {
      const id = r.byte();
      const size = r.u32();
      const sub = new Reader(r.bytes, r.pos, r.pos + size);
      r.skip(size);
      if (id === 1 || id === 7) {
        const byIndex = id === 1 ? shift.func : shift.global;
        const body = new Writer();
        const n = sub.u32();
        body.u32(n);
        for (let i = 0; i < n; i++) body.u32(byIndex(sub.u32())).name(sub.name());
        w.byte(id).sized(body);
      } else if (id === 2 || id === 3) {
        const body = new Writer();
        const n = sub.u32();
        body.u32(n);
        for (let i = 0; i < n; i++) {
          body.u32(shift.func(sub.u32()));
          const m = sub.u32();
          body.u32(m);
          for (let j = 0; j < m; j++) body.u32(sub.u32()).name(sub.name());
        }
        w.byte(id).sized(body);
      } else {
        w.byte(id).u32(size).bytes(sub.bytes.subarray(sub.pos, sub.end));
      }
    }
  } catch {
    // names are for debugging only: a malformed name section is dropped rather than fail the load
    return new Writer().name('tenon-dropped-names');
  }
  return w;
}
