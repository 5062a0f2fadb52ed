/**
 * One hostile case on one host, in a process of its own (a host that hangs or dies takes only
 * this process with it). Prints one line: what the host reported, then whether it could serve
 * another call afterwards.
 *   node --import tsx bench/hostile-child.ts <tenon|rc13> <fixture> <function> '<options JSON>'
 */
import { readFileSync } from 'node:fs';
import createExtismPlugin from '@extism/extism';
import { createPlugin, isTenonError } from '../packages/runtime/src/index.js';

const [host, fixture, fn, json] = process.argv.slice(2) as [string, string, string, string];
const options = JSON.parse(json) as { maxPages?: number; maxVarBytes?: number; input?: string };
const bytes =
  fixture === 'malformed'
    ? readFileSync(new URL('../packages/runtime/test/fixtures/build/count_vowels.wasm', import.meta.url)).subarray(0, 40)
    : readFileSync(new URL(`../packages/runtime/test/fixtures/build/${fixture}.wasm`, import.meta.url));
const memory = {
  ...(options.maxPages && { maxPages: options.maxPages }),
  ...(options.maxVarBytes && { maxVarBytes: options.maxVarBytes }),
};
let started = performance.now();
let took = '';
const stop = (): void => {
  took = `${(performance.now() - started).toFixed(0)} ms`;
};
const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

if (host === 'tenon') {
  let report: string;
  try {
    const plugin = await createPlugin(bytes, {
      timeoutMs: 200,
      memory,
      logger: quiet,
      functions: [
        {
          name: 'boom',
          call: () => {
            throw new Error('boom');
          },
        },
      ],
    });
    started = performance.now();
    try {
      const output = plugin.call(fn, options.input);
      report = `ok, ${output.length} bytes out`;
    } catch (error) {
      report = isTenonError(error) ? error.code : `untyped ${(error as Error).name}`;
    }
    stop();
    // can the same instance serve again?
    try {
      plugin.call(fn === 'run' ? 'run' : fn, options.input);
    } catch {
      // the same hostile function may fail again: that is fine, the host is still here
    }
    plugin.close();
  } catch (error) {
    stop();
    report = isTenonError(error) ? `${error.code} at load` : `untyped ${(error as Error).name} at load`;
  }
  console.log(`${report} (${took}), host fine`);
} else {
  let report: string;
  let plugin:
    | { call(name: string, input?: string): Promise<{ length?: number; byteLength?: number } | null>; close(): Promise<void> }
    | undefined;
  try {
    plugin = (await createExtismPlugin(
      { wasm: [{ data: bytes }], memory } as never,
      {
        useWasi: false,
        runInWorker: true,
        timeoutMs: 200,
        logger: quiet as never,
        functions: {
          'extism:host/user': {
            boom: () => {
              throw new Error('boom');
            },
          },
        },
      } as never,
    )) as never;
    started = performance.now();
    try {
      const output = await plugin!.call(fn, options.input);
      report = `ok, ${output?.byteLength ?? 0} bytes out`;
    } catch (error) {
      report = `error: ${((error as Error).message ?? String(error)).split('\n')[0]!.slice(0, 50)}`;
    }
    stop();
    await plugin!.close();
  } catch (error) {
    stop();
    report = `error at load: ${String((error as Error).message ?? error)
      .split('\n')[0]!
      .slice(0, 40)}`;
  }
  console.log(`${report} (${took})`);
  process.exit(0);
}
