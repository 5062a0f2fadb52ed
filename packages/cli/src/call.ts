import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  type AnyTenonError,
  createPlugin,
  type HostFunction,
  isTenonError,
  type Logger,
  type LogLevel,
  loadHostFunctions,
  type Manifest,
  type Plugin,
  type PluginOptions,
  parseManifest,
} from '@tenon/runtime';
import { Command, InvalidArgumentError, Option } from 'commander';
import { EXIT, EXIT_CODES_HELP, exitCodeFor } from './exit-codes.js';
import type { Io } from './main.js';

interface CallFlags {
  input?: string;
  inputFile?: string;
  stdin?: boolean;
  hostFunctions?: string;
  errorFormat: 'text' | 'json';
  config: Record<string, string>;
  wasi?: boolean;
  memoryMax?: number;
  logLevel: LogLevel;
  loop: number;
  timeout?: number;
  fuel?: number;
  stats?: boolean;
  instance: 'reuse' | 'fresh';
  allowHost: string[];
  audit?: boolean;
  allowPath: Record<string, string>;
}

const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'off'];

/**
 * Limits `tenon call` sets unless a flag or the manifest does: whoever runs a plug-in by hand runs
 * a stranger's code, and without them a page-by-page grow took 4 GiB and minutes of CPU.
 */
export const CALL_DEFAULTS = {
  /** Wall-clock limit per call, in milliseconds. */
  timeoutMs: 10_000,
  /** Pages of 64 KiB each memory may grow by (256 MiB). */
  maxPages: 4096,
} as const;

/** `tenon call`: load a plug-in, call one function, print its output. */
export function callCommand(io: Io, exit: (status: number) => void): Command {
  return new Command('call')
    .description('Call a function of a plug-in and write its output to stdout')
    .argument('<plugin>', 'a .wasm module or a .json manifest (Extism format)')
    .argument('<function>', 'the exported function to call')
    .option('-i, --input <text>', 'input passed to the function')
    .option('--input-file <path>', 'read the input from a file (no limit of the command line)')
    .option('--stdin', 'read the input from standard input')
    .option(
      '--host-functions <module.js>',
      "a JavaScript module exporting the plug-in's host functions as `functions` (the format of cases.json's hostFunctions)",
    )
    .addOption(
      new Option(
        '--error-format <format>',
        'how a failure is written to stderr: a text line, or one JSON line {"error":{"code","message",...}}',
      )
        .choices(['text', 'json'])
        .default('text'),
    )
    .option('-c, --config <key=value>', 'a config value (repeatable)', keyValue, {})
    .option('--wasi', 'give the plug-in WASI preview 1 (sandboxed: no environment, no files but --allow-path)')
    .option(
      '--memory-max <pages>',
      `pages of 64 KiB each memory may hold, from zero (default ${CALL_DEFAULTS.maxPages}, ${CALL_DEFAULTS.maxPages / 16} MiB, unless the manifest sets memory.max_pages)`,
      nonNegativeInteger,
    )
    .addOption(new Option('--log-level <level>', 'lowest plug-in log level shown on stderr').choices(LOG_LEVELS).default('info'))
    .option('--loop <n>', 'call n times on one instance; print the last output and timings', positiveInteger, 1)
    .option(
      '--timeout <ms>',
      `wall-clock limit per call, in milliseconds; 0 for no limit (default ${CALL_DEFAULTS.timeoutMs}, unless the manifest sets timeout_ms)`,
      nonNegativeInteger,
    )
    .option('--fuel <n>', 'fuel limit per call (about one unit per WebAssembly instruction)', positiveInteger)
    .addOption(
      new Option('--instance <mode>', 'reuse one instance for every call, or a fresh one per call')
        .choices(['reuse', 'fresh'])
        .default('reuse'),
    )
    .option('--stats', 'after each call, print {"fuel","durationMs","memoryPages","kernelBytes"} as one JSON line on stderr')
    .option(
      '--allow-host <host>',
      'a host name glob the plug-in may reach over HTTP, such as *.example.com or 127.0.0.1: no scheme, port or path (repeatable)',
      hostPattern,
      [],
    )
    .option('--audit', 'print each HTTP request the plug-in makes or tries as one JSON line on stderr')
    .option(
      '--allow-path <host:guest>',
      'map a host directory to an absolute guest path; ro:HOST:GUEST for read-only (repeatable; implies --wasi)',
      hostGuest,
      {},
    )
    .addHelpText('after', `\n${EXIT_CODES_HELP}`)
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.stdout.write(t), writeErr: (t) => io.stderr.write(t) })
    .action(async (source: string, name: string, flags: CallFlags) => {
      exit(await runCall(source, name, flags, io));
    });
}

async function runCall(source: string, name: string, flags: CallFlags, io: Io): Promise<number> {
  if ([flags.input !== undefined, flags.stdin === true, flags.inputFile !== undefined].filter(Boolean).length > 1) {
    io.stderr.write('tenon: give the input with one of --input, --input-file or --stdin\n');
    return EXIT.usage;
  }
  let input: string | Uint8Array = flags.input ?? '';
  let functions: HostFunction[] = [];
  try {
    if (flags.stdin) input = await readAll(io.stdin);
    if (flags.inputFile !== undefined) input = await readFile(flags.inputFile);
    if (flags.hostFunctions !== undefined) functions = [...(await loadHostFunctions(resolve(flags.hostFunctions)))];
  } catch (error) {
    io.stderr.write(`tenon: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  const manifest = await manifestOf(source);
  const timeoutMs = flags.timeout ?? (manifest?.timeoutMs !== undefined ? undefined : CALL_DEFAULTS.timeoutMs);
  const maxPages = flags.memoryMax ?? (manifest?.memory?.maxPages !== undefined ? undefined : CALL_DEFAULTS.maxPages);

  const options: PluginOptions = {
    config: flags.config,
    functions,
    logLevel: flags.logLevel,
    logger: stderrLogger(io),
    ...((flags.wasi || Object.keys(flags.allowPath).length > 0) && { wasi: true }),
    ...(Object.keys(flags.allowPath).length > 0 && { allowedPaths: flags.allowPath }),
    ...(maxPages !== undefined && { memory: { maxPages } }),
    ...(timeoutMs !== undefined && { timeoutMs: timeoutMs === 0 ? null : timeoutMs }),
    ...(flags.fuel !== undefined && { fuel: flags.fuel }),
    ...(flags.stats && { meter: true }),
    ...(flags.allowHost.length > 0 && { allowedHosts: flags.allowHost }),
    ...(flags.audit && { onHttpRequest: (record) => io.stderr.write(`tenon: http ${JSON.stringify(record)}\n`) }),
    instance: flags.instance,
  };
  let plugin: Plugin | undefined;
  try {
    plugin = await createPlugin(source, options);
    const loaded = plugin;
    const stats = (): void => {
      if (!flags.stats) return;
      const { fuel, durationMs, memoryPages, kernelBytes } = loaded.stats;
      io.stderr.write(
        `${JSON.stringify({ fuel: fuel ?? null, durationMs: durationMs === undefined ? null : Number(durationMs.toFixed(3)), memoryPages, kernelBytes })}\n`,
      );
    };
    const micros: number[] = [];
    let output: Uint8Array = new Uint8Array(0);
    try {
      for (let i = 0; i < flags.loop; i++) {
        const start = process.hrtime.bigint();
        output = plugin.call(name, input).bytes();
        micros.push(Number(process.hrtime.bigint() - start) / 1000);
        stats();
      }
    } catch (error) {
      stats();
      throw error;
    }
    io.stdout.write(output);
    if (flags.loop > 1) {
      micros.sort((a, b) => a - b);
      const at = (q: number): string => (micros[Math.min(micros.length - 1, Math.floor(q * micros.length))] ?? 0).toFixed(2);
      io.stderr.write(`tenon: ${flags.loop} calls, median ${at(0.5)} µs, p99 ${at(0.99)} µs per call\n`);
    }
    return EXIT.ok;
  } catch (error) {
    if (!isTenonError(error)) throw error;
    // a failing plug-in's output goes where a successful one's does: it is often the diagnostics
    const output = error.code === 'PLUGIN_FAILED' || error.code === 'PLUGIN_EXIT' ? error.output : undefined;
    if (output) io.stdout.write(output);
    io.stderr.write(flags.errorFormat === 'json' ? `${JSON.stringify({ error: errorJson(error, output) })}\n` : errorText(error));
    return exitCodeFor(error.code);
  } finally {
    plugin?.close();
  }
}

/** One line, or one line per problem of a manifest, so that none is lost at the end of a long line. */
function errorText(error: AnyTenonError): string {
  if (error.code === 'MANIFEST_INVALID' && error.problems.length > 1) {
    return `tenon: ${error.code}: ${error.problems.length} problems in the manifest:\n${error.problems.map((p) => `  ${p.field}: ${p.message}\n`).join('')}`;
  }
  return `tenon: ${error.code}: ${error.message}\n`;
}

/** The error's fields, with a plug-in's output as text when it is UTF-8 and as base64 otherwise. */
function errorJson(error: AnyTenonError, output: Uint8Array | undefined): Record<string, unknown> {
  const { output: _bytes, ...json } = error.toJSON();
  if (!output) return json;
  try {
    return { ...json, output: new TextDecoder('utf-8', { fatal: true }).decode(output) };
  } catch {
    return { ...json, outputBase64: Buffer.from(output).toString('base64') };
  }
}

function stderrLogger(io: Io): Logger {
  const line = (level: string) => (message: string) => {
    io.stderr.write(`[${level}] ${message}${message.endsWith('\n') ? '' : '\n'}`);
  };
  return { trace: line('trace'), debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

function keyValue(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected KEY=VALUE, got "${value}"`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** `HOST:GUEST`, split at the last colon so that `ro:/srv/data:/data` keeps `ro:` on the host side. */
function hostGuest(value: string, previous: Record<string, string>): Record<string, string> {
  const colon = value.lastIndexOf(':');
  const host = value.slice(0, colon);
  const guest = value.slice(colon + 1);
  if (colon <= 0 || host === 'ro' || guest === '') throw new InvalidArgumentError(`expected HOST:GUEST or ro:HOST:GUEST, got "${value}"`);
  if (host in previous) throw new InvalidArgumentError(`host directory "${host}" is given twice`);
  return { ...previous, [host]: guest };
}

/** The manifest `source` names, when it is a manifest file that parses; createPlugin reports any problem with it. */
async function manifestOf(source: string): Promise<Manifest | undefined> {
  if (!source.toLowerCase().endsWith('.json')) return undefined;
  try {
    return parseManifest(await readFile(source, 'utf8'));
  } catch {
    return undefined;
  }
}

/** A glob is matched against the request's host name only: one with a scheme, port or path never matches. */
function hostPattern(value: string, previous: string[]): string[] {
  if (value === '' || /[:/]/.test(value)) {
    throw new InvalidArgumentError(
      `"${value}" can never match: patterns match the host name alone (such as api.example.com, *.example.com or 127.0.0.1), without a scheme, port or path`,
    );
  }
  return [...previous, value];
}

function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || value.trim() === '')
    throw new InvalidArgumentError(`expected a non-negative integer, got "${value}"`);
  return n;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}
