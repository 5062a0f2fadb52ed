/**
 * Pool benchmark (it runs the compiled runtime, dist/, so that workers load plain JavaScript): Tenon's worker pool against @extism/extism 2.0.0-rc13 with `runInWorker: true`,
 * measured side by side in one process, medians of ROUNDS rounds.
 *
 *   npm run bench:pool
 *   TENON_BENCH_RUST=path/code.wasm npm run bench:pool   # also a Rust-PDK count-vowels plug-in
 *
 * - throughput, each host at its best on 2 cores (Tenon: 1,000 calls in flight on a pool of 2
 *   workers; rc13: two plug-ins, one worker each, calls chained on each since a plug-in is not
 *   re-entrant, so 2 in flight), and at equal concurrency (2 in flight on each); both sides warmed
 *   with the same number of calls in the setup they are measured in;
 * - latency of one call at a time, beside a bare worker round trip (postMessage there and back);
 * - what an async host function adds: the same plug-in's `reflect` (through the host) against its
 *   `reflect_local` (the same answer without the host call);
 * - host functions run in the workers (the pool's `hostFunctions` module) against the same ones run
 *   in this thread, a host call per plug-in call, 1,000 calls in flight on 2 workers;
 * - scaling of a compute-bound call (64 KiB of input) from 1 worker to 2.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import createExtismPlugin from '@extism/extism';
import { createPool, type HostFunction, type Pool } from '../packages/runtime/dist/index.js';

const ROUNDS = 5;
const IN_FLIGHT = 1000;
const fixture = (name: string) => readFileSync(new URL(`../packages/runtime/test/fixtures/build/${name}.wasm`, import.meta.url));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const perSecond = (calls: number, ms: number) => (calls / ms) * 1000;
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

interface Extism {
  call(name: string, input?: string | Uint8Array): Promise<unknown>;
  close(): Promise<void>;
}

/** Calls/s with `inFlight` calls outstanding until `total` are done. */
async function poolThroughput(
  pool: Pool,
  source: Uint8Array,
  input: string | Uint8Array,
  total: number,
  inFlight = IN_FLIGHT,
  fn = 'count_vowels',
): Promise<number> {
  const started = performance.now();
  let sent = 0;
  const lane = async () => {
    while (sent < total) {
      sent++;
      await pool.call(source, fn, input);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return perSecond(total, performance.now() - started);
}

/** rc13's best: one plug-in per worker, calls chained on each. */
async function extismThroughput(plugins: Extism[], input: string | Uint8Array, total: number): Promise<number> {
  const started = performance.now();
  await Promise.all(
    plugins.map(async (plugin) => {
      for (let i = 0; i < total / plugins.length; i++) await plugin.call('count_vowels', input);
    }),
  );
  return perSecond(total, performance.now() - started);
}

async function latency(call: () => Promise<unknown>, n: number): Promise<number> {
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const started = performance.now();
    for (let i = 0; i < n; i++) await call();
    rounds.push(((performance.now() - started) / n) * 1000);
  }
  return median(rounds);
}

/** A bare worker round trip: postMessage to a worker that answers at once, and back. */
async function bareRoundTrip(n: number): Promise<number> {
  const worker = new Worker(
    "require('node:worker_threads').parentPort.on('message', (m) => require('node:worker_threads').parentPort.postMessage(m))",
    {
      eval: true,
    },
  );
  const once = () =>
    new Promise<void>((resolve) => {
      worker.once('message', () => resolve());
      worker.postMessage(1);
    });
  await latency(once, 200);
  const result = await latency(once, n);
  await worker.terminate();
  return result;
}

/**
 * The machine's own ceiling for the compute-bound case: `threads` workers each calling a plug-in
 * in a loop, with no pool between (calls/s, all threads together).
 */
async function rawThroughput(threads: number, input: Uint8Array): Promise<number> {
  const runtime = new URL('../packages/runtime/dist/index.js', import.meta.url).href;
  const wasm = new URL('../packages/runtime/test/fixtures/build/count_vowels.wasm', import.meta.url).pathname;
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(${JSON.stringify(runtime)}).then(async ({ createPlugin }) => {
      const plugin = await createPlugin(${JSON.stringify(wasm)});
      for (let i = 0; i < 200; i++) plugin.call('count_vowels', workerData);
      parentPort.postMessage('ready');
      parentPort.on('message', (n) => {
        for (let i = 0; i < n; i++) plugin.call('count_vowels', workerData);
        parentPort.postMessage('done');
      });
    });`;
  const workers = Array.from({ length: threads }, () => new Worker(code, { eval: true, workerData: input }));
  const next = (worker: Worker, message?: number) =>
    new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', () => resolve());
      if (message !== undefined) worker.postMessage(message);
    });
  await Promise.all(workers.map((w) => next(w)));
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const started = performance.now();
    await Promise.all(workers.map((w) => next(w, 1_000)));
    rounds.push(perSecond(threads * 1_000, performance.now() - started));
  }
  await Promise.all(workers.map((w) => w.terminate()));
  return median(rounds);
}

async function extismPlugins(bytes: Uint8Array, count: number): Promise<Extism[]> {
  return Promise.all(
    Array.from(
      { length: count },
      () => createExtismPlugin({ wasm: [{ data: bytes }] } as never, { useWasi: true, runInWorker: true } as never) as Promise<Extism>,
    ),
  );
}

const SMALL = 'Hello World';
const section = process.argv[2];
const rows: string[][] = [];

/** Label, bytes, calls per round for Tenon and for rc13, and warm-up calls (the same on both sides). */
const plugins: Record<string, [string, () => Uint8Array, number, number, number]> = {
  wat: ['count vowels, our WAT', () => fixture('count_vowels'), 40_000, 2_000, 2_000],
  rust: ['count vowels, Rust PDK', () => readFileSync(process.env.TENON_BENCH_RUST as string), 20_000, 400, 400],
};

// Each section runs in a process of its own: V8 caps the address space one process may reserve
// for WebAssembly memories, and the pools and rc13's workers of one section would crowd the next.
if (section === undefined) {
  // the machine's load beside the figures: on a shared machine it moves them more than any change does
  const machine = (): string => `${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(1)}`;
  console.log(`Tenon pool benchmark: Node ${process.version}, ${machine()}, medians of ${ROUNDS} rounds\n`);
  const header = ['case', 'Tenon pool', '@extism/extism rc13', 'ratio', 'target'];
  const sections = [
    'wat',
    ...(process.env.TENON_BENCH_RUST && existsSync(process.env.TENON_BENCH_RUST) ? ['rust'] : []),
    'host',
    'scaling',
  ];
  const all = [header];
  for (const name of sections) {
    const out = execFileSync(process.execPath, [...process.execArgv, new URL(import.meta.url).pathname, name], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    all.push(...(JSON.parse(out) as string[][]));
  }
  const widths = header.map((_, c) => Math.max(...all.map((row) => (row[c] ?? '').length)));
  for (const row of all) console.log(row.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  '));
  console.log(`\nat the end: ${machine()}`);
  process.exit(0);
}

if (section in plugins) {
  const [name, load, ours, theirs, warm] = plugins[section] as [string, () => Uint8Array, number, number, number];
  const bytes = load();
  const pool = createPool({ size: 2, plugin: { wasi: true } });
  const extism = await extismPlugins(bytes, 2);
  // the same warm-up on both sides, each in the setup it is measured in: compile, instantiate, JIT
  await poolThroughput(pool, bytes, SMALL, warm);
  await poolThroughput(pool, bytes, SMALL, warm, extism.length);
  await extismThroughput(extism, SMALL, warm);
  const best: number[] = [];
  const equal: number[] = [];
  const r: number[] = [];
  // rounds alternate between the setups, so a slow moment of this shared machine hits all alike
  for (let i = 0; i < ROUNDS; i++) {
    best.push(await poolThroughput(pool, bytes, SMALL, ours));
    equal.push(await poolThroughput(pool, bytes, SMALL, theirs, extism.length));
    r.push(await extismThroughput(extism, SMALL, theirs));
  }
  const [tenon, tenonEqual, them] = [median(best), median(equal), median(r)];
  rows.push([
    `${name}, 11 B, each at its best (calls/s): Tenon ${fmt(IN_FLIGHT)} in flight on a pool of 2 workers; rc13 2 plug-ins in workers, calls chained on each (2 in flight)`,
    fmt(tenon),
    fmt(them),
    `${fmt(tenon / them, 1)}×`,
    name.includes('Rust') ? '≥20×' : '≥5×',
  ]);
  rows.push([
    `${name}, 11 B, equal concurrency (calls/s): 2 in flight on each; Tenon a pool of 2 workers, rc13 2 plug-ins in workers`,
    fmt(tenonEqual),
    fmt(them),
    `${fmt(tenonEqual / them, 1)}×`,
    '',
  ]);

  const n = Math.min(500, theirs);
  const ourLatency = await latency(() => pool.call(bytes, 'count_vowels', SMALL), n);
  const theirLatency = await latency(() => extism[0]!.call('count_vowels', SMALL), n);
  rows.push([
    `${name}, one call at a time (µs per call): Tenon a pool of 2 workers; rc13 one plug-in in a worker`,
    fmt(ourLatency, 1),
    fmt(theirLatency, 1),
    `${fmt(theirLatency / ourLatency, 1)}×`,
    '',
  ]);
  await Promise.all(extism.map((p) => p.close()));
  await pool.close();
} else if (section === 'host') {
  // The same two host functions, written once: imported by the workers, or run in this thread.
  const code = `export const functions = [
    { name: 'reflect', params: ['ptr'], results: ['ptr'], call: (context, offset) => context.write(context.read(offset) ?? new Uint8Array()) },
    { name: 'add_i64', params: ['i64', 'i64'], results: ['i64'], call: (_context, a, b) => a + b },
  ];`;
  const module = `data:text/javascript,${encodeURIComponent(code)}`;
  const { functions } = (await import(module)) as { functions: HostFunction[] };
  const inWorker = createPool({ size: 2, hostFunctions: module });
  const crossing = createPool({ size: 2, plugin: { functions } });
  const hostCall = fixture('host_call');
  const total = 20_000;
  for (const pool of [inWorker, crossing]) {
    await poolThroughput(pool, hostCall, SMALL, 2_000, IN_FLIGHT, 'reflect');
    await poolThroughput(pool, hostCall, SMALL, 2_000, IN_FLIGHT, 'reflect_local');
  }
  const [local, worker, main] = [[], [], []] as number[][];
  for (let i = 0; i < ROUNDS; i++) {
    local.push(await poolThroughput(inWorker, hostCall, SMALL, total, IN_FLIGHT, 'reflect_local'));
    worker.push(await poolThroughput(inWorker, hostCall, SMALL, total, IN_FLIGHT, 'reflect'));
    main.push(await poolThroughput(crossing, hostCall, SMALL, total, IN_FLIGHT, 'reflect'));
  }
  await Promise.all([inWorker.close(), crossing.close()]);
  rows.push([
    `a host call per plug-in call, ${fmt(IN_FLIGHT)} in flight on 2 workers (calls/s): host_call.wat reflect, its host function in the workers vs in this thread`,
    fmt(median(worker)),
    `in this thread: ${fmt(median(main))}; no host call: ${fmt(median(local))}`,
    `${fmt(median(worker) / median(main), 1)}×`,
    '',
  ]);
} else {
  const bare = await bareRoundTrip(2_000);
  const one = createPool({ size: 1 });
  await latency(() => one.call(fixture('count_vowels'), 'count_vowels', SMALL), 200);
  const single = await latency(() => one.call(fixture('count_vowels'), 'count_vowels', SMALL), 2_000);
  rows.push([
    'one call at a time vs a bare worker round trip (µs)',
    fmt(single, 1),
    `bare: ${fmt(bare, 1)}`,
    `${fmt(single / bare, 2)}× bare`,
    '≤1.5× bare',
  ]);

  // An async host function (a lookup that resolves at once) costs a hop to this thread and back:
  // the same plug-in's call that makes one (`reflect`), against its call that gives the same
  // answer without it (`reflect_local`).
  const lookup: HostFunction = {
    name: 'reflect',
    params: ['ptr'],
    results: ['ptr'],
    call: async (context, offset: bigint) => context.write(context.read(offset) ?? new Uint8Array()),
  };
  const add: HostFunction = { name: 'add_i64', params: ['i64', 'i64'], results: ['i64'], call: (_c, a: bigint, b: bigint) => a + b };
  const hosted = createPool({ size: 1, plugin: { functions: [lookup, add] } });
  const hostCall = fixture('host_call');
  await latency(() => hosted.call(hostCall, 'reflect', SMALL), 200);
  await latency(() => hosted.call(hostCall, 'reflect_local', SMALL), 200);
  const withHost = await latency(() => hosted.call(hostCall, 'reflect', SMALL), 2_000);
  const withoutHost = await latency(() => hosted.call(hostCall, 'reflect_local', SMALL), 2_000);
  await hosted.close();
  rows.push([
    'an async host function call from a worker (µs): host_call.wat, reflect vs reflect_local',
    fmt(withHost - withoutHost, 1),
    `a call with one ${fmt(withHost, 1)}, without ${fmt(withoutHost, 1)}`,
    '',
    'small',
  ]);

  const big = new Uint8Array(64 * 1024).map((_, i) => 97 + (i % 26));
  await poolThroughput(one, fixture('count_vowels'), big, 200);
  const oneWorker: number[] = [];
  for (let i = 0; i < ROUNDS; i++) oneWorker.push(await poolThroughput(one, fixture('count_vowels'), big, 2_000));
  await one.close();
  const two = createPool({ size: 2 });
  await poolThroughput(two, fixture('count_vowels'), big, 200);
  const twoWorkers: number[] = [];
  for (let i = 0; i < ROUNDS; i++) twoWorkers.push(await poolThroughput(two, fixture('count_vowels'), big, 2_000));
  await two.close();
  const [rawOne, rawTwo] = [await rawThroughput(1, big), await rawThroughput(2, big)];
  rows.push([
    '64 KiB count vowels, 2 workers vs 1 (calls/s)',
    `${fmt(median(twoWorkers))} vs ${fmt(median(oneWorker))}`,
    `no pool, 2 threads vs 1: ${fmt(rawTwo / rawOne, 2)}×`,
    `${fmt(median(twoWorkers) / median(oneWorker), 2)}×`,
    '≥1.8×',
  ]);
}
console.log(JSON.stringify(rows));
