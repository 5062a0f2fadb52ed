import type { Writer } from './binary.js';
import type { Instruction } from './instructions.js';

// The injected charging sequences: a fixed charge, a charge that scales with an operand, and bulk
// memory work split into pieces with a deadline check between them.

/** Where the injected code finds the fuel counter and the refuel function (indices in the rewritten module). */
export interface MeterImports {
  global: number;
  refuel: number;
}

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
export const SCALED = new Map<number, { clamp: number; shl: number; shr: number; checkAt: number }>();
for (const sub of [8, 10, 11]) SCALED.set((0xfc << 16) | sub, { clamp: 0xffffffff, shl: 0, shr: 2, checkAt: 65536 });
for (const sub of [12, 14, 17]) SCALED.set((0xfc << 16) | sub, { clamp: 1 << 22, shl: 8, shr: 0, checkAt: 64 });
// growing may copy the whole table or run a GC, whatever it adds: every grow checks the deadline
SCALED.set((0xfc << 16) | 15, { clamp: 1 << 22, shl: 8, shr: 0, checkAt: 1 });
SCALED.set(0x40, { clamp: 1 << 16, shl: 14, shr: 0, checkAt: 1 });

/**
 * Before an instruction in SCALED, with its operand n on top of the stack (left there):
 * fuel -= cost(n); if (fuel < 0 || n >= checkAt) { refuel(); if (fuel < 0) unreachable }
 */
export function chargeScaled(
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
  refuel(w, meter, local);
  w.byte(0x0b); // end
}

/** Bytes per piece of a split memory.fill or memory.copy: 256 KiB, tens of microseconds of work. */
const CHUNK = 0x40000;

/** memory.fill or memory.copy on memory 0 (the bytes say which), split into CHUNK pieces; others run whole. */
export function chunkable(bytes: Uint8Array, ins: Instruction): 'fill' | 'copy' | undefined {
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
 * Locals: `local` the fuel counter; `scratch` and the two after it hold n (length), a (destination)
 * and b (value or source).
 */
export function emitChunked(w: Writer, meter: MeterImports, local: number, scratch: number, kind: 'fill' | 'copy'): void {
  const [n, a, b] = [scratch, scratch + 1, scratch + 2];
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
  refuel(w, meter, local);
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
export function charge(w: Writer, meter: MeterImports, local: number, cost: number): void {
  w.byte(0x20).u32(local).byte(0x41).s32(cost).byte(0x6b); // local.get; i32.const cost; i32.sub
  w.byte(0x22).u32(local).byte(0x41).byte(0).byte(0x48); // local.tee; i32.const 0; i32.lt_s
  w.byte(0x04).byte(0x40); // if
  refuel(w, meter, local);
  w.byte(0x0b); // end
}

/** Save the counter, call refuel, load the counter back, and trap if it is still negative. */
export function refuel(w: Writer, meter: MeterImports, local: number): void {
  w.byte(0x20).u32(local).byte(0x24).u32(meter.global); // local.get; global.set
  w.byte(0x10).u32(meter.refuel); // call refuel
  w.byte(0x23).u32(meter.global).byte(0x22).u32(local); // global.get; local.tee
  w.byte(0x41).byte(0).byte(0x48); // i32.const 0; i32.lt_s
  w.byte(0x04).byte(0x40).byte(0x00).byte(0x0b); // if unreachable end
}
