import { LoadError } from '../errors.js';
import { Reader, Writer } from './binary.js';
import { type IndexMap, type Instruction, OP, opensBlock, readInstruction, readValueType, writeInstruction } from './instructions.js';

// Fuel metering of function bodies: the code-section half of instrument.ts.

/** Parameter counts: of each type, and of each defined function. */
export interface Params {
  types: number[];
  functions: number[];
}

export interface Imports {
  funcs: number;
  globals: number;
  /** Function imports that may run long or stop the call: everything but the Extism kernel's. */
  host: Set<number>;
}

/** Where the injected code finds the fuel counter and the refuel function (indices in the rewritten module). */
export interface MeterImports {
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
  /** True when the body has a loop, an indirect or tail call, or work that scales: it must charge at its own entry. */
  unbounded: boolean;
  /** True when the body has an instruction whose work scales with an operand (see SCALED). */
  scaled: boolean;
  params: number;
  /** Declared locals (not counting params). */
  locals: number;
}

const INDIRECT_CALLS = new Set([0x11, 0x12, 0x13, 0x14, 0x15]);

/**
 * Instructions whose work grows with their last operand (an i32: bytes, elements or pages), and
 * what they cost on top of their one unit: `min(n, clamp) << shl >>> shr`. The rates follow what
 * the work costs in V8 (measured on Node 20; see docs/limits.md), so that fuel stays a fair proxy
 * for time and a deadline's slice of fuel stays about a millisecond whatever the plug-in runs:
 * - memory.fill, memory.copy, memory.init: 1 unit per 4 bytes (0.01-0.16 ns a byte; a loop that
 *   copies 8 bytes at a time costs about 10 units per 8 bytes);
 * - table.fill, table.copy, table.init, table.grow: 256 units per element (20-300 ns each);
 * - memory.grow: 16,384 units per page, as if its 64 KiB were filled.
 * An operand of `checkAt` or more also makes refuel check the deadline before the work runs: one
 * such instruction takes long enough (64 KiB of memory, 64 table elements; a grow may copy a whole
 * table or run a GC: milliseconds past 64 MiB) that waiting for the slice to run out could
 * overshoot the deadline by more than the work itself.
 * Clamps keep one charge within 2^30, so the i32 counter never wraps; a larger operand fails anyway
 * (memories and tables are smaller than that).
 */
const SCALED = new Map<number, { clamp: number; shl: number; shr: number; checkAt: number }>();
for (const sub of [8, 10, 11]) SCALED.set((0xfc << 16) | sub, { clamp: 0xffffffff, shl: 0, shr: 2, checkAt: 65536 });
for (const sub of [12, 14, 17]) SCALED.set((0xfc << 16) | sub, { clamp: 1 << 22, shl: 8, shr: 0, checkAt: 64 });
// growing may copy the whole table or run a GC, whatever it adds: every grow checks the deadline
SCALED.set((0xfc << 16) | 15, { clamp: 1 << 22, shl: 8, shr: 0, checkAt: 1 });
SCALED.set(0x40, { clamp: 1 << 16, shl: 14, shr: 0, checkAt: 1 });

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
  let scaled = false;
  for (;;) {
    if (r.done) throw new LoadError(`function ${index} ends without "end"`);
    const ins = readInstruction(r);
    instructions.push(ins);
    regionOf.push(stack[stack.length - 1]!);
    if (INDIRECT_CALLS.has(ins.op)) unbounded = true;
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

/** Rewrite the code section: decode every body, work out the costs, emit metered bodies. */
export function rewriteCode(
  r: Reader,
  shift: IndexMap,
  meter: MeterImports | undefined,
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
  meter: MeterImports | undefined,
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
  // three more i32 locals hold the operands of an instruction whose charge scales with them
  w.u32(groups + 1)
    .bytes(bytes.subarray(locals.pos, body.localsEnd))
    .u32(body.scaled ? 4 : 1)
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
    const scale = SCALED.get(op);
    if (scale) chargeScaled(w, meter, local, local + 1, scale);
    const chunked = scale ? chunkable(bytes, ins) : undefined;
    if (chunked) {
      emitChunked(w, meter, local, chunked);
    } else if (ins.labels && wrap && open.some((o) => o.wrapped)) {
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
 * Before an instruction in SCALED, with its operand n on top of the stack (left there):
 * fuel -= cost(n); if (fuel < 0 || n >= checkAt) { refuel(); if (fuel < 0) unreachable }
 */
function chargeScaled(
  w: Writer,
  meter: MeterImports,
  local: number,
  operand: number,
  scale: { clamp: number; shl: number; shr: number; checkAt: number },
): void {
  w.byte(0x22).u32(operand); // local.tee operand
  w.byte(0x20).u32(local); // local.get fuel
  if (scale.clamp === 0xffffffff) w.byte(0x20).u32(operand);
  else {
    // select(n, clamp, n < clamp)
    w.byte(0x20).u32(operand).byte(0x41).s32(scale.clamp);
    w.byte(0x20).u32(operand).byte(0x41).s32(scale.clamp).byte(0x49).byte(0x1b); // i32.lt_u; select
  }
  if (scale.shl) w.byte(0x41).s32(scale.shl).byte(0x74); // i32.shl
  if (scale.shr) w.byte(0x41).s32(scale.shr).byte(0x76); // i32.shr_u
  w.byte(0x6b).byte(0x22).u32(local); // i32.sub; local.tee fuel
  w.byte(0x41).byte(0).byte(0x48); // i32.const 0; i32.lt_s
  w.byte(0x20).u32(operand).byte(0x41).s32(scale.checkAt).byte(0x4f).byte(0x72); // local.get n; i32.const checkAt; i32.ge_u; i32.or
  w.byte(0x04).byte(0x40); // if
  w.byte(0x20).u32(local).byte(0x24).u32(meter.global); // local.get; global.set
  w.byte(0x10).u32(meter.refuel); // call refuel
  w.byte(0x23).u32(meter.global).byte(0x22).u32(local); // global.get; local.tee
  w.byte(0x41).byte(0).byte(0x48); // i32.const 0; i32.lt_s
  w.byte(0x04).byte(0x40).byte(0x00).byte(0x0b); // if unreachable end
  w.byte(0x0b); // end
}

/** Bytes per piece of a split memory.fill or memory.copy: 256 KiB, tens of microseconds of work. */
const CHUNK = 0x40000;

/** memory.fill or memory.copy on memory 0 (the bytes say which), split into CHUNK pieces; others run whole. */
function chunkable(bytes: Uint8Array, ins: Instruction): 'fill' | 'copy' | undefined {
  const length = ins.end - ins.start;
  const zeroes = (from: number) => bytes.subarray(ins.start + from, ins.end).every((b) => b === 0);
  if (ins.op === ((0xfc << 16) | 11) && length === 3 && zeroes(2)) return 'fill';
  if (ins.op === ((0xfc << 16) | 10) && length === 4 && zeroes(2)) return 'copy';
  return undefined;
}

/**
 * A memory.fill or memory.copy (operands on the stack, already charged) done in CHUNK pieces, with
 * a deadline check before each but the last, so that one instruction over a large memory cannot
 * outrun a deadline (a 64 MiB fill of fresh pages took up to 500 ms on a loaded machine). Pieces
 * keep the instruction's meaning: an operation out of bounds runs whole and traps before writing
 * anything, and a copy to a higher address goes backwards, so overlapping ranges copy as one.
 * Locals: `local` the fuel counter, then a (destination), b (value or source), n (length).
 */
function emitChunked(w: Writer, meter: MeterImports, local: number, kind: 'fill' | 'copy'): void {
  const [a, b, n] = [local + 2, local + 3, local + 1];
  const get = (...ls: number[]) => {
    for (const l of ls) w.byte(0x20).u32(l);
    return w;
  };
  const set = (l: number) => w.byte(0x21).u32(l);
  const op = () => (kind === 'fill' ? w.byte(0xfc).u32(11).byte(0) : w.byte(0xfc).u32(10).byte(0).byte(0));
  const fits = (l: number) => {
    // i64(l) + i64(n) <= i64(memory.size) << 16
    get(l).byte(0xad); // i64.extend_i32_u
    get(n).byte(0xad).byte(0x7c); // i64.add
    w.byte(0x3f).byte(0).byte(0xad).byte(0x42).byte(16).byte(0x86).byte(0x58); // memory.size; i64.extend_i32_u; i64.const 16; i64.shl; i64.le_u
  };
  const step = (l: number, sign: 0x6a | 0x6b) => get(l).byte(0x41).s32(CHUNK).byte(sign).byte(0x21).u32(l);
  set(n);
  set(b);
  set(a);
  fits(a);
  if (kind === 'copy') {
    fits(b);
    w.byte(0x71); // i32.and
  }
  w.byte(0x04).byte(0x40); // if (in bounds)
  w.byte(0x02).byte(0x40).byte(0x03).byte(0x40); // block $done loop $more
  get(n).byte(0x41).s32(CHUNK).byte(0x4d).byte(0x0d).byte(1); // n <= CHUNK: br_if $done
  // the deadline check: refuel with the counter as it is (the work was charged already)
  get(local).byte(0x24).u32(meter.global).byte(0x10).u32(meter.refuel);
  w.byte(0x23).u32(meter.global).byte(0x22).u32(local).byte(0x41).byte(0).byte(0x48); // global.get; local.tee; i32.const 0; i32.lt_s
  w.byte(0x04).byte(0x40).byte(0x00).byte(0x0b); // if unreachable end
  if (kind === 'copy') {
    // b < a: backwards, the last CHUNK bytes first
    get(b, a).byte(0x49); // i32.lt_u
    w.byte(0x04).byte(0x40); // if
    get(a, n).byte(0x6a).byte(0x41).s32(CHUNK).byte(0x6b); // a + n - CHUNK
    get(b, n).byte(0x6a).byte(0x41).s32(CHUNK).byte(0x6b); // b + n - CHUNK
    w.byte(0x41).s32(CHUNK);
    op();
    w.byte(0x05); // else
  }
  get(a, b).byte(0x41).s32(CHUNK);
  op();
  step(a, 0x6a);
  if (kind === 'copy') {
    step(b, 0x6a);
    w.byte(0x0b); // end if
  }
  step(n, 0x6b);
  w.byte(0x0c).byte(0); // br $more
  w.byte(0x0b).byte(0x0b).byte(0x0b); // end loop, block, if
  get(a, b, n);
  op();
}

/**
 * fuel -= cost; if (fuel < 0) { refuel(); if (fuel < 0) unreachable }  (fuel cached in a local)
 *
 * refuel() never throws: it leaves the counter negative to stop the call, and the trap that follows
 * cannot be caught by the plug-in's own exception handlers (a thrown JavaScript error could be).
 */
function charge(w: Writer, meter: MeterImports, local: number, cost: number): void {
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
