/**
 * Vars as Extism PDKs store them: text as UTF-8, integers little-endian (8 bytes for the Rust PDK's
 * u64/i64, 4 for the Go PDK's SetVarInt). The host reads them back the same way.
 */

const decoder = new TextDecoder();

/** A var's bytes as UTF-8 text (invalid sequences read as U+FFFD, as TextDecoder does). */
export function varText(value: Uint8Array | undefined): string | undefined {
  return value === undefined ? undefined : decoder.decode(value);
}

/** A var's bytes as an unsigned little-endian integer: 8 bytes (u64) or 4 (u32); any other length is a RangeError. */
export function varInt(name: string, value: Uint8Array | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  if (value.length === 8) return view.getBigUint64(0, true);
  if (value.length === 4) return BigInt(view.getUint32(0, true));
  throw new RangeError(`var "${name}" is ${value.length} bytes, not an integer (8 bytes for a u64, 4 for a u32, little-endian)`);
}

/** An integer as the 8 little-endian bytes of a u64, the form varInt() and the PDKs read. */
export function u64Bytes(name: string, value: bigint | number): Uint8Array {
  const big = typeof value === 'bigint' ? value : Number.isSafeInteger(value) ? BigInt(value) : -1n;
  if (big < 0n || big > 0xffff_ffff_ffff_ffffn) {
    throw new RangeError(`var "${name}" must be an integer from 0 to 2^64-1, got ${String(value)}`);
  }
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, big, true);
  return bytes;
}
