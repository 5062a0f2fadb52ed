// Run one plug-in call on Tenon and on @extism/extism 2.0.0-rc13 with the same bytes, config and
// host functions, and report what each gave, so tests can compare them byte for byte.
import createExtismPlugin from '@extism/extism';
import { createPlugin, type HostFunction, isTenonError, type Logger, type LogLevel } from '@tenon/runtime';

/** A call's result: output bytes, or the error message (Tenon's with its code and the plug-in's own message). */
export type Outcome = { output: Uint8Array } | { error: string; code?: string; pluginMessage?: string; trapKind?: string };

export interface Call {
  fn: string;
  input: string | Uint8Array;
  config?: Record<string, string>;
  functions?: readonly HostFunction[];
  logLevel?: LogLevel;
}

/** Log lines as `level message`, in order, without `prefix` when a line starts with it. */
export function recordingLogger(lines: string[], prefix = ''): Logger {
  const line = (level: string) => (message: string) =>
    lines.push(`${level} ${prefix !== '' && message.startsWith(prefix) ? message.slice(prefix.length) : message}`);
  return { trace: line('trace'), debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

export async function onTenon(wasm: Uint8Array, call: Call, logs: string[] = []): Promise<Outcome> {
  try {
    using plugin = await createPlugin(wasm, {
      config: call.config ?? {},
      functions: call.functions ?? [],
      // Tenon starts each line with the plug-in's name, @extism/extism does not: compare the messages
      logger: recordingLogger(logs, '[plugin] '),
      logLevel: call.logLevel ?? 'info',
    });
    return { output: plugin.call(call.fn, call.input).bytes() };
  } catch (error) {
    if (!isTenonError(error)) throw error;
    const { pluginMessage, kind } = error as { pluginMessage?: string; kind?: string };
    return {
      error: error.message,
      code: error.code,
      ...(pluginMessage !== undefined && { pluginMessage }),
      ...(kind !== undefined && { trapKind: kind }),
    };
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
      const value = (fn.call as (context: unknown, ...args: unknown[]) => unknown)(context, ...args);
      // Tenon takes a number for a declared i64 or ptr result; Extism needs the BigInt
      const [result] = fn.results ?? [];
      return (result === 'i64' || result === 'ptr') && typeof value === 'number' ? BigInt(value) : value;
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

/**
 * What went wrong, in terms both hosts can be held to: a missing function, the plug-in's own error
 * message, or a trap's kind. Each host words its errors its own way; these are the facts under the
 * words. Anything else is returned as it is, so a comparison fails on it.
 */
export function failure(outcome: Outcome): string | undefined {
  if ('output' in outcome) return undefined;
  if (outcome.code !== undefined) {
    // Tenon
    if (outcome.code === 'FUNCTION_NOT_FOUND') return `no function ${/"([^"]+)"/.exec(outcome.error)?.[1]}`;
    if (outcome.code === 'PLUGIN_FAILED' && outcome.pluginMessage !== undefined) return `plug-in error: ${outcome.pluginMessage}`;
    if (outcome.code === 'TRAP' && outcome.trapKind !== undefined) return `trap: ${outcome.trapKind}`;
    return `${outcome.code}: ${outcome.error}`;
  }
  // @extism/extism 2.0.0-rc13's wording
  const missing = /^Plugin error: function "([^"]+)" does not exist/.exec(outcome.error);
  if (missing) return `no function ${missing[1]}`;
  const reported = /^Plugin-originated error: (.*)$/s.exec(outcome.error);
  if (reported) return `plug-in error: ${reported[1]}`;
  if (outcome.error === 'unreachable') return 'trap: unreachable';
  return `unrecognised: ${outcome.error}`;
}
