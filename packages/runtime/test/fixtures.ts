// Test plug-ins, built from fixtures/*.wat and *.c by scripts/build-fixtures.js (npm pretest).
import { readFileSync } from 'node:fs';
import wabtInit from 'wabt';
import { compilePlugin, type Logger, type LogLevel, type Plugin, type PluginOptions } from '../src/index.js';
import { Reader } from '../src/limits/binary.js';
import { OP, readInstruction, readValueType } from '../src/limits/instructions.js';
import { Meter } from '../src/limits/meter.js';

/** The bytes of fixtures/build/<name>.wasm. */
export function fixture(name: string): Uint8Array {
  return readFileSync(new URL(`fixtures/build/${name}.wasm`, import.meta.url));
}

const wabt = await wabtInit();

/** A module written in WAT inline in a test, with every proposal the tests use enabled. */
export function assemble(text: string): Uint8Array {
  const parsed = wabt.parseWat('test.wat', text, { bulk_memory: true, reference_types: true, simd: true, exceptions: true });
  parsed.validate();
  const { buffer } = parsed.toBinary({});
  parsed.destroy();
  return buffer;
}

/** What a call of a metered module's export gave: its result, or the limit (or 'TRAP') that stopped it; and the fuel it used. */
export interface MeteredOutcome {
  result?: unknown;
  code?: string;
  used: number;
}

/** Call export `fn` of a metered module under a fuel limit, as a plug-in call would (imports beside `tenon`'s, if it has any). */
export function callMetered(
  bytes: Uint8Array,
  fn: string,
  args: readonly (number | bigint)[],
  fuel: number,
  imports: WebAssembly.Imports = {},
): MeteredOutcome {
  const meter = new Meter();
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), {
    ...imports,
    tenon: { fuel: meter.global, refuel: meter.refuel },
  });
  meter.start(fn, fuel, undefined);
  try {
    return { result: (instance.exports[fn] as (...a: (number | bigint)[]) => unknown)(...args), used: meter.used };
  } catch (error) {
    if (!(error instanceof WebAssembly.RuntimeError)) throw error;
    return { code: meter.abort?.code ?? 'TRAP', used: meter.used };
  }
}

/** A fresh instance of a fixture (logs off unless asked for). */
export async function load(name: string, options: PluginOptions = {}): Promise<Plugin> {
  return (await compilePlugin(fixture(name), { logLevel: 'off', ...options })).instantiate();
}

/** A logger that keeps what it is given, as `level: message` lines. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: Exclude<LogLevel, 'off'>) => (message: string) => {
    lines.push(`${level}: ${message}`);
  };
  return { lines, trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** An 8-byte little-endian output as a number. */
export function u64(bytes: Uint8Array): number {
  return Number(Buffer.from(bytes).readBigUInt64LE(0));
}

const LEFTOVER_FIELDS = [
  'mark',
  'pages',
  'tableSize',
  'slotNull',
  'initialized',
  'memoryWords',
  'dataIntact',
  'kernelWords',
  'varAbsent',
  'kernelBytes',
] as const;

/** What fixtures/leftovers.wat's `probe` (or `probe_in_place`) found of earlier calls, field by field, Extism memory's size aside. */
export function probeLeftovers(plugin: Plugin, fn = 'probe', hostContext?: unknown): Record<string, bigint> {
  const bytes = Buffer.from(plugin.call(fn, undefined, { hostContext }).bytes());
  const found: Record<string, bigint> = Object.fromEntries(LEFTOVER_FIELDS.map((field, i) => [field, bytes.readBigUInt64LE(i * 8)]));
  delete found.kernelBytes;
  return found;
}

/** What a new instance of leftovers.wat finds of itself: nothing left behind. */
export const PRISTINE = {
  mark: 0n,
  pages: 2n,
  tableSize: 4n,
  slotNull: 1n,
  initialized: 1n,
  memoryWords: 0n,
  dataIntact: 1n,
  kernelWords: 0n,
  varAbsent: 1n,
};

/** How many loop instructions a module's code section holds. */
export function loops(bytes: Uint8Array): number {
  const r = new Reader(bytes, 8);
  let count = 0;
  while (!r.done) {
    const id = r.byte();
    const size = r.u32();
    if (id !== 10) {
      r.skip(size);
      continue;
    }
    for (let bodies = r.u32(); bodies > 0; bodies--) {
      const end = r.u32() + r.pos;
      for (let groups = r.u32(); groups > 0; groups--) {
        r.u32();
        readValueType(r);
      }
      while (r.pos < end) if (readInstruction(r).op === OP.loop) count++;
    }
  }
  return count;
}
