import { LoadError } from '../errors.js';
import { Reader, Writer } from './binary.js';
import { type IndexMap, type Instruction, OP, opensBlock, writeInstruction } from './instructions.js';
import { charge, chargeScaled, chunkable, emitChunked, type MeterImports, refuel, SCALED } from './meter-charge.js';
import { type CountedLocals, type CountedLoop, countedLoops, emitExitCharge, emitGuard, versionable } from './meter-loops.js';
import { type Body, decodeBody, type Imports, inlineCosts, passesFuel } from './meter-plan.js';

// Fuel metering of function bodies: the code-section half of instrument.ts.

/** A function type: how many parameters and results, and their encoded value types. */
export interface FuncType {
  params: number;
  results: number;
  paramTypes: Uint8Array;
  resultTypes: Uint8Array;
}

/** The module's types, and the type index of each defined function. */
export interface Signatures {
  types: FuncType[];
  functions: number[];
}

/** The rewritten code section, and what the type and function sections must say to match it. */
export interface MeteredCode {
  code: Writer;
  /** Types the metered bodies use, to append to the type section (encoded, from `firstType` on). */
  newTypes: Uint8Array[];
  /** The type index of each defined function in the rewritten module. */
  functionTypes: number[];
}

/** Types appended to the module, each once. */
class NewTypes {
  readonly entries: Uint8Array[] = [];
  readonly #index = new Map<string, number>();
  readonly #first: number;

  constructor(first: number) {
    this.#first = first;
  }

  /** The index of the type (params) -> (results), each list given as count and encoded types. */
  add(params: number, paramTypes: Uint8Array, results: number, resultTypes: Uint8Array): number {
    const entry = new Writer().byte(0x60).u32(params).bytes(paramTypes).u32(results).bytes(resultTypes).finish();
    const key = entry.join();
    let index = this.#index.get(key);
    if (index === undefined) {
      index = this.#first + this.entries.length;
      this.entries.push(entry);
      this.#index.set(key, index);
    }
    return index;
  }
}

const I32 = Uint8Array.of(0x7f);
const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => Uint8Array.of(...a, ...b);

/** What every body's emission shares. */
interface Context {
  shift: IndexMap;
  meter: MeterImports;
  imports: Imports;
  inlined: readonly (number | undefined)[];
  passes: readonly boolean[];
  signatures: Signatures;
  types: NewTypes;
  /** Emit an unchecked copy of counted loops (see meter-loops.ts); off only to compare fuel in tests. */
  countLoops: boolean;
}

/**
 * Rewrite the code section: decode every body, work out the costs, emit metered bodies. New types
 * (for functions that pass the counter, and for wrapped loops and bodies) are numbered from `firstType`.
 */
export function rewriteCode(
  r: Reader,
  shift: IndexMap,
  meter: MeterImports | undefined,
  imports: Imports,
  escaping: ReadonlySet<number>,
  signatures: Signatures,
  firstType: number,
  countLoops: boolean,
): MeteredCode {
  const count = r.u32();
  if (count !== signatures.functions.length) {
    throw new LoadError(`the code section has ${count} bodies for ${signatures.functions.length} functions`);
  }
  const bodies: Body[] = [];
  for (let i = 0; i < count; i++) {
    const size = r.u32();
    const body = new Reader(r.bytes, r.pos, r.pos + size);
    r.skip(size);
    bodies.push(decodeBody(body, i, signatures.types[signatures.functions[i]!]?.params ?? 0));
  }
  const code = new Writer().u32(count);
  if (!meter) {
    for (const body of bodies) code.sized(copyBody(body, shift));
    return { code, newTypes: [], functionTypes: signatures.functions };
  }
  const targets = new Set(escaping);
  for (const body of bodies) for (const ins of body.instructions) if (ins.op === OP.refFunc && ins.func) targets.add(ins.func.index);
  const inlined = inlineCosts(bodies, imports, targets);
  const passes = passesFuel(bodies, imports.funcs, targets, inlined);
  const types = new NewTypes(firstType);
  const context: Context = { shift, meter, imports, inlined, passes, signatures, types, countLoops };
  const functionTypes = signatures.functions.map((t, i) => {
    const type = signatures.types[t]!;
    return passes[i] ? types.add(type.params + 1, concat(type.paramTypes, I32), type.results + 1, concat(type.resultTypes, I32)) : t;
  });
  for (const [i, body] of bodies.entries()) code.sized(inlined[i] === undefined ? emitBody(body, i, context) : copyBody(body, shift));
  return { code, newTypes: types.entries, functionTypes };
}

function copyBody(body: Body, shift: IndexMap): Writer {
  const bytes = body.reader.bytes;
  const w = new Writer().bytes(bytes.subarray(body.localsStart, body.localsEnd));
  for (const ins of body.instructions) writeInstruction(bytes, ins, w, shift);
  return w;
}

function emitBody(body: Body, index: number, context: Context): Writer {
  const { shift, meter, imports, inlined, passes, signatures, types } = context;
  const importedFuncs = imports.funcs;
  const { instructions } = body;
  const bytes = body.reader.bytes;
  const costs = regionCosts(body, inlined, importedFuncs);
  const passed = passes[index]!;
  const counted = context.countLoops ? countedLoopsOf(body, costs, imports.kernel) : new Map<number, CountedLoop>();
  const w = new Writer();
  const { local, scratch, counterAtEntry, mapLocal } = declareLocals(w, body, passed, counted);
  const save = () => w.byte(0x20).u32(local).byte(0x24).u32(meter.global); // local.get; global.set
  const load = () => w.byte(0x23).u32(meter.global).byte(0x21).u32(local); // global.get; local.set
  // Where a caught exception lands (a catch clause, or a try_table catch's label) the local holds
  // the counter from before the call that threw, and the global the thrower's: keep the smaller, so
  // catching exceptions never hands fuel back. (Arriving there any other way, the local is current
  // and never above the global: the global only ever takes the local's value or a new slice.)
  const loadMin = () => {
    w.byte(0x23).u32(meter.global).byte(0x20).u32(local); // global.get; local.get
    w.byte(0x23).u32(meter.global).byte(0x20).u32(local).byte(0x48); // global.get; local.get; i32.lt_s
    w.byte(0x1b).byte(0x21).u32(local); // select; local.set
  };
  if (!passed) load();
  charge(w, meter, local, costs[0]!);
  const type = signatures.types[signatures.functions[index]!]!;
  if (passed) {
    // The body runs in a block, so that a branch to the function's label lands where the counter
    // is pushed as the last result.
    w.byte(0x02);
    if (type.results === 0) w.byte(0x40);
    else w.s32(types.add(0, new Uint8Array(0), type.results, type.resultTypes));
  }

  // A call inside a loop, even on a path never taken, costs V8 up to 2.5x on a tight loop (it
  // spills around it), so a loop's refuel call is moved out: the loop is wrapped as
  //   block $after (bt) loop $retry (bt) block $slow (params -> params)  loop $l (bt) [charge; br_if $slow] body end
  //   br $after end [refuel; give the charge back] br $retry end end
  // and labels that cross the three new ones are renumbered (branches, rethrow, delegate, try_table's
  // catch clauses). The loop's parameters, if any, ride along: br_if $slow and br $retry carry them.
  // A counted loop goes inside `if (guard) [unchecked copy] else [the above] end`; no branch leaves
  // it (see countedLoops), so no label crosses the new `if`.
  const landings = catchLandings(instructions);
  const open: { wrapped: boolean; cost: number; landing: boolean }[] = [];
  const relabel = (label: number, from: number): number => {
    let moved = label;
    for (let j = open.length - 1 - from, crossed = 0; j >= 0 && crossed < label; j--, crossed++) if (open[j]!.wrapped) moved += 3;
    return moved;
  };
  let nextRegion = 1;
  const emit = (k: number) => {
    const ins = instructions[k]!;
    const op = ins.op;
    const last = k === instructions.length - 1;
    const callee = op === OP.call && ins.func ? ins.func.index : -1;
    const passesTo = callee >= importedFuncs && passes[callee - importedFuncs]!;
    const callsMetered =
      (callee >= 0 && !passesTo && (callee < importedFuncs ? imports.host.has(callee) : inlined[callee - importedFuncs] === undefined)) ||
      op === 0x11 ||
      op === 0x14;
    const throws = op === 0x08 || op === 0x09 || op === 0x0a;
    const leaves =
      throws || (!passed && (op === 0x0f || op === 0x12 || op === 0x13 || op === 0x15 || ins.labels?.includes(open.length) || last));
    if (callsMetered || leaves) save();
    if (passesTo || (passed && op === 0x0f)) w.byte(0x20).u32(local); // the counter, as the last argument or result
    if (op === OP.loop) {
      const blockType = bytes.subarray(ins.start + 1, ins.end);
      const params = loopParams(bytes, ins, signatures);
      const cost = costs[nextRegion++]!;
      w.byte(0x02).bytes(blockType).byte(0x03).bytes(blockType).byte(0x02); // block $after, loop $retry, block $slow
      if (params) w.s32(types.add(params.params, params.paramTypes, params.params, params.paramTypes));
      else w.byte(0x40);
      w.byte(0x03).bytes(blockType); // loop $l
      if (landings.has(k)) loadMin(); // a try_table catch lands at the loop's start
      w.byte(0x20).u32(local).byte(0x41).s32(cost).byte(0x6b); // local.get; i32.const cost; i32.sub
      w.byte(0x22).u32(local).byte(0x41).byte(0).byte(0x48).byte(0x0d).byte(1); // local.tee; i32.const 0; i32.lt_s; br_if $slow
      open.push({ wrapped: true, cost, landing: false });
      return;
    }
    const scale = SCALED.get(op);
    if (scale) chargeScaled(w, meter, local, scratch, scale);
    const chunked = scale ? chunkable(bytes, ins) : undefined;
    if (chunked) {
      emitChunked(w, meter, local, scratch, chunked);
    } else if (ins.catches && open.some((o) => o.wrapped)) {
      // try_table: its catch labels count from outside it, as a branch just before it would
      let at = ins.start;
      for (const clause of ins.catches) {
        w.bytes(bytes.subarray(at, clause.start)).u32(relabel(clause.label, 0));
        at = clause.end;
      }
      w.bytes(bytes.subarray(at, ins.end));
    } else if (ins.labels && open.some((o) => o.wrapped)) {
      // br, br_if, br_table, br_on_null, br_on_non_null, rethrow, delegate: one-byte opcodes, then
      // their labels (delegate's count from outside the try it closes)
      const labels = ins.labels.map((label) => relabel(label, op === OP.delegate ? 1 : 0));
      w.byte(op);
      if (op === 0x0e) w.u32(labels.length - 1);
      for (const label of labels) w.u32(label);
    } else if (passed && op >= 0x20 && op <= 0x22) {
      // local.get, local.set, local.tee: declared locals moved up past the counter parameter
      w.byte(op).u32(mapLocal(new Reader(bytes, ins.start + 1, ins.end).u32()));
    } else {
      writeInstruction(bytes, ins, w, shift);
    }
    if (passesTo) w.byte(0x21).u32(local); // the counter, back as the last result
    if (opensBlock(op)) {
      open.push({ wrapped: false, cost: 0, landing: landings.has(k) });
    } else if (op === OP.delegate) {
      if (open.pop()!.landing) loadMin();
    } else if (op === OP.end && open.length > 0) {
      const closed = open.pop()!;
      if (closed.landing) loadMin();
      if (closed.wrapped) {
        w.byte(0x0c).byte(2).byte(0x0b); // br $after; end $slow
        refuel(w, meter, local);
        // the charge was counted by refuel: give it back, the retry charges it again
        w.byte(0x20).u32(local).byte(0x41).s32(closed.cost).byte(0x6a).byte(0x21).u32(local);
        w.byte(0x0c).byte(0).byte(0x0b).byte(0x0b); // br $retry; end $retry; end $after
      }
    } else if (last && passed) {
      if (landings.has(FUNCTION)) loadMin();
      w.byte(0x20).u32(local).byte(0x0b); // the body's block has ended: local.get counter; end
    }
    if (callsMetered) load();
    else if (op === 0x07 || op === 0x19) loadMin(); // catch, catch_all
  };

  // if (guard) { entry = counter; loop [unchecked] end; charge the iterations run } else [checked loop] end
  const emitCounted = (loop: CountedLoop) => {
    const cost = costs[nextRegion]!;
    const at: CountedLocals = { fuel: local, scratch: counterAtEntry[loop.wide ? 'i64' : 'i32'], local: mapLocal };
    emitGuard(w, loop, cost, at);
    w.byte(0x04).byte(0x40); // if
    w.byte(0x20).u32(mapLocal(loop.counter)).byte(0x21).u32(at.scratch);
    // the unchecked copy: the loop's own instructions, its branches all within it
    for (let k = loop.start; k <= loop.end; k++) {
      const ins = instructions[k]!;
      if (ins.op >= 0x20 && ins.op <= 0x22) w.byte(ins.op).u32(mapLocal(new Reader(bytes, ins.start + 1, ins.end).u32()));
      else writeInstruction(bytes, ins, w, shift);
    }
    emitExitCharge(w, loop, cost, at);
    w.byte(0x05); // else
    for (let k = loop.start; k <= loop.end; k++) emit(k);
    w.byte(0x0b); // end if
  };

  for (let k = 0; k < instructions.length; k++) {
    const loop = counted.get(k);
    if (loop) {
      emitCounted(loop);
      k = loop.end;
    } else emit(k);
  }
  return w;
}

/** Each region's cost (see meter-plan.ts): its instructions, plus what inlined callees charge at the call. */
function regionCosts(body: Body, inlined: readonly (number | undefined)[], importedFuncs: number): number[] {
  const costs = new Array<number>(body.regions).fill(0);
  for (const [k, ins] of body.instructions.entries()) {
    const region = body.regionOf[k]!;
    costs[region]! += 1;
    if (ins.op === OP.call && ins.func && ins.func.index >= importedFuncs) costs[region]! += inlined[ins.func.index - importedFuncs] ?? 0;
  }
  return costs;
}

/** The locals a metered body adds, by index, and how the body's own locals are renumbered. */
interface MeterLocals {
  /** The fuel counter. */
  local: number;
  /** The first of three i32 locals holding the operands of an instruction whose charge scales with them. */
  scratch: number;
  /** For counted loops: one local of each width, the counter's value at the loop's entry. */
  counterAtEntry: { i32: number; i64: number };
  /** A local of the original body, as the metered body numbers it. */
  mapLocal: (n: number) => number;
}

/**
 * Write the metered body's locals declaration: the body's own, then the ones metering adds.
 * The counter lives in a local while the function runs (a global costs ~3x more on a tight loop).
 * A function that passes it (see passesFuel) has it as its last parameter, after which the declared
 * locals move up by one; any other copies it from the global at entry and writes it back before
 * anything that may charge fuel elsewhere or leave.
 */
function declareLocals(w: Writer, body: Body, passed: boolean, counted: ReadonlyMap<number, CountedLoop>): MeterLocals {
  const local = passed ? body.params : body.params + body.locals;
  const scratch = passed ? body.params + 1 + body.locals : local + 1;
  const needs = { i32: false, i64: false };
  for (const loop of counted.values()) needs[loop.wide ? 'i64' : 'i32'] = true;
  const afterScratch = scratch + (body.scaled ? 3 : 0);
  const i32Locals = (passed ? 0 : 1) + (body.scaled ? 3 : 0) + (needs.i32 ? 1 : 0);
  const bytes = body.reader.bytes;
  const locals = new Reader(bytes, body.localsStart, body.localsEnd);
  const groups = locals.u32();
  w.u32(groups + (i32Locals > 0 ? 1 : 0) + (needs.i64 ? 1 : 0)).bytes(bytes.subarray(locals.pos, body.localsEnd));
  if (i32Locals > 0) w.u32(i32Locals).byte(0x7f);
  if (needs.i64) w.u32(1).byte(0x7e);
  return {
    local,
    scratch,
    counterAtEntry: { i32: afterScratch, i64: afterScratch + (needs.i32 ? 1 : 0) },
    mapLocal: (n) => (passed && n >= body.params ? n + 1 : n),
  };
}

/** The function's own label, as catchLandings names it. */
const FUNCTION = -1;

/**
 * Where try_table's catch clauses land: the index of each construct a catch label names (its end,
 * or a loop's start), FUNCTION for the function's own label.
 */
function catchLandings(instructions: readonly Instruction[]): Set<number> {
  const landings = new Set<number>();
  const open: number[] = [];
  for (const [k, ins] of instructions.entries()) {
    for (const { label } of ins.catches ?? []) landings.add(label < open.length ? open[open.length - 1 - label]! : FUNCTION);
    if (opensBlock(ins.op)) open.push(k);
    else if (ins.op === OP.end || ins.op === OP.delegate) open.pop();
  }
  return landings;
}

/** The counted loops of a body worth versioning, by their loop instruction's index. */
function countedLoopsOf(body: Body, costs: readonly number[], kernel: ReadonlySet<number>): Map<number, CountedLoop> {
  const found = countedLoops(body.reader.bytes, body.instructions, kernel);
  for (const [k, loop] of found) if (!versionable(loop, costs[body.regionOf[k + 1]!]!)) found.delete(k);
  return found;
}

/** The parameters a loop takes, when it takes any (only a type index can give it some). */
function loopParams(bytes: Uint8Array, ins: Instruction, signatures: Signatures): FuncType | undefined {
  const type = new Reader(bytes, ins.start + 1, ins.end).s33();
  const found = type < 0 ? undefined : signatures.types[type];
  return found && found.params > 0 ? found : undefined;
}
