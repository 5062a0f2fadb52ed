/**
 * ABI benchmark: Tenon against @extism/extism 2.0.0-rc13 and 1.0.3 on the same plug-ins, with the
 * raw WebAssembly floor (the same counting loop run on data already in the module's memory).
 *
 *   npm run bench                       # our own test plug-ins
 *   TENON_BENCH_RUST=path/code.wasm npm run bench   # also a Rust-PDK count-vowels plug-in
 *
 * Prints medians of several rounds, measured side by side in one process, and the ratios.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import extism2 from '@extism/extism';
import extism1 from 'extism-1';
import { compilePlugin, createPlugin, type HostFunction, type PluginOptions } from '../packages/runtime/src/index.js';

const fixtures = new URL('../packages/runtime/test/fixtures/build/', import.meta.url);
const wasm = (name: string): Uint8Array => readFileSync(new URL(name, fixtures));

type Timed = () => unknown;
type TimedAsync = () => Promise<unknown>;

const ROUNDS = 7;

/** Median ns per operation over ROUNDS rounds of enough iterations to take ~100 ms each. */
function measure(fn: Timed): number {
  const run = (n: number): number => {
    const t = performance.now();
    for (let i = 0; i < n; i++) fn();
    return performance.now() - t;
  };
  const n = iterations(run);
  return median(Array.from({ length: ROUNDS }, () => (run(n) * 1e6) / n));
}

/** The same, for the promise-returning @extism/extism calls. */
async function measureAsync(fn: TimedAsync): Promise<number> {
  const run = async (n: number): Promise<number> => {
    const t = performance.now();
    for (let i = 0; i < n; i++) await fn();
    return performance.now() - t;
  };
  let n = 1;
  while ((await run(n)) <= 20) n *= 2;
  n *= 5;
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push(((await run(n)) * 1e6) / n);
  return median(rounds);
}

/** Double the iterations until a run takes 20 ms, then take five times that. */
function iterations(run: (n: number) => number): number {
  let n = 1;
  while (run(n) <= 20) n *= 2;
  return n * 5;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function format(ns: number | undefined): string {
  if (ns === undefined) return 'n/a';
  if (ns < 1_000) return `${ns.toFixed(0)} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(1)} µs`;
  return `${(ns / 1_000_000).toFixed(2)} ms`;
}

function ratio(other: number | undefined, ours: number): string {
  return other === undefined ? '' : `${(other / ours).toFixed(1)}×`;
}

interface Row {
  name: string;
  tenon: number;
  raw?: number;
  rc13?: number;
  v1?: number;
}

const rows: Row[] = [];

function report(row: Row): void {
  rows.push(row);
  const parts = [
    row.name.padEnd(40),
    `tenon ${format(row.tenon).padStart(9)}`,
    row.raw === undefined
      ? ''
      : `raw ${format(row.raw).padStart(8)} (tenon/raw ${(row.tenon / row.raw).toFixed(2)}, ${row.tenon >= row.raw ? '+' : '-'}${format(Math.abs(row.tenon - row.raw))})`,
    `rc13 ${format(row.rc13).padStart(9)} ${ratio(row.rc13, row.tenon).padStart(7)}`,
    `1.0.3 ${format(row.v1).padStart(9)} ${ratio(row.v1, row.tenon).padStart(7)}`,
  ];
  console.log(parts.filter(Boolean).join('  '));
}

type ExtismPlugin = {
  call(name: string, input?: string | Uint8Array): Promise<{ bytes(): Uint8Array } | null>;
  reset(): Promise<boolean>;
  close(): Promise<void>;
};
type ExtismCreate = (manifest: unknown, options?: unknown) => Promise<ExtismPlugin>;

async function extismPlugin(
  create: ExtismCreate,
  bytes: Uint8Array,
  options: Record<string, unknown> = {},
): Promise<ExtismPlugin | undefined> {
  try {
    return await create({ wasm: [{ data: bytes }] }, { useWasi: false, ...options });
  } catch {
    return undefined;
  }
}

/** Each host's call with its output taken as bytes (Tenon copies output out of Extism memory lazily). */
async function extismTime(plugin: ExtismPlugin | undefined, name: string, input: string | Uint8Array): Promise<number | undefined> {
  if (!plugin) return undefined;
  try {
    await plugin.call(name, input);
    // 1.0.3 never frees blocks between calls and fails after ~5,000 calls unless reset(): reset
    // every 1,000 calls, as a host using it must (the cost is spread over those calls)
    let calls = 0;
    return await measureAsync(async () => {
      if (++calls % 1000 === 0) await plugin.reset();
      return (await plugin.call(name, input))?.bytes();
    });
  } catch {
    return undefined; // this host cannot run the case (e.g. an out-of-range read throws)
  }
}

/** Tenon and both @extism/extism versions on the same bytes. */
async function hosts(bytes: Uint8Array, options: PluginOptions = {}, extismOptions: Record<string, unknown> = {}) {
  const tenon = (await compilePlugin(bytes, { logLevel: 'off', ...options })).instantiate();
  const rc13 = await extismPlugin(extism2 as unknown as ExtismCreate, bytes, extismOptions);
  const v1 = await extismPlugin(extism1 as unknown as ExtismCreate, bytes, extismOptions);
  return {
    tenon,
    /** Time `fn(input)` on both Extism versions, add them to `row` and print it. */
    async compare(row: Row, fn: string, input: string | Uint8Array): Promise<void> {
      const rc = await extismTime(rc13, fn, input);
      const one = await extismTime(v1, fn, input);
      if (rc !== undefined) row.rc13 = rc;
      if (one !== undefined) row.v1 = one;
      report(row);
    },
    async close(): Promise<void> {
      tenon.close();
      await rc13?.close();
      await v1?.close();
    },
  };
}

const text11 = 'Hello World';
const text64k = 'The quick brown fox jumps over the lazy dog. '.repeat(1457).slice(0, 65536);

async function countVowels(label: string, bytes: Uint8Array, fn: string, withRaw: boolean): Promise<void> {
  const { tenon, compare, close } = await hosts(bytes);
  for (const [size, text] of [
    ['11 B', text11],
    ['64 KiB', text64k],
  ] as const) {
    // .bytes() on every host: each copies the output out into a new Uint8Array, and none decodes it
    const row: Row = { name: `(${size === '11 B' ? 'a' : 'b'}) ${label}, ${size}`, tenon: measure(() => tenon.call(fn, text).bytes()) };
    if (withRaw) row.raw = rawCount(bytes, text);
    await compare(row, fn, text);
  }
  await close();
}

/** The floor: the fixture's own counting loop over bytes already in its memory, no ABI at all. */
function rawCount(bytes: Uint8Array, text: string): number {
  const stub = new Proxy({}, { get: () => () => 0n });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { 'extism:host/env': stub });
  const memory = instance.exports.memory as WebAssembly.Memory;
  const raw = instance.exports.count_vowels_raw as (ptr: number, len: number) => number;
  const data = new TextEncoder().encode(text);
  if (memory.buffer.byteLength < 1024 + data.length) memory.grow(Math.ceil((1024 + data.length) / 65536));
  new Uint8Array(memory.buffer).set(data, 1024);
  return measure(() => raw(1024, data.length));
}

async function echo(): Promise<void> {
  const { tenon, compare, close } = await hosts(wasm('echo.wasm'));
  for (const [label, fn, size] of [
    ['(c) echo 1 KiB (u64 chunks)', 'echo', 1024],
    ['(c) echo 1 MiB (u64 chunks)', 'echo', 1024 * 1024],
    ['(c) echo 1 KiB (byte by byte)', 'echo_bytewise', 1024],
    ['(c) echo 1 MiB (byte by byte)', 'echo_bytewise', 1024 * 1024],
  ] as const) {
    const input = new Uint8Array(size).map((_, i) => 32 + (i % 90));
    await compare({ name: label, tenon: measure(() => tenon.call(fn, input).bytes()) }, fn, input);
  }
  await close();
}

async function hostFunction(): Promise<void> {
  const bytes = wasm('host_call.wasm');
  // The plug-in hands 1 KiB to the host, which hands it straight back as a new block.
  const reflect: HostFunction = {
    name: 'reflect',
    params: ['ptr'],
    results: ['ptr'],
    call: (context, offset: bigint) => context.write(context.view(offset)!),
  };
  const add: HostFunction = { name: 'add_i64', params: ['i64', 'i64'], results: ['i64'], call: (_c, a: bigint, b: bigint) => a + b };
  type Context = { read(p: bigint): { bytes(): Uint8Array } | null; store(b: Uint8Array): bigint };
  const extismFunctions = {
    'extism:host/user': {
      reflect: (cx: Context, p: bigint) => cx.store(cx.read(p)!.bytes()),
      add_i64: (_cx: unknown, a: bigint, b: bigint) => a + b,
    },
  };
  const { tenon, compare, close } = await hosts(bytes, { functions: [reflect, add] }, { functions: extismFunctions });
  const input = new Uint8Array(1024).map((_, i) => 97 + (i % 26));
  await compare(
    { name: '(d) host function round trip, 1 KiB', tenon: measure(() => tenon.call('reflect', input).bytes()) },
    'reflect',
    input,
  );
  await close();
}

/**
 * A new instance from a module compiled once. Tenon is printed twice: `compiled.instantiate()`
 * from bytes, which takes the instance and kernel a closed one gave back, restored to its snapshot
 * (docs/limits.md), and `createPlugin(module)`, a new compiled plug-in with an empty stock each
 * time: a whole plug-in linked from the module, as the other hosts are timed.
 */
async function instantiate(label: string, bytes: Uint8Array): Promise<void> {
  const compiled = await compilePlugin(bytes, { logLevel: 'off' });
  const module = new WebAssembly.Module(bytes);
  const pooled: Row = { name: `(e) new instance, ${label}, a closed one restored`, tenon: measure(() => compiled.instantiate().close()) };
  const freshOnce = async (): Promise<void> => (await createPlugin(module, { logLevel: 'off' })).close();
  await freshOnce();
  const fresh: Row = { name: `(e) new plug-in from the module, ${label}, new kernel`, tenon: await measureAsync(freshOnce) };
  for (const [key, create] of [
    ['rc13', extism2],
    ['v1', extism1],
  ] as const) {
    try {
      const once = async (): Promise<void> => {
        const p = await (create as unknown as ExtismCreate)({ wasm: [{ module }] }, { useWasi: false });
        await p.close();
      };
      await once();
      const ns = await measureAsync(once);
      pooled[key] = ns;
      fresh[key] = ns;
    } catch {
      // this host cannot build from a compiled module
    }
  }
  report(pooled);
  report(fresh);
}

// the machine's load beside the figures: on a shared machine it moves them more than any change does
const machine = (): string => `${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(1)}`;
console.log(`Tenon ABI benchmark: Node ${process.version}, ${machine()}, medians of ${ROUNDS} rounds; ratios are other host / Tenon\n`);
await countVowels('count vowels (our WAT)', wasm('count_vowels.wasm'), 'count_vowels', true);
const rust = process.env.TENON_BENCH_RUST;
if (rust && existsSync(rust)) await countVowels('count vowels (Rust PDK)', readFileSync(rust), 'count_vowels', false);
await echo();
await hostFunction();
await instantiate('count vowels (our WAT)', wasm('count_vowels.wasm'));
if (rust && existsSync(rust)) await instantiate('count vowels (Rust PDK)', readFileSync(rust));
console.log(`\nat the end: ${machine()}`);
