import { Reader, type Writer } from './binary.js';
import { type Instruction, OP, opensBlock } from './instructions.js';
import { SCALED } from './meter-charge.js';

// Counted loops, charged without a check per iteration. A loop whose trip count is bounded at its
// entry (a counter stepped by a constant, compared with a bound that the loop does not change) is
// emitted twice: the checked copy every loop gets, and an unchecked copy chosen at entry when the
// fuel left covers the most iterations the loop can run. After it, the unchecked copy charges what
// the checked one would have charged (iterations run × the loop's cost), worked out from the
// counter's value at entry and at the end, so fuel is the same on either path; neither calls refuel
// (the fuel covers the loop), and a trap inside leaves the same counter in the global (neither
// copy writes it back inside the loop: it holds no call that charges and no way out).

/** A loop the rewriter versions, found by countedLoops; instruction positions are body indices. */
export interface CountedLoop {
  /** The loop instruction, and its end. */
  start: number;
  end: number;
  /** The counter's local (as the module numbers it) and whether it is an i64. */
  counter: number;
  wide: boolean;
  /** The constant the counter moves by each iteration, and log2 of its magnitude. */
  step: bigint;
  shift: number;
  /** What the stepped counter is compared with: a local the loop never writes, or a constant. */
  bound: { local: number } | { constant: bigint };
  /** The loop goes on while `counter (compare) bound`, compare oriented the way the counter moves. */
  compare: 'lt' | 'le' | 'ne';
  signed: boolean;
  /** When set, a bound local must stay under it (counting up) or over it (counting down), or the counter could wrap. */
  limit: bigint | undefined;
}

const BRANCH_IF = 0x0d;
/** Instructions an unchecked copy may not hold: calls, returns, exceptions, and table-driven or typed branches. */
const EXCLUDED = new Set([0x06, 0x07, 0x08, 0x09, 0x0a, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x18, 0x19, 0x1f, 0xd4, 0xd6]);

/**
 * The loops of a body that can be versioned, keyed by the loop instruction's index: innermost loops
 * with no block type, no returns, exceptions or scaled instructions, no calls but to the `kernel`
 * imports given (which charge nothing and can trap but not throw), and no way out but their one
 * back edge, a `br_if` at their end:
 *   ... counter = counter ± step (at the loop's top level, its only write) ... br_if 0 (counter <=> bound)
 * A loop with another way out is left checked: such loops search (memchr's run two or three
 * iterations a call in Rust's `str::contains`), and the guard costs more than the checks it saves.
 */
export function countedLoops(
  bytes: Uint8Array,
  instructions: readonly Instruction[],
  kernel: ReadonlySet<number>,
): Map<number, CountedLoop> {
  const found = new Map<number, CountedLoop>();
  for (let k = 0; k < instructions.length; k++) {
    if (instructions[k]!.op !== OP.loop) continue;
    const loop = recognise(bytes, instructions, k, kernel);
    if (loop) found.set(k, loop);
  }
  return found;
}

function recognise(
  bytes: Uint8Array,
  instructions: readonly Instruction[],
  start: number,
  kernel: ReadonlySet<number>,
): CountedLoop | undefined {
  const loop = instructions[start]!;
  if (loop.end !== loop.start + 2 || bytes[loop.start + 1] !== 0x40) return undefined;
  let end = -1;
  for (let k = start + 1, depth = 0; k < instructions.length; k++) {
    const ins = instructions[k]!;
    const kernelCall = ins.op === OP.call && ins.func !== undefined && kernel.has(ins.func.index);
    if (ins.op === OP.loop || (EXCLUDED.has(ins.op) && !kernelCall) || SCALED.has(ins.op)) return undefined;
    if (opensBlock(ins.op)) depth++;
    else if (ins.op === OP.end) {
      if (depth === 0) {
        end = k;
        break;
      }
      depth--;
    }
    // br and br_if only (the rest are EXCLUDED): within the loop, or its back edge at the end
    for (const label of ins.labels ?? []) {
      if (label > depth) return undefined;
      if (label === depth && !(ins.op === BRANCH_IF && depth === 0 && instructions[k + 1]?.op === OP.end)) return undefined;
    }
  }
  if (end < 0) return undefined;
  return tail(bytes, instructions, start, end);
}

const localOf = (bytes: Uint8Array, ins: Instruction) => new Reader(bytes, ins.start + 1, ins.end).u32();

/** The comparison before the back edge, and the counter's step; undefined when the loop is not counted. */
function tail(bytes: Uint8Array, instructions: readonly Instruction[], start: number, end: number): CountedLoop | undefined {
  const at = (k: number) => (k > start && k < end ? instructions[k] : undefined);
  const written = new Set<number>();
  for (let k = start + 1; k < end; k++) {
    const ins = instructions[k]!;
    if (ins.op === 0x21 || ins.op === 0x22) written.add(localOf(bytes, ins));
  }
  const isCounter = (k: number) => {
    const ins = at(k);
    return ins !== undefined && (ins.op === 0x22 || (ins.op === 0x20 && written.has(localOf(bytes, ins))));
  };
  const isBound = (k: number) => {
    const ins = at(k);
    return ins !== undefined && (ins.op === 0x41 || ins.op === 0x42 || (ins.op === 0x20 && !written.has(localOf(bytes, ins))));
  };
  const p = end - 2;
  const last = at(p);
  if (!last) return undefined;
  let counterAt: number;
  let boundAt: number | undefined; // undefined: compared with zero
  let op: number;
  if ((last.op >= 0x47 && last.op <= 0x4f) || (last.op >= 0x52 && last.op <= 0x5a)) {
    op = last.op;
    const second = p - 1;
    if (at(second)?.op === 0x22 && !isIncrementTee(bytes, instructions, second, start)) return undefined;
    const first = at(second)?.op === 0x22 ? second - 4 : second - 1;
    if (isCounter(first) && isBound(second)) [counterAt, boundAt] = [first, second];
    else if (isCounter(second) && isBound(first)) {
      [counterAt, boundAt] = [second, first];
      op = mirror(op);
    } else return undefined;
  } else if (last.op === 0x45 && (at(p - 1)?.op === 0x50 || at(p - 1)?.op === 0x45)) {
    // (counter != 0) written as eqz twice over
    op = at(p - 1)!.op === 0x50 ? 0x52 : 0x47;
    counterAt = p - 2;
  } else {
    // br_if on the i32 counter itself
    op = 0x47;
    counterAt = p;
  }
  if (!isCounter(counterAt)) return undefined;
  const wide = op >= 0x51;
  const counterIns = instructions[counterAt]!;
  const counter = localOf(bytes, counterIns);
  // the only write to the counter: the increment, at the loop's top level
  let increment = -1;
  for (let k = start + 1, depth = 0; k < end; k++) {
    const ins = instructions[k]!;
    if (opensBlock(ins.op)) depth++;
    else if (ins.op === OP.end) depth--;
    if ((ins.op !== 0x21 && ins.op !== 0x22) || localOf(bytes, ins) !== counter) continue;
    if (increment >= 0 || depth !== 0) return undefined;
    increment = k;
  }
  if (increment < 0 || (counterIns.op === 0x20 ? counterAt < increment : counterAt !== increment)) return undefined;
  const step = stepOf(bytes, instructions, increment, counter, wide);
  if (step === undefined) return undefined;
  const magnitude = step < 0n ? -step : step;
  const shift = magnitude.toString(2).length - 1;
  if (magnitude !== 1n << BigInt(shift) || shift > 30) return undefined;
  let bound: CountedLoop['bound'];
  if (boundAt === undefined) bound = { constant: 0n };
  else {
    const b = instructions[boundAt]!;
    bound = b.op === 0x20 ? { local: localOf(bytes, b) } : { constant: constant(bytes, b) };
  }
  const signed = SIGNED.has(op);
  let compare: CountedLoop['compare'] = 'ne';
  let limit: bigint | undefined;
  if (op !== 0x47 && op !== 0x52) {
    const kind = KIND.get(op)!;
    const up = kind === 'lt' || kind === 'le';
    // the counter must move towards the bound: up for < and <=, down for > and >=
    if (up !== step > 0n) return undefined;
    compare = kind === 'lt' || kind === 'gt' ? 'lt' : 'le';
    limit = wrapLimit(wide ? 64 : 32, signed, up, compare, magnitude);
    if (limit !== undefined && 'constant' in bound) {
      const value = signed ? BigInt.asIntN(wide ? 64 : 32, bound.constant) : BigInt.asUintN(wide ? 64 : 32, bound.constant);
      if (up ? value >= limit : value <= limit) return undefined;
      limit = undefined;
    }
  }
  return { start, end, counter, wide, step, shift, bound, compare, signed, limit };
}

/**
 * A counter that steps past the end of its type wraps around and runs on: the loop is counted only
 * when the bound keeps the last step in range. Returns the value the bound must stay under (counting
 * up) or over (counting down), or undefined when every bound does.
 */
function wrapLimit(bits: number, signed: boolean, up: boolean, compare: 'lt' | 'le', magnitude: bigint): bigint | undefined {
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  // counting up: bound <= max - step + 1 for <, bound <= max - step for <=; mirrored counting down
  const slack = compare === 'lt' ? magnitude - 1n : magnitude;
  if (slack === 0n) return undefined;
  return up ? max - slack + 1n : min + slack - 1n;
}

const SIGNED = new Set([0x48, 0x4a, 0x4c, 0x4e, 0x53, 0x55, 0x57, 0x59]);
const KIND = new Map<number, 'lt' | 'gt' | 'le' | 'ge'>([
  [0x48, 'lt'],
  [0x49, 'lt'],
  [0x4a, 'gt'],
  [0x4b, 'gt'],
  [0x4c, 'le'],
  [0x4d, 'le'],
  [0x4e, 'ge'],
  [0x4f, 'ge'],
  [0x53, 'lt'],
  [0x54, 'lt'],
  [0x55, 'gt'],
  [0x56, 'gt'],
  [0x57, 'le'],
  [0x58, 'le'],
  [0x59, 'ge'],
  [0x5a, 'ge'],
]);

/** a < b is b > a: swap lt and gt, le and ge (of either width and signedness). */
function mirror(op: number): number {
  const base = op >= 0x51 ? 0x51 : 0x46;
  const n = op - base; // 0 eq, 1 ne, 2 lt_s, 3 lt_u, 4 gt_s, 5 gt_u, 6 le_s, 7 le_u, 8 ge_s, 9 ge_u
  return n < 2 ? op : base + (n % 4 >= 2 ? n + 2 : n - 2);
}

/** local.get c; const; add (or: const; local.get c; add, or local.get c; const; sub); local.tee c at k. */
function isIncrementTee(bytes: Uint8Array, instructions: readonly Instruction[], k: number, start: number): boolean {
  const ins = instructions[k];
  if (ins?.op !== 0x22 || k - 3 <= start) return false;
  const local = localOf(bytes, ins);
  return stepOf(bytes, instructions, k, local, instructions[k - 1]!.op === 0x7c || instructions[k - 1]!.op === 0x7d) !== undefined;
}

/** The step of `counter = counter ± constant` written by the instruction at k, or undefined. */
function stepOf(bytes: Uint8Array, instructions: readonly Instruction[], k: number, counter: number, wide: boolean): bigint | undefined {
  const [a, b, op] = [instructions[k - 3], instructions[k - 2], instructions[k - 1]];
  if (!a || !b || !op) return undefined;
  const [add, sub, konst] = wide ? [0x7c, 0x7d, 0x42] : [0x6a, 0x6b, 0x41];
  const isCounter = (ins: Instruction) => ins.op === 0x20 && localOf(bytes, ins) === counter;
  let step: bigint | undefined;
  if (op.op === add && isCounter(a) && b.op === konst) step = constant(bytes, b);
  else if (op.op === add && a.op === konst && isCounter(b)) step = constant(bytes, a);
  else if (op.op === sub && isCounter(a) && b.op === konst) step = -constant(bytes, b);
  if (step === undefined) return undefined;
  step = BigInt.asIntN(wide ? 64 : 32, step);
  return step === 0n ? undefined : step;
}

/** The value of an i32.const or i64.const (signed LEB128). */
function constant(bytes: Uint8Array, ins: Instruction): bigint {
  let result = 0n;
  let shift = 0n;
  let at = ins.start + 1;
  let b: number;
  do {
    b = bytes[at++]!;
    result |= BigInt(b & 0x7f) << shift;
    shift += 7n;
  } while (b & 0x80);
  return b & 0x40 ? result - (1n << shift) : result;
}

/** Where the emitted code finds what a counted loop's guard and charges need. */
export interface CountedLocals {
  fuel: number;
  /** A scratch local of the counter's width: the counter's value at the loop's entry. */
  scratch: number;
  /** Maps a local of the module's numbering to the rewritten body's. */
  local: (index: number) => number;
}

/**
 * Pushes 1 when the fuel left covers the most iterations the loop can run, else 0. With X the
 * distance the counter may still go, less one step for != and one for <, the loop runs at most
 * X / step + 1 iterations (one at least: the loop's body runs before its test).
 */
export function emitGuard(w: Writer, loop: CountedLoop, cost: number, at: CountedLocals): void {
  const t = loop.wide ? I64 : I32;
  const magnitude = loop.step < 0n ? -loop.step : loop.step;
  const up = loop.step > 0n;
  const pushBound = () => {
    if ('local' in loop.bound) w.byte(0x20).u32(at.local(loop.bound.local));
    else t.constant(w, loop.bound.constant);
  };
  const pushCounter = () => w.byte(0x20).u32(at.local(loop.counter));
  if (up) {
    pushBound();
    pushCounter();
  } else {
    pushCounter();
    pushBound();
  }
  w.byte(t.sub);
  const less = loop.compare === 'ne' ? magnitude : loop.compare === 'lt' ? 1n : 0n;
  if (less) {
    t.constant(w, less);
    w.byte(t.sub);
  }
  w.byte(0x21).u32(at.scratch);
  let conditions = 1;
  if (loop.compare === 'ne' && loop.shift > 0) {
    // != stops only on the bound itself: a distance that is not a multiple of the step never gets there
    w.byte(0x20).u32(at.scratch);
    t.constant(w, magnitude - 1n);
    w.byte(t.and).byte(t.eqz);
    conditions++;
  }
  if (loop.limit !== undefined) {
    pushBound();
    t.constant(w, loop.limit);
    w.byte(up ? (loop.signed ? t.ltS : t.ltU) : loop.signed ? t.gtS : t.gtU);
    conditions++;
  }
  w.byte(0x20).u32(at.scratch);
  if (loop.shift > 0) {
    t.constant(w, BigInt(loop.shift));
    w.byte(t.shrU);
  }
  if (loop.wide) {
    // past 2^31 iterations nothing fits the i32 counter; below it the product cannot overflow
    w.byte(0x22).u32(at.scratch).byte(0x42);
    writeS64(w, 1n << 31n);
    w.byte(0x54); // i64.lt_u
    w.byte(0x20).u32(at.scratch);
    conditions++;
  } else w.byte(0xad); // i64.extend_i32_u
  // (X / step) × cost <= fuel - cost, in i64
  w.byte(0x42);
  writeS64(w, BigInt(cost)).byte(0x7e); // i64.mul
  w.byte(0x20).u32(at.fuel).byte(0xac).byte(0x42); // local.get fuel; i64.extend_i32_s
  writeS64(w, BigInt(cost)).byte(0x7d).byte(0x57); // i64.sub; i64.le_s
  for (let i = 1; i < conditions; i++) w.byte(0x71); // i32.and
}

/**
 * After the unchecked copy: fuel -= iterations run × cost, the iterations counted from the
 * counter's value at the loop's entry (in `at.scratch`) and at its end.
 */
export function emitExitCharge(w: Writer, loop: CountedLoop, cost: number, at: CountedLocals): void {
  const t = loop.wide ? I64 : I32;
  w.byte(0x20).u32(at.fuel);
  const [a, b] = loop.step > 0n ? [at.local(loop.counter), at.scratch] : [at.scratch, at.local(loop.counter)];
  w.byte(0x20).u32(a).byte(0x20).u32(b).byte(t.sub);
  if (loop.shift > 0) {
    t.constant(w, BigInt(loop.shift));
    w.byte(t.shrU);
  }
  if (loop.wide) w.byte(0xa7); // i32.wrap_i64
  if (cost !== 1) w.byte(0x41).s32(cost).byte(0x6c); // i32.mul
  w.byte(0x6b).byte(0x21).u32(at.fuel); // i32.sub; local.set fuel
}

/**
 * The unchecked copy may run at most 2^31 - 1 units of iterations and its charge, counted as a
 * distance the counter went, must not wrap a 32-bit counter: each iteration costs at least a step.
 */
export function versionable(loop: CountedLoop, cost: number): boolean {
  return loop.wide || BigInt(cost) >= (loop.step < 0n ? -loop.step : loop.step);
}

const I32 = {
  sub: 0x6b,
  ltS: 0x48,
  ltU: 0x49,
  gtS: 0x4a,
  gtU: 0x4b,
  and: 0x71,
  eqz: 0x45,
  shrU: 0x76,
  constant: (w: Writer, value: bigint) => w.byte(0x41).s32(Number(BigInt.asIntN(32, value))),
};
const I64 = {
  sub: 0x7d,
  ltS: 0x53,
  ltU: 0x54,
  gtS: 0x55,
  gtU: 0x56,
  and: 0x83,
  eqz: 0x50,
  shrU: 0x88,
  constant: (w: Writer, value: bigint) => writeS64(w.byte(0x42), BigInt.asIntN(64, value)),
};

function writeS64(w: Writer, value: bigint): Writer {
  let v = value;
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
    w.byte(done ? b : b | 0x80);
    if (done) return w;
  }
}
