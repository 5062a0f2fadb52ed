/**
 * One hostile case on one host, in a process of its own (a host that hangs or dies takes only
 * this process with it). Prints two lines as they happen: what the host reported for the first
 * call, then what a second call on the same plug-in did (a host that hangs or dies on it has
 * printed the first line already).
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

const first = (line: string): void => {
  console.log(`first: ${line}`);
};
const second = (line: string): void => {
  console.log(`second: ${line}`);
};

if (host === 'tenon') {
  let plugin: Awaited<ReturnType<typeof createPlugin>>;
  try {
    plugin = await createPlugin(bytes, {
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
  } catch (error) {
    stop();
    first(`${isTenonError(error) ? error.code : `untyped ${(error as Error).name}`} at load (${took})`);
    second('no plug-in to call');
    process.exit(0);
  }
  const tenonCall = (): string => {
    try {
      const output = plugin.call(fn, options.input);
      return `ok, ${output.length} bytes out`;
    } catch (error) {
      return isTenonError(error) ? error.code : `untyped ${(error as Error).name}: ${(error as Error).message}`;
    }
  };
  started = performance.now();
  const report = tenonCall();
  stop();
  first(`${report} (${took})`);
  started = performance.now();
  const again = tenonCall();
  stop();
  second(`${again} (${took})`);
  plugin.close();
} else {
  type ExtismPlugin = {
    call(name: string, input?: string): Promise<{ length?: number; byteLength?: number } | null>;
    close(): Promise<void>;
  };
  // rc13's timeoutMs also covers starting its worker, which on a loaded machine can take longer
  // than 200 ms: up to ten tries, and the line says how many it took.
  const load = async (): Promise<ExtismPlugin> =>
    (await createExtismPlugin(
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
  let plugin: ExtismPlugin | undefined;
  let tries = 0;
  let failure: unknown;
  while (!plugin && tries < 10) {
    tries++;
    started = performance.now();
    try {
      plugin = await load();
    } catch (error) {
      failure = error;
    }
  }
  if (!plugin) {
    stop();
    first(
      `error at load: ${String((failure as Error).message ?? failure)
        .split('\n')[0]!
        .slice(0, 40)} (${took}, ${tries} tries)`,
    );
    second('no plug-in to call');
    process.exit(0);
  }
  const loaded = plugin;
  const retried = tries > 1 ? `, loaded on try ${tries}` : '';
  const extismCall = async (): Promise<string> => {
    try {
      const output = await loaded.call(fn, options.input);
      return `ok, ${output?.byteLength ?? 0} bytes out`;
    } catch (error) {
      return `error: ${((error as Error).message ?? String(error)).split('\n')[0]!.slice(0, 50)}`;
    }
  };
  started = performance.now();
  const report = await extismCall();
  stop();
  first(`${report} (${took}${retried})`);
  started = performance.now();
  const again = await extismCall();
  stop();
  second(`${again} (${took})`);
  await loaded.close();
  process.exit(0);
}
