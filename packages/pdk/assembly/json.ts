// Typed JSON input and output, on json-as. Classes marked `@json` are decoded and encoded by code
// that json-as's transform generates, so a plug-in using this module builds with
// `--transform json-as` (the scaffold's asconfig.json has it).
import { JSON } from "json-as";
import { inputString, outputString } from "./index";

export { JSON };

/** The call's input decoded from JSON as a `T` (a `@json` class, an array, a map or a primitive). */
export function inputJson<T>(): T {
  return JSON.parse<T>(inputString());
}

/** Set the call's output to `value` encoded as JSON. */
export function outputJson<T>(value: T): void {
  outputString(JSON.stringify<T>(value));
}
