import { LimitError, LoadError } from '../errors.js';
import { Reader, Writer } from './binary.js';
import { type Instruction, OP, opensBlock, readInstruction, readValueType } from './instructions.js';

/** Where injected code finds the host: `(import "tenon" "fuel" (global (mut i32)))` and `(import "tenon" "refuel" (func))`. */
export const METER_MODULE = 'tenon';

export interface InstrumentOptions {
  /** Cap every memory the module defines to grow by at most this many 64 KiB pages. */
  maxPages?: number | undefined;
  /** Cap every table the module defines at this many elements. */
  maxTableElements?: number | undefined;
  /** Inject fuel metering. */
  meter: boolean;
}

/**
 * Rewrite a module: cap its memories and inject fuel metering.
 *
 * Cost model (deterministic: it depends only on the path taken, never on timing): entering a
 * function costs the number of instructions in its body outside any loop; each iteration of a
 * loop costs the number of instructions directly inside it (nested loops charge their own). The
 * charge is subtracted from the imported `tenon.fuel` counter at function entry and at each loop
 * header; when the counter goes below zero the code calls `tenon.refuel`, which grants the next
 * slice or aborts the call by throwing. Everything else in the module is re-emitted unchanged,
 * with function and global indices shifted past the two new imports.
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
      emit(id, id === SECTION.type ? appendType(new Writer().u32(1)) : appendImports(new Writer().u32(2), meter!.type));
    }
  };

  for (const section of sections) {
    if (section.id !== SECTION.custom) emitMissingBefore(ORDER[section.id] ?? 99);
    const r = new Reader(bytes, section.start, section.end);
    switch (section.id) {
      case SECTION.type:
        emit(section.id, meter ? rewriteVector(r, 1, (w) => appendType(w)) : copy(r));
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
      case SECTION.code:
        emit(section.id, rewriteCode(r, shift, meter, imports, escaping, paramCounts(bytes, sections)));
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

/** Where function and global indices go in the rewritten module. */
interface IndexMap {
  func(index: number): number;
  global(index: number): number;
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

/** Parameter counts: of each type, and of each defined function. */
interface Params {
  types: number[];
  functions: number[];
}

/** The parameter count of each type and each defined function, from the type and function sections. */
function paramCounts(bytes: Uint8Array, sections: readonly Section[]): Params {
  const types: number[] = [];
  const typeSection = sections.find((s) => s.id === SECTION.type);
  if (typeSection) {
    const r = new Reader(bytes, typeSection.start, typeSection.end);
    const count = r.u32();
    for (let i = 0; i < count; i++) {
      const form = r.byte();
      if (form !== 0x60) throw new LoadError(`type ${i} is not a function type (0x${form.toString(16)}): GC types are not supported`);
      const n = r.u32();
      for (let j = 0; j < n; j++) readValueType(r);
      types.push(n);
      const results = r.u32();
      for (let j = 0; j < results; j++) readValueType(r);
    }
  }
  const functionSection = sections.find((s) => s.id === SECTION.function);
  if (!functionSection) return { types, functions: [] };
  const r = new Reader(bytes, functionSection.start, functionSection.end);
  return { types, functions: Array.from({ length: r.u32() }, () => types[r.u32()] ?? 0) };
}

interface Imports {
  funcs: number;
  globals: number;
  /** Function imports that may run long or stop the call: everything but the Extism kernel's. */
  host: Set<number>;
}

function countImports(bytes: Uint8Array, section: Section | undefined): Imports {
  const counts: Imports = { funcs: 0, globals: 0, host: new Set() };
  if (!section) return counts;
  const r = new Reader(bytes, section.start, section.end);
  const n = r.u32();
  for (let i = 0; i < n; i++) {
    const module = r.name();
    r.skip(r.u32());
    const kind = r.byte();
    if (kind === 0) {
      if (module !== 'extism:host/env') counts.host.add(counts.funcs);
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

function capMemories(r: Reader, growthPages: number): Writer {
  const count = r.u32();
  const w = new Writer().u32(count);
  for (let i = 0; i < count; i++) {
    const { flags, min, max } = readLimits(r);
    const cap = Math.max(min, Math.min(max ?? MAX_PAGES, min + growthPages, MAX_PAGES));
    w.byte(flags | 1)
      .u32(min)
      .u32(cap);
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

function writeInstruction(bytes: Uint8Array, ins: Instruction, w: Writer, shift: IndexMap): void {
  const index = ins.func ?? ins.global;
  if (!index) {
    w.bytes(bytes.subarray(ins.start, ins.end));
    return;
  }
  const shifted = ins.func ? shift.func(index.index) : shift.global(index.index);
  w.bytes(bytes.subarray(ins.start, index.start)).u32(shifted).bytes(bytes.subarray(index.end, ins.end));
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

interface Meter {
  global: number;
  refuel: number;
}

/** One decoded function body, and what its metering needs. */
interface Body {
  reader: Reader;
  localsStart: number;
  localsEnd: number;
  instructions: Instruction[];
  /** For each instruction, the metered region it is charged to (0: the function entry; then one per loop). */
  regionOf: Int32Array;
  regions: number;
  /** True when the body has a loop or an indirect or tail call: it must charge at its own entry. */
  unbounded: boolean;
  params: number;
  /** Declared locals (not counting params). */
  locals: number;
}

const INDIRECT_CALLS = new Set([0x11, 0x12, 0x13, 0x14, 0x15]);

function decodeBody(r: Reader, index: number, params: number): Body {
  const localsStart = r.pos;
  const groups = r.u32();
  let locals = 0;
  for (let i = 0; i < groups; i++) {
    locals += r.u32();
    readValueType(r);
  }
  const localsEnd = r.pos;
  const instructions: Instruction[] = [];
  const regionOf: number[] = [];
  const open: boolean[] = []; // control stack: is this construct a loop?
  const stack: number[] = [0]; // regions of the open loops, innermost last
  let regions = 1;
  let unbounded = false;
  for (;;) {
    if (r.done) throw new LoadError(`function ${index} ends without "end"`);
    const ins = readInstruction(r);
    instructions.push(ins);
    regionOf.push(stack[stack.length - 1]!);
    if (INDIRECT_CALLS.has(ins.op)) unbounded = true;
    if (opensBlock(ins.op)) {
      const loop = ins.op === OP.loop;
      open.push(loop);
      if (loop) {
        unbounded = true;
        stack.push(regions++);
      }
    } else if (ins.op === OP.end) {
      if (open.length === 0) break;
      if (open.pop()) stack.pop();
    }
  }
  if (!r.done) throw new LoadError(`function ${index} has bytes after its final "end"`);
  return { reader: r, localsStart, localsEnd, params, locals, instructions, regionOf: Int32Array.from(regionOf), regions, unbounded };
}

/**
 * A function is "inlined" for metering when its work is bounded: no loops, no indirect or tail
 * calls, only direct calls to imports or other inlined functions, and nothing outside the module
 * can call it (not exported, not the start function, not in a table, no ref.func). Its cost is then
 * charged at each call site instead of at its entry, which keeps small helpers free of checks.
 * Any path that runs forever still passes a charge: a loop, or a function that is not inlined.
 * Returns each defined function's inlined cost, or undefined when it charges at its own entry.
 */
function inlineCosts(bodies: readonly Body[], imports: Imports, escaping: ReadonlySet<number>): (number | undefined)[] {
  const importedFuncs = imports.funcs;
  const VISITING = -1;
  const NOT_INLINED = -2;
  const state = new Map<number, number>();
  const visit = (i: number): number => {
    const known = state.get(i);
    if (known !== undefined) return known === VISITING ? NOT_INLINED : known; // a cycle is recursion
    const body = bodies[i]!;
    if (body.unbounded || escaping.has(importedFuncs + i)) {
      state.set(i, NOT_INLINED);
      return NOT_INLINED;
    }
    state.set(i, VISITING);
    let total = body.instructions.length;
    for (const ins of body.instructions) {
      if (ins.op !== OP.call || !ins.func) continue;
      if (ins.func.index < importedFuncs) {
        if (!imports.host.has(ins.func.index)) continue;
        total = NOT_INLINED; // a host function may take long: the caller must resync around it
        break;
      }
      const callee = visit(ins.func.index - importedFuncs);
      total = callee === NOT_INLINED ? NOT_INLINED : total + callee;
      if (total === NOT_INLINED || total > MAX_INLINED_COST) {
        total = NOT_INLINED;
        break;
      }
    }
    state.set(i, total);
    return total;
  };
  return bodies.map((_, i) => {
    const cost = visit(i);
    return cost >= 0 ? cost : undefined;
  });
}

/** Above this a bounded function still charges at its own entry, so one charge never gets huge. */
const MAX_INLINED_COST = 100_000;

function rewriteCode(
  r: Reader,
  shift: IndexMap,
  meter: Meter | undefined,
  imports: Imports,
  escaping: ReadonlySet<number>,
  params: Params,
): Writer {
  const count = r.u32();
  const bodies: Body[] = [];
  for (let i = 0; i < count; i++) {
    const size = r.u32();
    const body = new Reader(r.bytes, r.pos, r.pos + size);
    r.skip(size);
    bodies.push(decodeBody(body, i, params.functions[i] ?? 0));
  }
  let inlined: (number | undefined)[] = [];
  if (meter) {
    const targets = new Set(escaping);
    for (const body of bodies) for (const ins of body.instructions) if (ins.op === OP.refFunc && ins.func) targets.add(ins.func.index);
    inlined = inlineCosts(bodies, imports, targets);
  }
  const w = new Writer().u32(count);
  for (const [i, body] of bodies.entries()) w.sized(emitBody(body, shift, meter, inlined, imports, inlined[i] !== undefined, params.types));
  return w;
}

function emitBody(
  body: Body,
  shift: IndexMap,
  meter: Meter | undefined,
  inlined: readonly (number | undefined)[],
  imports: Imports,
  isInlined: boolean,
  typeParams: readonly number[],
): Writer {
  const importedFuncs = imports.funcs;
  const { reader, instructions, regionOf } = body;
  const bytes = reader.bytes;
  if (!meter || isInlined) {
    const w = new Writer().bytes(bytes.subarray(body.localsStart, body.localsEnd));
    for (const ins of instructions) writeInstruction(bytes, ins, w, shift);
    return w;
  }
  const costs = new Array<number>(body.regions).fill(0);
  for (const [k, ins] of instructions.entries()) {
    const region = regionOf[k]!;
    costs[region]! += 1;
    if (ins.op === OP.call && ins.func && ins.func.index >= importedFuncs) costs[region]! += inlined[ins.func.index - importedFuncs] ?? 0;
  }
  // The counter lives in a local of its own while the function runs (a global costs ~3x more on a
  // tight loop); it is written back before anything that may charge fuel elsewhere or leave.
  const local = body.params + body.locals;
  const w = new Writer();
  const locals = new Reader(bytes, body.localsStart, body.localsEnd);
  const groups = locals.u32();
  w.u32(groups + 1)
    .bytes(bytes.subarray(locals.pos, body.localsEnd))
    .u32(1)
    .byte(0x7f);
  const save = () => w.byte(0x20).u32(local).byte(0x24).u32(meter.global); // local.get; global.set
  const load = () => w.byte(0x23).u32(meter.global).byte(0x21).u32(local); // global.get; local.set
  // In a catch clause neither copy is sure to be current (the thrower may not have saved): keep
  // the smaller, so catching exceptions never hands fuel back.
  const loadMin = () => {
    w.byte(0x23).u32(meter.global).byte(0x20).u32(local); // global.get; local.get
    w.byte(0x23).u32(meter.global).byte(0x20).u32(local).byte(0x48); // global.get; local.get; i32.lt_s
    w.byte(0x1b).byte(0x21).u32(local); // select; local.set
  };
  load();
  charge(w, meter, local, costs[0]!);

  // A call inside a loop, even on a path never taken, costs V8 up to 2.5x on a tight loop (it
  // spills around it), so a loop's refuel call is moved out: the loop is wrapped as
  //   block $after (bt) loop $retry (bt) block $slow  loop $l (bt) [charge; br_if $slow] body end
  //   br $after end [refuel; give the charge back] br $retry end end
  // and branches that cross the three new labels are renumbered. Functions whose loops take
  // parameters, or that use label-based exception instructions (rethrow, delegate, try_table),
  // keep the call inside the loop instead.
  const wrap =
    !instructions.some((ins) => ins.op === 0x09 || ins.op === 0x18 || ins.op === 0x1f) &&
    instructions.every((ins) => ins.op !== OP.loop || blockParams(bytes, ins, typeParams) === 0);
  const open: { wrapped: boolean; cost: number }[] = [];
  const relabel = (label: number): number => {
    let extra = 0;
    for (let j = open.length - 1, crossed = 0; j >= 0 && crossed < label; j--, crossed++) if (open[j]!.wrapped) extra += 3;
    return label + extra;
  };
  let nextRegion = 1;
  for (const [k, ins] of instructions.entries()) {
    const op = ins.op;
    const callee = op === OP.call && ins.func ? ins.func.index : -1;
    const callsMetered =
      (callee >= 0 && (callee < importedFuncs ? imports.host.has(callee) : inlined[callee - importedFuncs] === undefined)) ||
      op === 0x11 ||
      op === 0x14;
    const leaves =
      op === 0x0f ||
      op === 0x12 ||
      op === 0x13 ||
      op === 0x15 ||
      op === 0x08 ||
      op === 0x09 ||
      op === 0x0a ||
      ins.labels?.includes(open.length) ||
      k === instructions.length - 1;
    if (callsMetered || leaves) save();
    if (op === OP.loop && wrap) {
      const blockType = bytes.subarray(ins.start + 1, ins.end);
      const cost = costs[nextRegion++]!;
      w.byte(0x02).bytes(blockType).byte(0x03).bytes(blockType).byte(0x02).byte(0x40); // block $after, loop $retry, block $slow
      w.byte(0x03).bytes(blockType); // loop $l
      w.byte(0x20).u32(local).byte(0x41).s32(cost).byte(0x6b); // local.get; i32.const cost; i32.sub
      w.byte(0x22).u32(local).byte(0x41).byte(0).byte(0x48).byte(0x0d).byte(1); // local.tee; i32.const 0; i32.lt_s; br_if $slow
      open.push({ wrapped: true, cost });
      continue;
    }
    if (ins.labels && wrap && open.some((o) => o.wrapped)) {
      // br, br_if, br_table, br_on_null, br_on_non_null: one-byte opcodes, then their labels
      const labels = ins.labels.map(relabel);
      w.byte(op);
      if (op === 0x0e) w.u32(labels.length - 1);
      for (const label of labels) w.u32(label);
    } else {
      writeInstruction(bytes, ins, w, shift);
    }
    if (opensBlock(op)) {
      open.push({ wrapped: false, cost: 0 });
      if (op === OP.loop) charge(w, meter, local, costs[nextRegion++]!);
    } else if (op === OP.end && open.length > 0) {
      const closed = open.pop()!;
      if (closed.wrapped) {
        w.byte(0x0c).byte(2).byte(0x0b); // br $after; end $slow
        w.byte(0x20).u32(local).byte(0x24).u32(meter.global).byte(0x10).u32(meter.refuel); // save; call refuel
        w.byte(0x23).u32(meter.global).byte(0x22).u32(local).byte(0x41).byte(0).byte(0x48); // global.get; local.tee; i32.const 0; i32.lt_s
        w.byte(0x04).byte(0x40).byte(0x00).byte(0x0b); // if unreachable end
        // the charge was counted by refuel: give it back, the retry charges it again
        w.byte(0x20).u32(local).byte(0x41).s32(closed.cost).byte(0x6a).byte(0x21).u32(local);
        w.byte(0x0c).byte(0).byte(0x0b).byte(0x0b); // br $retry; end $retry; end $after
      }
    }
    if (callsMetered) load();
    else if (op === 0x07 || op === 0x19) loadMin(); // catch, catch_all
  }
  return w;
}

/** How many parameters a block type takes (only a type index can give it any). */
function blockParams(bytes: Uint8Array, ins: Instruction, typeParams: readonly number[]): number {
  const type = new Reader(bytes, ins.start + 1, ins.end).s33();
  return type < 0 ? 0 : (typeParams[type] ?? 0);
}

/**
 * fuel -= cost; if (fuel < 0) { refuel(); if (fuel < 0) unreachable }  (fuel cached in a local)
 *
 * refuel() never throws: it leaves the counter negative to stop the call, and the trap that follows
 * cannot be caught by the plug-in's own exception handlers (a thrown JavaScript error could be).
 */
function charge(w: Writer, meter: Meter, local: number, cost: number): void {
  w.byte(0x20).u32(local).byte(0x41).s32(cost).byte(0x6b); // local.get; i32.const cost; i32.sub
  w.byte(0x22).u32(local).byte(0x41).byte(0).byte(0x48); // local.tee; i32.const 0; i32.lt_s
  w.byte(0x04).byte(0x40); // if
  w.byte(0x20).u32(local).byte(0x24).u32(meter.global); // local.get; global.set
  w.byte(0x10).u32(meter.refuel); // call refuel
  w.byte(0x23).u32(meter.global).byte(0x22).u32(local); // global.get; local.tee
  w.byte(0x41).byte(0).byte(0x48); // i32.const 0; i32.lt_s
  w.byte(0x04).byte(0x40).byte(0x00).byte(0x0b); // if unreachable end
  w.byte(0x0b); // end
}
