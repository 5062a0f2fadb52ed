import { LoadError } from '../errors.js';
import type { Reader, Writer } from './binary.js';

/** What the rewriter needs to know of one instruction. */
export interface Instruction {
  /** Byte range of the whole instruction in the body. */
  start: number;
  end: number;
  /** The opcode; prefixed ones as prefix << 16 | sub-opcode. */
  op: number;
  /** For call, return_call and ref.func: the function index and the byte range of its LEB128. */
  func?: { index: number; start: number; end: number };
  /** For global.get and global.set: the global index and the byte range of its LEB128. */
  global?: { index: number; start: number; end: number };
  /** For branches: the label depths they may jump to. */
  labels?: number[];
  /**
   * For try_table: its catch clauses, each with the byte range of its label's LEB128. An exception
   * caught lands at the label's target; the depth counts from outside the try_table.
   */
  catches?: { label: number; start: number; end: number }[];
}

export const OP = {
  unreachable: 0x00,
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  try: 0x06,
  end: 0x0b,
  call: 0x10,
  returnCall: 0x12,
  delegate: 0x18,
  tryTable: 0x1f,
  refFunc: 0xd2,
} as const;

/** Opcodes that open a construct closed by `end`. */
export function opensBlock(op: number): boolean {
  return op === OP.block || op === OP.loop || op === OP.if || op === OP.try || op === OP.tryTable;
}

/**
 * Decode the instruction at the reader's position: every opcode of MVP, sign extension,
 * saturating conversions, multi-value, bulk memory, reference types, SIMD (and relaxed SIMD),
 * tail calls, typed function references, exception handling (legacy and exnref) and threads.
 * Unknown opcodes are a LoadError: the rewriter never passes on bytes it does not understand.
 */
export function readInstruction(r: Reader): Instruction {
  const start = r.pos;
  const op = r.byte();
  let func: Instruction['func'];
  switch (op) {
    // no immediates
    case 0x00:
    case 0x01:
    case 0x05:
    case 0x0a:
    case 0x0b:
    case 0x0f:
    case 0x19:
    case 0x1a:
    case 0x1b:
    case 0xd1:
    case 0xd3:
    case 0xd5:
      break;
    case 0x02:
    case 0x03:
    case 0x04:
    case 0x06: // block, loop, if, try: a block type
      r.s33();
      break;
    case 0x0c:
    case 0x0d:
    case 0xd4:
    case 0xd6: // br, br_if, br_on_null, br_on_non_null: a label
      return { start, op, labels: [r.u32()], end: r.pos };
    case 0x09:
    case 0x18: // rethrow, delegate: a label (delegate's counts from outside its try)
      return { start, op, labels: [r.u32()], end: r.pos };
    case 0x07:
    case 0x08: // catch, throw: a tag
    case 0x14:
    case 0x15: // call_ref, return_call_ref: a type index
    case 0x20:
    case 0x21:
    case 0x22:
    case 0x25:
    case 0x26: // locals, tables
      r.u32();
      break;
    case 0x23:
    case 0x24: {
      // global.get, global.set
      const at = r.pos;
      return { start, op, global: { index: r.u32(), start: at, end: r.pos }, end: r.pos };
    }
    case 0x0e: {
      // br_table: labels then the default
      const n = r.u32();
      const labels: number[] = [];
      for (let i = 0; i <= n; i++) labels.push(r.u32());
      return { start, op, labels, end: r.pos };
    }
    case 0x10:
    case 0x12:
    case 0xd2: {
      // call, return_call, ref.func: a function index
      const at = r.pos;
      func = { index: r.u32(), start: at, end: r.pos };
      break;
    }
    case 0x11:
    case 0x13: // call_indirect, return_call_indirect: type, table
      r.u32();
      r.u32();
      break;
    case 0x1c: {
      // select with types
      const n = r.u32();
      for (let i = 0; i < n; i++) readValueType(r);
      break;
    }
    case 0x1f: {
      // try_table: block type, then catch clauses (catch and catch_ref name a tag)
      r.s33();
      const n = r.u32();
      const catches: { label: number; start: number; end: number }[] = [];
      for (let i = 0; i < n; i++) {
        const kind = r.byte();
        if (kind > 3) throw new LoadError(`unknown try_table catch kind ${kind} at byte ${r.pos - 1}`);
        if (kind < 2) r.u32();
        const at = r.pos;
        catches.push({ label: r.u32(), start: at, end: r.pos });
      }
      return { start, op, catches, end: r.pos };
    }
    case 0x3f:
    case 0x40: // memory.size, memory.grow
      r.u32();
      break;
    case 0x41:
      r.skipLeb(32);
      break;
    case 0x42:
      r.skipLeb(64);
      break;
    case 0x43:
      r.skip(4);
      break;
    case 0x44:
      r.skip(8);
      break;
    case 0xd0: // ref.null: a heap type
      r.s33();
      break;
    case 0xfc:
      return { start, op: (0xfc << 16) | prefixedFC(r), end: r.pos };
    case 0xfd:
      return { start, op: (0xfd << 16) | prefixedFD(r), end: r.pos };
    case 0xfe:
      return { start, op: (0xfe << 16) | prefixedFE(r), end: r.pos };
    default:
      if (op >= 0x28 && op <= 0x3e) {
        memarg(r); // loads and stores
      } else if (!(op >= 0x45 && op <= 0xc4)) {
        // 0x45..0xc4 are the numeric instructions without immediates
        throw new LoadError(`unknown opcode 0x${op.toString(16)} at byte ${start}`);
      }
  }
  return func ? { start, end: r.pos, op, func } : { start, end: r.pos, op };
}

/** Reads a 0xfc instruction's sub-opcode and immediates; returns the sub-opcode. */
function prefixedFC(r: Reader): number {
  const sub = r.u32();
  if (sub <= 7) return sub; // saturating truncations
  switch (sub) {
    case 8: // memory.init: data index, memory
    case 10: // memory.copy: two memories
    case 12: // table.init: element index, table
    case 14: // table.copy: two tables
      r.u32();
      r.u32();
      return sub;
    case 9:
    case 11:
    case 13:
    case 15:
    case 16:
    case 17: // data.drop, memory.fill, elem.drop, table.grow/size/fill
      r.u32();
      return sub;
    default:
      throw new LoadError(`unknown opcode 0xfc ${sub} at byte ${r.pos}`);
  }
}

function prefixedFD(r: Reader): number {
  const sub = r.u32();
  if (sub <= 0x0b || sub === 0x5c || sub === 0x5d)
    memarg(r); // loads, stores, load_zero
  else if (sub === 0x0c || sub === 0x0d)
    r.skip(16); // v128.const, i8x16.shuffle
  else if (sub >= 0x15 && sub <= 0x22)
    r.skip(1); // extract/replace lane
  else if (sub >= 0x54 && sub <= 0x5b) {
    memarg(r); // load/store lane
    r.skip(1);
  } else if (sub > 0x113) throw new LoadError(`unknown opcode 0xfd ${sub} at byte ${r.pos}`);
  return sub;
}

function prefixedFE(r: Reader): number {
  const sub = r.u32();
  if (sub === 0x03)
    r.skip(1); // atomic.fence
  else if (sub <= 0x02 || (sub >= 0x10 && sub <= 0x4e)) memarg(r);
  else throw new LoadError(`unknown opcode 0xfe ${sub} at byte ${r.pos}`);
  return sub;
}

function memarg(r: Reader): void {
  const align = r.u32();
  if (align & 0x40) r.u32(); // multi-memory: a memory index follows
  r.skipLeb(64);
}

/** A value type, including (ref null? heaptype). */
export function readValueType(r: Reader): void {
  const t = r.byte();
  if (t === 0x63 || t === 0x64) r.s33();
}

/** Where function and global indices go in the rewritten module. */
export interface IndexMap {
  func(index: number): number;
  global(index: number): number;
}

/** Copy an instruction, moving its function or global index through `shift`. */
export function writeInstruction(bytes: Uint8Array, ins: Instruction, w: Writer, shift: IndexMap): void {
  const index = ins.func ?? ins.global;
  if (!index) {
    w.bytes(bytes.subarray(ins.start, ins.end));
    return;
  }
  const shifted = ins.func ? shift.func(index.index) : shift.global(index.index);
  w.bytes(bytes.subarray(ins.start, index.start)).u32(shifted).bytes(bytes.subarray(index.end, ins.end));
}
