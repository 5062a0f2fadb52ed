import { LoadError } from '../errors.js';

/** Reads a WebAssembly binary; every read is bounds-checked and fails with a LoadError. */
export class Reader {
  readonly bytes: Uint8Array;
  pos: number;
  readonly end: number;

  constructor(bytes: Uint8Array, pos = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = pos;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  byte(): number {
    if (this.pos >= this.end) throw truncated(this.pos);
    return this.bytes[this.pos++]!;
  }

  /** An unsigned LEB128 of at most 32 bits. */
  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
    }
    throw new LoadError(`malformed LEB128 number at byte ${this.pos}`);
  }

  /** A signed LEB128 of at most `bits` bits, skipped (only its extent matters to the rewriter). */
  skipLeb(bits: number): void {
    const max = Math.ceil(bits / 7);
    for (let i = 0; i < max; i++) if ((this.byte() & 0x80) === 0) return;
    throw new LoadError(`malformed LEB128 number at byte ${this.pos}`);
  }

  /** A signed LEB128 of at most 33 bits (block types), as a number. */
  s33(): number {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      if (shift > 35) throw new LoadError(`malformed LEB128 number at byte ${this.pos}`);
      b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    if (b & 0x40) result -= 2 ** shift;
    return result;
  }

  skip(n: number): void {
    if (n < 0 || this.pos + n > this.end) throw truncated(this.pos);
    this.pos += n;
  }

  /** A length-prefixed name. */
  name(): string {
    const length = this.u32();
    const start = this.pos;
    this.skip(length);
    return Buffer.from(this.bytes.subarray(start, start + length)).toString('utf8');
  }
}

function truncated(pos: number): LoadError {
  return new LoadError(`module is truncated: it ends inside a section (byte ${pos})`);
}

/** Builds a binary from bytes and LEB128 numbers. */
export class Writer {
  #chunks: Uint8Array[] = [];
  #current: number[] = [];
  #length = 0;

  get length(): number {
    return this.#length + this.#current.length;
  }

  byte(b: number): this {
    this.#current.push(b);
    return this;
  }

  u32(value: number): this {
    let v = value >>> 0;
    do {
      const b = v & 0x7f;
      v >>>= 7;
      this.#current.push(v === 0 ? b : b | 0x80);
    } while (v !== 0);
    return this;
  }

  s32(value: number): this {
    let v = value | 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      const done = (v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0);
      this.#current.push(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  bytes(data: Uint8Array): this {
    if (data.length < 64) {
      for (const b of data) this.#current.push(b);
      return this;
    }
    this.#flush();
    this.#chunks.push(data);
    this.#length += data.length;
    return this;
  }

  name(text: string): this {
    const data = Buffer.from(text, 'utf8');
    return this.u32(data.length).bytes(data);
  }

  /** A section or body: its size as u32, then its contents. */
  sized(inner: Writer): this {
    return this.u32(inner.length).bytes(inner.finish());
  }

  finish(): Uint8Array {
    this.#flush();
    if (this.#chunks.length === 1) return this.#chunks[0]!;
    const out = new Uint8Array(this.#length);
    let at = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }

  #flush(): void {
    if (this.#current.length === 0) return;
    this.#chunks.push(Uint8Array.from(this.#current));
    this.#length += this.#current.length;
    this.#current = [];
  }
}
