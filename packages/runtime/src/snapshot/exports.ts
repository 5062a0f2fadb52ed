import { Reader, Writer } from '../limits/binary.js';
import { readInstruction } from '../limits/instructions.js';

/**
 * The exports through which the host can read and write every piece of an instance's state: its
 * memory, each table it defines and each mutable global. A snapshot restores exactly these.
 */
export interface StatePlan {
  /** The export name of the memory, or undefined for a module without one. */
  readonly memory: string | undefined;
  readonly tables: readonly string[];
  readonly globals: readonly string[];
}

/** Reserved export names: a `:` cannot come from a source-level identifier of C, Rust or AssemblyScript. */
const PREFIX = 'tenon:state:';

/** True for an export exposeState added: the host's, not the plug-in's (listings leave it out). */
export function isStateExport(name: string): boolean {
  return name.startsWith(PREFIX);
}

/** Globals JavaScript can read and write through WebAssembly.Global: numbers and the two nullable refs. */
const READABLE = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x70, 0x6f]);

/** Rank of each known section in the order the binary format requires (custom sections excepted). */
const RANK: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13 };

/**
 * Export every memory, table and mutable global of `bytes` the host cannot already reach, so an
 * instance can be restored to a snapshot. Undefined when some state stays out of reach: an imported
 * memory, table or mutable global (the meter's counter excepted), a global JavaScript cannot hold
 * (v128), or a segment the code drops (a dropped segment cannot be brought back).
 */
export function exposeState(bytes: Uint8Array, meterModule: string): { bytes: Uint8Array; plan: StatePlan } | undefined {
  const r = new Reader(bytes, 8);
  const sections: { id: number; start: number; end: number }[] = [];
  let importedGlobals = 0;
  let memories = 0;
  let tables = 0;
  const mutable: number[] = [];
  const exported = new Map<string, string>(); // "kind:index" -> name
  const names: string[] = [];
  while (!r.done) {
    const start = r.pos;
    const id = r.byte();
    const size = r.u32();
    const body = new Reader(bytes, r.pos, r.pos + size);
    r.skip(size);
    sections.push({ id, start, end: r.pos });
    if (id === 2) {
      for (let n = body.u32(); n > 0; n--) {
        const module = body.name();
        body.name();
        const kind = body.byte();
        if (kind === 0) body.u32();
        else if (kind === 4) {
          body.byte();
          body.u32();
        } else if (kind === 1 || kind === 2) return undefined;
        else if (kind === 3) {
          body.byte(); // a number type: the meter's i32 counter, or a constant
          if (body.byte() === 1 && module !== meterModule) return undefined;
          importedGlobals++;
        }
      }
    } else if (id === 4) {
      tables = body.u32();
      for (let n = tables; n > 0; n--) {
        if (body.bytes[body.pos] === 0x40) return undefined; // a table with an initialiser expression
        refType(body);
        limits(body);
      }
    } else if (id === 5) {
      memories = body.u32();
      for (let n = memories; n > 0; n--) limits(body);
    } else if (id === 6) {
      const count = body.u32();
      for (let i = 0; i < count; i++) {
        const type = body.byte();
        if (type === 0x63 || type === 0x64) return undefined; // typed references: not worth the cases
        if (body.byte() === 1) {
          if (!READABLE.has(type)) return undefined;
          mutable.push(importedGlobals + i);
        }
        constant(body);
      }
    } else if (id === 7) {
      for (let n = body.u32(); n > 0; n--) {
        const name = body.name();
        const kind = body.byte();
        const index = body.u32();
        names.push(name);
        if (!exported.has(`${kind}:${index}`)) exported.set(`${kind}:${index}`, name);
      }
    } else if (id === 10) {
      if (dropsSegments(body)) return undefined;
    }
  }
  if (memories > 1) return undefined;
  const added: [string, number, number][] = [];
  const expose = (kind: number, index: number): string => {
    const name = exported.get(`${kind}:${index}`);
    if (name !== undefined) return name;
    const fresh = `${PREFIX}${kind}:${index}`;
    added.push([fresh, kind, index]);
    return fresh;
  };
  const plan: StatePlan = {
    memory: memories === 1 ? expose(2, 0) : undefined,
    tables: Array.from({ length: tables }, (_, i) => expose(1, i)),
    globals: mutable.map((index) => expose(3, index)),
  };
  if (added.length === 0) return { bytes, plan };

  const exports = new Writer().u32(names.length + added.length);
  const old = sections.find((s) => s.id === 7);
  if (old) {
    const body = new Reader(bytes, old.start + 1);
    const size = body.u32();
    const at = body.pos;
    body.u32();
    exports.bytes(bytes.subarray(body.pos, at + size));
  }
  for (const [name, kind, index] of added) exports.name(name).byte(kind).u32(index);
  const out = new Writer().bytes(bytes.subarray(0, 8));
  let placed = false;
  for (const s of sections) {
    if (s.id === 7) continue;
    if (!placed && s.id !== 0 && (RANK[s.id] ?? 0) > RANK[7]!) {
      out.byte(7).sized(exports);
      placed = true;
    }
    out.bytes(bytes.subarray(s.start, s.end));
  }
  if (!placed) out.byte(7).sized(exports);
  return { bytes: out.finish(), plan };
}

function refType(r: Reader): void {
  const t = r.byte();
  if (t === 0x63 || t === 0x64) r.s33();
}

function limits(r: Reader): void {
  const flags = r.byte();
  r.skipLeb(64);
  if (flags & 1) r.skipLeb(64);
}

/** Skip a constant expression (its instructions up to the final `end`). */
function constant(r: Reader): void {
  for (;;) {
    const ins = readInstruction(r);
    if (ins.op === 0x0b) return;
  }
}

/** True when some function body runs data.drop or elem.drop. */
function dropsSegments(r: Reader): boolean {
  for (let n = r.u32(); n > 0; n--) {
    const size = r.u32();
    const end = r.pos + size;
    const body = new Reader(r.bytes, r.pos, end);
    for (let locals = body.u32(); locals > 0; locals--) {
      body.u32();
      refType(body);
    }
    while (!body.done) {
      const { op } = readInstruction(body);
      if (op === ((0xfc << 16) | 9) || op === ((0xfc << 16) | 13)) return true;
    }
    r.pos = end;
  }
  return false;
}
