import { LoadError } from '../errors.js';
import type { Reader } from './binary.js';
import { type Instruction, OP, opensBlock, readInstruction, readValueType } from './instructions.js';
import { SCALED } from './meter-charge.js';

// What metering a module needs, decided before any body is written: each body decoded into
// instructions and regions, which small functions are charged at their call sites instead of at
// their entry, and which functions take the fuel counter as a parameter.

export interface Imports {
  funcs: number;
  globals: number;
  /** Function imports that may run long or stop the call: everything but the Extism kernel's. */
  host: Set<number>;
  /**
   * Kernel imports served by its WebAssembly alone (KERNEL_WASM_ONLY): they charge nothing, call no
   * JavaScript, and can trap but not throw, so a counted loop may call them (see meter-loops.ts).
   */
  kernel: Set<number>;
}

/** One decoded function body, and what its metering needs. */
export interface Body {
  reader: Reader;
  localsStart: number;
  localsEnd: number;
  instructions: Instruction[];
  /** For each instruction, the metered region it is charged to (0: the function entry; then one per loop). */
  regionOf: Int32Array;
  regions: number;
  /** True when the body has a loop, an indirect or tail call, or work that scales: it must charge at its own entry. */
  unbounded: boolean;
  /** True when the body has an instruction whose work scales with an operand (see SCALED). */
  scaled: boolean;
  /** True when the body makes a tail call (return_call, return_call_indirect, return_call_ref). */
  tail: boolean;
  params: number;
  /** Declared locals (not counting params). */
  locals: number;
}

const INDIRECT_CALLS = new Set([0x11, 0x12, 0x13, 0x14, 0x15]);

export function decodeBody(r: Reader, index: number, params: number): Body {
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
  let scaled = false;
  let tail = false;
  for (;;) {
    if (r.done) throw new LoadError(`function ${index} ends without "end"`);
    const ins = readInstruction(r);
    instructions.push(ins);
    regionOf.push(stack[stack.length - 1]!);
    if (INDIRECT_CALLS.has(ins.op)) unbounded = true;
    if (ins.op === OP.returnCall || ins.op === 0x13 || ins.op === 0x15) tail = true;
    if (SCALED.has(ins.op)) unbounded = scaled = true;
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
    } else if (ins.op === OP.delegate) {
      if (open.length === 0) throw new LoadError(`function ${index} has "delegate" outside any "try"`);
      open.pop(); // delegate closes its try as end would
    }
  }
  if (!r.done) throw new LoadError(`function ${index} has bytes after its final "end"`);
  return {
    reader: r,
    localsStart,
    localsEnd,
    params,
    locals,
    instructions,
    regionOf: Int32Array.from(regionOf),
    regions,
    unbounded,
    scaled,
    tail,
  };
}

/**
 * A function is "inlined" for metering when its work is bounded: no loops, no indirect or tail
 * calls, only direct calls to imports or other inlined functions, and nothing outside the module
 * can call it (not exported, not the start function, not in a table, no ref.func). Its cost is then
 * charged at each call site instead of at its entry, which keeps small helpers free of checks.
 * Any path that runs forever still passes a charge: a loop, or a function that is not inlined.
 * Returns each defined function's inlined cost, or undefined when it charges at its own entry.
 */
export function inlineCosts(bodies: readonly Body[], imports: Imports, escaping: ReadonlySet<number>): (number | undefined)[] {
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

/**
 * Which defined functions take the fuel counter as an extra last parameter and give it back as an
 * extra last result, instead of reading and writing the imported global at entry, exit and around
 * every call (four memory accesses per call; in Rust-PDK code, full of small functions, that was
 * most of the metering's cost). Only functions nothing outside the module can call qualify: not
 * exported, not the start function, not in a table, not a ref.func target; not inlined (those touch
 * no counter); and no tail calls into or out of them, since a tail call's callee must return what its
 * caller does.
 */
export function passesFuel(
  bodies: readonly Body[],
  importedFuncs: number,
  escaping: ReadonlySet<number>,
  inlined: readonly (number | undefined)[],
): boolean[] {
  const tailTargets = new Set<number>();
  for (const body of bodies) for (const ins of body.instructions) if (ins.op === OP.returnCall && ins.func) tailTargets.add(ins.func.index);
  return bodies.map(
    (body, i) => inlined[i] === undefined && !body.tail && !escaping.has(importedFuncs + i) && !tailTargets.has(importedFuncs + i),
  );
}
