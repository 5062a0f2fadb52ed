// @tenon/pdk: write Extism-ABI plug-ins in AssemblyScript. They run on Tenon and on any Extism host.
//
// A plug-in function is an exported `(): i32`; it reads its input, writes its output and returns
// 0, or reports an error and returns non-zero:
//
//   import { inputString, outputString } from "@tenon/pdk";
//   export function greet(): i32 {
//     outputString("Hello, " + inputString() + "!");
//     return 0;
//   }
//
// Typed JSON lives in "@tenon/pdk/assembly/json" so that plug-ins without JSON stay small.
import * as env from "./env";

/** A block of the host's Extism memory: `offset` names it (0 is null), `length` in bytes. */
export class Memory {
  constructor(public readonly offset: u64, public readonly length: u64) {}

  /** A new, uninitialised block of `length` bytes. */
  static allocate(length: u64): Memory {
    return new Memory(env.alloc(length), length);
  }

  /** A new block holding a copy of `bytes`. */
  static fromBytes(bytes: Uint8Array): Memory {
    const block = Memory.allocate(u64(bytes.length));
    copyIn(bytes.dataStart, bytes.length, block.offset);
    return block;
  }

  /** A new block holding `text` as UTF-8. */
  static fromString(text: string): Memory {
    const utf8 = String.UTF8.encode(text);
    const block = Memory.allocate(u64(utf8.byteLength));
    copyIn(changetype<usize>(utf8), utf8.byteLength, block.offset);
    return block;
  }

  /** The block at `offset`, such as one a host function returned (length 0 when it is null or unknown). */
  static find(offset: u64): Memory {
    return new Memory(offset, offset == 0 ? 0 : env.length(offset));
  }

  /** A copy of the block's bytes. */
  toBytes(): Uint8Array {
    const bytes = new Uint8Array(i32(this.length));
    copyOut(this.offset, bytes.dataStart, bytes.length);
    return bytes;
  }

  /** The block's bytes decoded as UTF-8. */
  toString(): string {
    const bytes = this.toBytes();
    return String.UTF8.decodeUnsafe(bytes.dataStart, bytes.length);
  }

  /** Give the block back to the host. Blocks handed to the host's own functions are freed by the host. */
  free(): void {
    if (this.offset != 0) env.free(this.offset);
  }
}

// Copies move eight bytes per host call; a call is the cost that matters here.
function copyIn(source: usize, count: i32, offset: u64): void {
  let i = 0;
  for (; i + 8 <= count; i += 8) env.store_u64(offset + u64(i), load<u64>(source + usize(i)));
  for (; i < count; i++) env.store_u8(offset + u64(i), load<u8>(source + usize(i)));
}

function copyOut(offset: u64, target: usize, count: i32): void {
  let i = 0;
  for (; i + 8 <= count; i += 8) store<u64>(target + usize(i), env.load_u64(offset + u64(i)));
  for (; i < count; i++) store<u8>(target + usize(i), env.load_u8(offset + u64(i)));
}

/** A copy of a block the host handed over (null for offset 0), which is then freed. */
function takeBlock(offset: u64): Uint8Array | null {
  if (offset == 0) return null;
  const block = Memory.find(offset);
  const bytes = block.toBytes();
  block.free();
  return bytes;
}

/** The call's input, as bytes. */
export function inputBytes(): Uint8Array {
  const bytes = new Uint8Array(i32(env.input_length()));
  let i = 0;
  const count = bytes.length;
  const target = bytes.dataStart;
  for (; i + 8 <= count; i += 8) store<u64>(target + usize(i), env.input_load_u64(u64(i)));
  for (; i < count; i++) store<u8>(target + usize(i), env.input_load_u8(u64(i)));
  return bytes;
}

/** The call's input, decoded as UTF-8. */
export function inputString(): string {
  const bytes = inputBytes();
  return String.UTF8.decodeUnsafe(bytes.dataStart, bytes.length);
}

/** Set the call's output to `bytes`. */
export function outputBytes(bytes: Uint8Array): void {
  const block = Memory.fromBytes(bytes);
  env.output_set(block.offset, block.length);
}

/** Set the call's output to `text`, as UTF-8. */
export function outputString(text: string): void {
  const block = Memory.fromString(text);
  env.output_set(block.offset, block.length);
}

/** Report that the call failed with `message`; the exported function should then return non-zero. */
export function setError(message: string): void {
  env.error_set(Memory.fromString(message).offset);
}

/** `setError(message)`, then the value to return from the exported function: `return fail("no items")`. */
export function fail(message: string): i32 {
  setError(message);
  return 1;
}

/** Values the host set in the manifest's `config` for this plug-in. */
export namespace config {
  /** The value of `key`, or null when the host did not set it. */
  export function get(key: string): string | null {
    const bytes = takeBlock(env.config_get(Memory.fromString(key).offset));
    return bytes == null ? null : String.UTF8.decodeUnsafe(bytes.dataStart, bytes.length);
  }
}

/** Vars: bytes that persist across calls of one plug-in instance, bounded by the host's `maxVarBytes`. */
export namespace vars {
  /** The bytes stored under `key`, or null. */
  export function get(key: string): Uint8Array | null {
    return takeBlock(env.var_get(Memory.fromString(key).offset));
  }

  /** The UTF-8 text stored under `key`, or null. */
  export function getString(key: string): string | null {
    const bytes = get(key);
    return bytes == null ? null : String.UTF8.decodeUnsafe(bytes.dataStart, bytes.length);
  }

  /** The little-endian i64 stored under `key` with `setI64`, or `fallback` when there is none. */
  export function getI64(key: string, fallback: i64 = 0): i64 {
    const bytes = get(key);
    return bytes == null || bytes.length != 8 ? fallback : load<i64>(bytes.dataStart);
  }

  export function set(key: string, value: Uint8Array): void {
    env.var_set(Memory.fromString(key).offset, Memory.fromBytes(value).offset);
  }

  export function setString(key: string, value: string): void {
    env.var_set(Memory.fromString(key).offset, Memory.fromString(value).offset);
  }

  export function setI64(key: string, value: i64): void {
    const bytes = new Uint8Array(8);
    store<i64>(bytes.dataStart, value);
    set(key, bytes);
  }

  export function remove(key: string): void {
    env.var_set(Memory.fromString(key).offset, 0);
  }
}

/** Log levels, as the host numbers them. */
export enum LogLevel {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
}

/** Log lines go to the host's logger; a level the host does not want costs one call and no copy. */
export namespace log {
  /** Whether the host records lines at `level` (hosts answer -1 or i32::MAX when logging is off). */
  export function enabled(level: LogLevel): bool {
    return u32(level) >= u32(env.get_log_level());
  }

  export function write(level: LogLevel, message: string): void {
    if (!enabled(level)) return;
    const offset = Memory.fromString(message).offset;
    switch (level) {
      case LogLevel.Trace:
        env.log_trace(offset);
        break;
      case LogLevel.Debug:
        env.log_debug(offset);
        break;
      case LogLevel.Info:
        env.log_info(offset);
        break;
      case LogLevel.Warn:
        env.log_warn(offset);
        break;
      default:
        env.log_error(offset);
    }
  }

  export function trace(message: string): void {
    write(LogLevel.Trace, message);
  }
  export function debug(message: string): void {
    write(LogLevel.Debug, message);
  }
  export function info(message: string): void {
    write(LogLevel.Info, message);
  }
  export function warn(message: string): void {
    write(LogLevel.Warn, message);
  }
  export function error(message: string): void {
    write(LogLevel.Error, message);
  }
}

/** An HTTP request for `http.request`; the host only lets it through to hosts it allows. */
export class HttpRequest {
  method: string = "GET";
  readonly headers: Map<string, string> = new Map();
  constructor(public url: string) {}

  withMethod(method: string): HttpRequest {
    this.method = method;
    return this;
  }

  withHeader(name: string, value: string): HttpRequest {
    this.headers.set(name, value);
    return this;
  }

  /** The request as the ABI's JSON: {"method", "url", "headers": {name: value}}. */
  toJson(): string {
    let json = '{"method":' + jsonString(this.method) + ',"url":' + jsonString(this.url) + ',"headers":{';
    const names = this.headers.keys();
    for (let i = 0; i < names.length; i++) {
      if (i > 0) json += ",";
      json += jsonString(names[i]) + ":" + jsonString(this.headers.get(names[i]));
    }
    return json + "}}";
  }
}

export class HttpResponse {
  constructor(
    /** The HTTP status; a status of 400 or more is an answer, not an error. */
    public readonly status: i32,
    public readonly body: Uint8Array,
    /** The response headers as a JSON object of lower-case names, when the host shares them. */
    public readonly headersJson: string | null,
  ) {}

  bodyString(): string {
    return String.UTF8.decodeUnsafe(this.body.dataStart, this.body.length);
  }
}

export namespace http {
  /**
   * Send `request` (with `body`, if any) through the host. A host that does not allow the URL's host
   * fails the whole call; nothing here can catch that, by design.
   */
  export function request(request: HttpRequest, body: Uint8Array | null = null): HttpResponse {
    const bodyOffset = body == null ? 0 : Memory.fromBytes(body).offset;
    const offset = env.http_request(Memory.fromString(request.toJson()).offset, bodyOffset);
    const status = env.http_status_code();
    const bytes = takeBlock(offset);
    const headers = takeBlock(env.http_headers());
    return new HttpResponse(
      status,
      bytes == null ? new Uint8Array(0) : bytes,
      headers == null ? null : String.UTF8.decodeUnsafe(headers.dataStart, headers.length),
    );
  }
}

// JSON's string syntax, for the request object; the core PDK carries no JSON library.
function jsonString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c == 0x22) out += '\\"';
    else if (c == 0x5c) out += "\\\\";
    else if (c < 0x20) out += "\\u00" + (c < 0x10 ? "0" : "") + c.toString(16);
    else out += String.fromCharCode(c);
  }
  return out + '"';
}

/**
 * AssemblyScript's abort handler, reporting the failure to the host before trapping. Plug-ins select
 * it with `--use abort=~lib/@tenon/pdk/assembly/index/abort` (the scaffold's asconfig.json does).
 */
export function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let text = message == null ? "abort" : message;
  if (fileName != null) text += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  setError(text);
  unreachable();
}
