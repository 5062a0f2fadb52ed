// Run one plug-in call on Tenon and on @extism/extism 2.0.0-rc13 with the same bytes, config and
// host functions, and report what each gave, so tests can compare them byte for byte.
import createExtismPlugin from '@extism/extism';
import { createPlugin, type HostFunction, isTenonError, type Logger, type LogLevel } from '@tenon/runtime';

/** A call's result: output bytes, or the error message (Tenon's with its code). */
export type Outcome = { output: Uint8Array } | { error: string; code?: string };

export interface Call {
  fn: string;
  input: string | Uint8Array;
  config?: Record<string, string>;
  functions?: readonly HostFunction[];
  logLevel?: LogLevel;
}

/** Log lines as `level message`, in order. */
export function recordingLogger(lines: string[]): Logger {
  const line = (level: string) => (message: string) => lines.push(`${level} ${message}`);
  return { trace: line('trace'), debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

export async function onTenon(wasm: Uint8Array, call: Call, logs: string[] = []): Promise<Outcome> {
  try {
    using plugin = await createPlugin(wasm, {
      config: call.config ?? {},
      functions: call.functions ?? [],
      logger: recordingLogger(logs),
      logLevel: call.logLevel ?? 'info',
    });
    return { output: plugin.call(call.fn, call.input).bytes() };
  } catch (error) {
    if (!isTenonError(error)) throw error;
    return { error: error.message, code: error.code };
  }
}

type ExtismContext = {
  read(offset: bigint): { bytes(): Uint8Array; text(): string } | null;
  store(data: string | Uint8Array): bigint;
};

/** Tenon's HostFunction runs unchanged on Extism: its context is adapted, not rewritten. */
function extismFunctions(
  functions: readonly HostFunction[],
): Record<string, Record<string, (cx: ExtismContext, ...args: bigint[]) => unknown>> {
  const namespaces: Record<string, Record<string, (cx: ExtismContext, ...args: bigint[]) => unknown>> = {};
  for (const fn of functions) {
    const name = fn.namespace ?? 'extism:host/user';
    namespaces[name] ??= {};
    const namespace = namespaces[name];
    namespace[fn.name] = (cx, ...args) => {
      const context = {
        text: (offset: bigint | number) => cx.read(BigInt(offset))?.text() ?? null,
        read: (offset: bigint | number) => cx.read(BigInt(offset))?.bytes() ?? null,
        write: (data: string | Uint8Array) => cx.store(data),
      };
      return (fn.call as (context: unknown, ...args: unknown[]) => unknown)(context, ...args);
    };
  }
  return namespaces;
}

export async function onExtism(wasm: Uint8Array, call: Call, logs: string[] = []): Promise<Outcome> {
  const plugin = await createExtismPlugin(
    { wasm: [{ data: wasm }], config: call.config ?? {} },
    {
      useWasi: false,
      config: call.config ?? {},
      functions: extismFunctions(call.functions ?? []),
      logger: recordingLogger(logs) as unknown as Console,
      logLevel: call.logLevel ?? 'info',
    },
  );
  try {
    const output = await plugin.call(call.fn, call.input);
    return { output: output?.bytes() ?? new Uint8Array(0) };
  } catch (error) {
    return { error: (error as Error).message };
  } finally {
    await plugin.close();
  }
}
