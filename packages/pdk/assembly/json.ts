// Typed JSON input and output, on json-as. Classes marked `@json` are decoded and encoded by code
// that json-as's transform generates, so a plug-in using this module builds with
// `"transform": ["json-as", "@tenon/pdk/transform"]` (the scaffold's asconfig.json has both):
// json-as writes the decoders, @tenon/pdk/transform the strict checks that run before them.
import { JSON } from "json-as";
import { inputString, outputString, setError } from "./index";
import { strictMisfit } from "./strict";

export { JSON };

/** The outcome of `tryInputJson`: `error` names the first field that does not fit, else `value` is the input. */
export class Decoded<T> {
  constructor(
    public readonly error: string | null,
    /** The decoded input; only meaningful when `error` is null. */
    public readonly value: T,
  ) {}
}

function nothing<T>(): T {
  // the value slot of a failed decode, never read by a caller that checks `error`
  if (isReference<T>()) return changetype<T>(0);
  return <T>0;
}

/**
 * `text` decoded as a `T` (a `@json` class or an array; strings, numbers and booleans too), or the
 * reason it cannot be: not JSON, a missing field (unless `@optional`), a value of the wrong type,
 * a fraction or an out-of-range number for an integer field. Keys the type does not declare are
 * ignored, so a host may send more than a plug-in reads.
 */
export function tryParseJson<T>(text: string): Decoded<T> {
  const error = strictMisfit<T>(text);
  if (error != null) return new Decoded<T>(error, nothing<T>());
  return new Decoded<T>(null, JSON.parse<T>(text));
}

/**
 * The call's input decoded as a `T`, or the reason it cannot be, to hand to `fail()`:
 *
 *   const decoded = tryInputJson<Invoice>();
 *   if (decoded.error != null) return fail(decoded.error!);
 *   const invoice = decoded.value;
 */
export function tryInputJson<T>(): Decoded<T> {
  return tryParseJson<T>(inputString());
}

/**
 * The call's input decoded as a `T`, strictly (see `tryParseJson`). When it does not fit, the
 * call fails with a message naming the field: the plug-in stops here, as on any trap.
 */
export function inputJson<T>(): T {
  const decoded = tryInputJson<T>();
  if (decoded.error != null) {
    setError(decoded.error!);
    unreachable();
  }
  return decoded.value;
}

/**
 * The call's input decoded by json-as alone, with no checks: a fraction read into an integer
 * wraps, a missing field keeps its default, and a wrong shape traps with json-as's message. Safe
 * only for input the plug-in's own host wrote from the same types (a trusted, versioned schema),
 * where the strict walk's cost buys nothing.
 */
export function inputJsonUnchecked<T>(): T {
  return JSON.parse<T>(inputString());
}

/** Set the call's output to `value` encoded as JSON. */
export function outputJson<T>(value: T): void {
  outputString(JSON.stringify<T>(value));
}
