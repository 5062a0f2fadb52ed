// A run's imports on tape: every answer a plug-in got from outside (host functions and HTTP), in
// order. Recording, the real imports answer and the tape keeps what they said; replaying, the tape
// answers and nothing real is called. A question the tape cannot answer (another host function,
// other arguments, another URL, one call too many) stops the call and names why: the record is not
// replayable for that version, never run for real.
import type { CallContext, HostFunction, HttpExchange, HttpExchangeResult, HttpExchanger } from '@tenon/runtime';

/** A host function's answer: the blocks it wrote, in order, and what it returned. */
export interface HostImport {
  kind: 'host';
  name: string;
  /** The arguments as the plug-in gave them (a block's offset as its bytes, base64). */
  ask: string[];
  /** Blocks the host function wrote, base64, in order. */
  writes: string[];
  /** What it returned: the nth block written, or a plain value. */
  result: ImportValue | ImportValue[];
}

/** An HTTP exchange: the request as asked and how it ended (a response with status, headers, body). */
export interface HttpImport {
  kind: 'http';
  method: string;
  url: string;
  /** The request body, base64 (empty for none). */
  body: string;
  result:
    | { kind: 'response'; status: number; headers: Record<string, string>; body: string; url: string }
    | Exclude<HttpExchangeResult, { kind: 'response' }>;
}

export type Import = HostImport | HttpImport;

type ImportValue = { block: number } | { bigint: string } | { number: number } | { none: true };

/** The question a record cannot answer; the call is stopped with it. */
export class NotReplayable extends Error {
  override readonly name = 'NotReplayable';
}

export class Tape {
  readonly imports: Import[];
  readonly #replaying: boolean;
  #next = 0;
  /** Why the replay stopped, when the plug-in asked something the tape does not hold. */
  refusal: string | undefined;

  private constructor(imports: Import[], replaying: boolean) {
    this.imports = imports;
    this.#replaying = replaying;
  }

  /** An empty tape that real imports fill. */
  static recording(): Tape {
    return new Tape([], false);
  }

  /** A tape that answers from `imports` (a record's). */
  static replaying(imports: readonly Import[]): Tape {
    return new Tape(imports as Import[], true);
  }

  /** The host function call, real (recorded) or from the tape. */
  host(fn: HostFunction, context: CallContext, args: unknown[]): unknown {
    const ask = args.map((arg) => describeArgument(context, arg));
    if (this.#replaying) {
      const entry = this.#take(`host function "${fn.name}"`);
      if (entry.kind !== 'host' || entry.name !== fn.name) {
        throw this.#refuse(`call ${this.#next} asks host function "${fn.name}" where the record holds ${describe(entry)}`);
      }
      if (!sameList(entry.ask, ask)) {
        throw this.#refuse(`call ${this.#next} asks host function "${fn.name}" with other arguments than recorded`);
      }
      const offsets = entry.writes.map((data) => context.write(Buffer.from(data, 'base64')));
      return Array.isArray(entry.result) ? entry.result.map((v) => fromValue(v, offsets)) : fromValue(entry.result, offsets);
    }
    const writes: string[] = [];
    const offsets: number[] = [];
    // a block allocated to be filled in place is recorded as it is when the host function returns
    const filled: [number, number][] = [];
    const watched = watchWrites(context, (data, offset) => {
      if (data === undefined) filled.push([writes.length, offset]);
      writes.push(data === undefined ? '' : Buffer.from(data).toString('base64'));
      offsets.push(offset);
    });
    const result = (fn.call as (context: CallContext, ...args: unknown[]) => unknown)(watched, ...args);
    for (const [index, offset] of filled) writes[index] = Buffer.from(context.view(offset) ?? []).toString('base64');
    this.imports.push({
      kind: 'host',
      name: fn.name,
      ask,
      writes,
      result: Array.isArray(result) ? result.map((v) => toValue(v, offsets)) : toValue(result, offsets),
    });
    return result;
  }

  /** The runtime's HTTP exchanger for this tape. */
  readonly exchange: HttpExchanger = (exchange: HttpExchange, perform: () => HttpExchangeResult): HttpExchangeResult => {
    const body = exchange.body === undefined ? '' : Buffer.from(exchange.body).toString('base64');
    if (this.#replaying) {
      const entry = this.#take(`HTTP ${exchange.method} ${exchange.url}`);
      if (entry.kind !== 'http' || entry.method !== exchange.method || entry.url !== exchange.url) {
        throw this.#refuse(`call ${this.#next} asks HTTP ${exchange.method} ${exchange.url} where the record holds ${describe(entry)}`);
      }
      if (entry.body !== body)
        throw this.#refuse(`call ${this.#next} sends HTTP ${exchange.method} ${exchange.url} another body than recorded`);
      const { result } = entry;
      return result.kind === 'response' ? { ...result, body: Buffer.from(result.body, 'base64') } : result;
    }
    const result = perform();
    this.imports.push({
      kind: 'http',
      method: exchange.method,
      url: exchange.url,
      body,
      result: result.kind === 'response' ? { ...result, body: Buffer.from(result.body).toString('base64') } : result,
    });
    return result;
  };

  #take(what: string): Import {
    const entry = this.imports[this.#next++];
    if (entry === undefined) throw this.#refuse(`call ${this.#next} asks ${what}, past the ${this.imports.length} the record holds`);
    return entry;
  }

  #refuse(reason: string): NotReplayable {
    this.refusal ??= reason;
    return new NotReplayable(reason);
  }
}

/** A host function that consults the call's tape, when the call has one; otherwise the function itself. */
export function taped(fn: HostFunction): HostFunction {
  const call = fn.call as (context: CallContext, ...args: unknown[]) => unknown;
  return {
    ...fn,
    call: (context: CallContext, ...args: unknown[]) => {
      const tape = context.hostContext;
      return tape instanceof Tape ? tape.host(fn, context, args) : call(context, ...args);
    },
  };
}

/** A block's bytes stand for a pointer argument (its offset alone would not say what was asked). */
function describeArgument(context: CallContext, arg: unknown): string {
  if (typeof arg === 'bigint' || typeof arg === 'number') {
    const block = context.length(arg) > 0 ? context.read(arg) : null;
    if (block !== null) return `block:${Buffer.from(block).toString('base64')}`;
  }
  return `${typeof arg}:${String(arg)}`;
}

function watchWrites(context: CallContext, wrote: (data: Uint8Array | undefined, offset: number) => void): CallContext {
  const write = (data: Uint8Array | string): number => {
    const offset = context.write(data);
    wrote(typeof data === 'string' ? new TextEncoder().encode(data) : data, offset);
    return offset;
  };
  return {
    get hostContext() {
      return context.hostContext;
    },
    read: (offset) => context.read(offset),
    view: (offset) => context.view(offset),
    text: (offset) => context.text(offset),
    json: <T>(offset: bigint | number) => context.json<T>(offset),
    write,
    writeJson: (value) => write(JSON.stringify(value)),
    alloc: (length) => {
      const offset = context.alloc(length);
      if (offset !== 0) wrote(undefined, offset);
      return offset;
    },
    length: (offset) => context.length(offset),
    free: (offset) => context.free(offset),
    getVar: (name) => context.getVar(name),
    getVarText: (name) => context.getVarText(name),
    getVarInt: (name) => context.getVarInt(name),
    setVar: (name, value) => context.setVar(name, value),
    setVarInt: (name, value) => context.setVarInt(name, value),
  };
}

function toValue(value: unknown, offsets: readonly number[]): ImportValue {
  if (value === undefined || value === null) return { none: true };
  if (typeof value === 'bigint' || typeof value === 'number') {
    const block = offsets.indexOf(Number(value));
    if (block >= 0 && Number(value) !== 0) return { block };
    return typeof value === 'bigint' ? { bigint: value.toString() } : { number: value };
  }
  throw new TypeError(`a host function returned ${typeof value}, which a record cannot hold`);
}

function fromValue(value: ImportValue, offsets: readonly number[]): unknown {
  if ('block' in value) return BigInt(offsets[value.block] as number);
  if ('bigint' in value) return BigInt(value.bigint);
  if ('number' in value) return value.number;
  return undefined;
}

function describe(entry: Import): string {
  return entry.kind === 'host' ? `host function "${entry.name}"` : `HTTP ${entry.method} ${entry.url}`;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
