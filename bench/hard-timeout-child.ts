/**
 * The pool's hard timeout against a worker V8 cannot stop quickly: an unmetered loop of 64 MiB
 * memory.fill. Prints when the call failed and when the next call was served, then exits at once
 * (the parent kills this process: Node would wait for the stuck thread at exit).
 *   node --import tsx bench/hard-timeout-child.ts
 */
import { readFileSync } from 'node:fs';
import { createPool } from '../packages/runtime/src/index.js';

const bytes = readFileSync(new URL('../packages/runtime/test/fixtures/build/bulk.wasm', import.meta.url));
const pool = createPool({ size: 1, hardTimeoutMs: 1000 });
await pool.call(bytes, 'fill_once', new Uint8Array([4]));
const start = performance.now();
const error = await pool.call(bytes, 'fill_loop').catch((e: unknown) => e as { code?: string });
const failed = performance.now() - start;
await pool.call(bytes, 'fill_once', new Uint8Array([4]));
const next = performance.now() - start;
console.log(
  `${(error as { code?: string }).code} after ${failed.toFixed(0)} ms; the next call served ${(next - failed).toFixed(0)} ms later`,
);
