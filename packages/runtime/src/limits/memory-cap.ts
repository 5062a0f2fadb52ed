import { LoadError } from '../errors.js';

/**
 * Caps every linear memory a module defines, by rewriting the limits in its memory section: a
 * memory may grow at most `growthPages` 64 KiB pages past its initial size (and
 * never past the maximum it declared). `memory.grow` beyond that returns -1 inside the plug-in, as
 * the WebAssembly spec has it, so a plug-in that handles allocation failure keeps running.
 *
 * Imported memories are left alone: the only memories a plug-in can import come from other modules
 * of the same manifest, which are capped where they are defined. Only the memory section is
 * decoded; every other byte is copied as is.
 */
export function capMemories(bytes: Uint8Array, growthPages: number): Uint8Array {
  const reader = new Reader(bytes, 8);
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let changed = false;
  while (reader.pos < bytes.length) {
    const start = reader.pos;
    const id = reader.byte();
    const size = reader.u32();
    const end = reader.pos + size;
    if (end > bytes.length) throw new LoadError(`section ${id} at byte ${start} runs past the end of the module`);
    if (id === SECTION_MEMORY) {
      const rewritten = capMemorySection(new Reader(bytes.subarray(reader.pos, end), 0), growthPages);
      parts.push(Uint8Array.of(id, ...leb(rewritten.length)), rewritten);
      changed = true;
    } else {
      parts.push(bytes.subarray(start, end));
    }
    reader.pos = end;
  }
  if (!changed) return bytes;
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const SECTION_MEMORY = 5;
const MAX_PAGES = 65536;

function capMemorySection(body: Reader, growthPages: number): Uint8Array {
  const count = body.u32();
  const out: number[] = [...leb(count)];
  for (let i = 0; i < count; i++) out.push(...capLimits(body, growthPages));
  return Uint8Array.from(out);
}

function readLimits(body: Reader): { flags: number; min: number; max: number | undefined } {
  const flags = body.byte();
  if (flags > 3) throw new LoadError(`memory limits flag 0x${flags.toString(16)} (64-bit memories) is not supported`);
  const min = body.u32();
  const max = flags & 1 ? body.u32() : undefined;
  return { flags, min, max };
}

function capLimits(body: Reader, growthPages: number): number[] {
  const { flags, min, max } = readLimits(body);
  const cap = Math.min(max ?? MAX_PAGES, min + growthPages, MAX_PAGES);
  return [flags | 1, ...leb(min), ...leb(Math.max(cap, min))];
}

function leb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    const byte = v & 0x7f;
    v >>>= 7;
    out.push(v === 0 ? byte : byte | 0x80);
  } while (v !== 0);
  return out;
}

class Reader {
  readonly bytes: Uint8Array;
  pos: number;

  constructor(bytes: Uint8Array, pos: number) {
    this.bytes = bytes;
    this.pos = pos;
  }

  byte(): number {
    const b = this.bytes[this.pos++];
    if (b === undefined) throw new LoadError('module ends in the middle of a section');
    return b;
  }

  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
    }
    throw new LoadError('malformed LEB128 number in module');
  }
}
