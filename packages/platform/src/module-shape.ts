// What an uploaded module declares, read from its sections before anything compiles it: its imports,
// how many functions, its memories' and tables' sizes, and whether it has a start function. This is
// what lets a 4 GiB memory or a million functions be refused in microseconds, with a report.

/** Limits of a memory (in 64 KiB pages) or a table (in elements); `max` undefined when unbounded. */
export interface Limits {
  min: number;
  max: number | undefined;
}

export interface ModuleImport {
  module: string;
  name: string;
  kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
}

export interface ModuleShape {
  imports: ModuleImport[];
  /** Functions the module defines (imports not counted). */
  functions: number;
  /** Memories, imported ones included. */
  memories: Limits[];
  /** Tables, imported ones included. */
  tables: Limits[];
  hasStart: boolean;
}

const KINDS = ['function', 'table', 'memory', 'global', 'tag'] as const;
const decoder = new TextDecoder('utf-8', { fatal: true });

class Cursor {
  readonly #bytes: Uint8Array;
  pos: number;
  end: number;

  constructor(bytes: Uint8Array, pos: number, end: number) {
    this.#bytes = bytes;
    this.pos = pos;
    this.end = end;
  }

  byte(): number {
    if (this.pos >= this.end) throw new Error(`unexpected end at byte ${this.pos}`);
    return this.#bytes[this.pos++]!;
  }

  /** An unsigned LEB128 up to 64 bits, as a number (exact below 2^53, which is all a limit check needs). */
  uleb(): number {
    let result = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new Error(`malformed LEB128 number at byte ${this.pos}`);
  }

  name(): string {
    const length = this.uleb();
    if (this.pos + length > this.end) throw new Error(`name runs past its section at byte ${this.pos}`);
    const text = decoder.decode(this.#bytes.subarray(this.pos, this.pos + length));
    this.pos += length;
    return text;
  }

  limits(): Limits {
    const flags = this.byte();
    if (flags > 0x07) throw new Error(`unknown limits flags 0x${flags.toString(16)} at byte ${this.pos - 1}`);
    const min = this.uleb();
    return { min, max: flags & 1 ? this.uleb() : undefined };
  }

  table(): Limits {
    const type = this.byte();
    if (type === 0x40) throw new Error(`tables with an initializer are not supported (byte ${this.pos - 1})`);
    if (type === 0x63 || type === 0x64) this.byte(); // a typed reference (GC proposal): its heap type
    return this.limits();
  }
}

/** Reads the module's declarations; throws an Error saying where when the bytes are not a module. */
export function readModuleShape(bytes: Uint8Array): ModuleShape {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new Error('not a WebAssembly module (no \\0asm header)');
  }
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) throw new Error('unsupported WebAssembly version');
  const shape: ModuleShape = { imports: [], functions: 0, memories: [], tables: [], hasStart: false };
  const r = new Cursor(bytes, 8, bytes.length);
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.uleb();
    const end = r.pos + size;
    if (end > bytes.length) throw new Error(`section ${id} runs past the end of the module`);
    const s = new Cursor(bytes, r.pos, end);
    switch (id) {
      case 2: {
        const count = s.uleb();
        for (let i = 0; i < count; i++) {
          const module = s.name();
          const name = s.name();
          const kind = KINDS[s.byte()];
          if (kind === undefined) throw new Error(`unknown import kind at byte ${s.pos - 1}`);
          shape.imports.push({ module, name, kind });
          if (kind === 'function') s.uleb();
          else if (kind === 'table') shape.tables.push(s.table());
          else if (kind === 'memory') shape.memories.push(s.limits());
          else if (kind === 'global') s.pos += 2;
          else {
            s.byte();
            s.uleb();
          }
        }
        break;
      }
      case 3:
        shape.functions = s.uleb();
        break;
      case 4: {
        const count = s.uleb();
        for (let i = 0; i < count; i++) shape.tables.push(s.table());
        break;
      }
      case 5: {
        const count = s.uleb();
        for (let i = 0; i < count; i++) shape.memories.push(s.limits());
        break;
      }
      case 8:
        shape.hasStart = true;
        break;
    }
    r.pos = end;
  }
  return shape;
}
