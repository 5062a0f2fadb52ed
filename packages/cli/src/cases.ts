import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { compilePlugin, type HostFunction, isTenonError, type PluginOptions } from '@tenon/runtime';
import ajv, { type ValidateFunction } from 'ajv';

/** What a case expects: exactly one of these. */
export type Expectation =
  | { output: string }
  | { outputJson: unknown }
  | { outputBase64: string }
  | { error: true | string | { code?: string; message?: string } };

/** One declared call of a plug-in and what it should give. */
export interface TestCase {
  name?: string;
  function: string;
  input?: string;
  inputJson?: unknown;
  inputBase64?: string;
  config?: Record<string, string>;
  wasi?: boolean;
  fuel?: number;
  timeoutMs?: number;
  maxPages?: number;
  expect: Expectation;
}

export interface CasesFile {
  hostFunctions?: string;
  cases: TestCase[];
}

/** A cases file that cannot be used: unreadable, not JSON, or not what the schema describes. */
export class CasesError extends Error {
  override readonly name = 'CasesError';
}

export const CASES_SCHEMA: object = JSON.parse(readFileSync(new URL('../cases.schema.json', import.meta.url), 'utf8'));
let validate: ValidateFunction<CasesFile> | undefined;

/** Read and validate a cases file; host functions named in it are imported relative to it. */
export async function loadCases(path: string): Promise<{ cases: TestCase[]; functions: HostFunction[] }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new CasesError(`Cannot read cases from "${path}": ${(error as Error).message}`);
  }
  validate ??= new ajv.default({ allErrors: true }).compile<CasesFile>(CASES_SCHEMA);
  if (!validate(parsed)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '(top level)'} ${e.message ?? 'is invalid'}`);
    throw invalidCases(path, problems);
  }
  const doubled = parsed.cases.flatMap((c, i) => {
    const inputs = (['input', 'inputJson', 'inputBase64'] as const).filter((key) => c[key] !== undefined);
    return inputs.length > 1 ? [`/cases/${i} gives its input twice (${inputs.join(', ')}); keep one`] : [];
  });
  if (doubled.length > 0) throw invalidCases(path, doubled);
  const functions = parsed.hostFunctions === undefined ? [] : await importHostFunctions(resolve(dirname(path), parsed.hostFunctions));
  return { cases: parsed.cases, functions };
}

function invalidCases(path: string, problems: string[]): CasesError {
  return new CasesError(`"${path}" is not a valid cases file:\n${[...new Set(problems)].map((p) => `  ${p}`).join('\n')}`);
}

/** The host functions a module exports as `functions` (or by default), as `cases.json`'s `hostFunctions` and `tenon call --host-functions` name them. */
export async function importHostFunctions(path: string): Promise<HostFunction[]> {
  let module: { functions?: unknown; default?: unknown };
  try {
    module = await import(pathToFileURL(path).href);
  } catch (error) {
    throw new CasesError(`Cannot import host functions from "${path}": ${(error as Error).message}`);
  }
  const functions = module.functions ?? module.default;
  if (!Array.isArray(functions)) {
    throw new CasesError(`"${path}" must export its host functions as an array named \`functions\` (or as the default export)`);
  }
  return functions as HostFunction[];
}

/** How one case went: `problem` explains a failure, with the expected and actual values when both exist. */
export interface CaseResult {
  name: string;
  passed: boolean;
  problem?: string;
  expected?: string;
  actual?: string;
  fuel?: number;
}

/** Run every case against the plug-in, each on a fresh instance with its own options. */
export async function runCases(
  wasm: Uint8Array,
  cases: readonly TestCase[],
  functions: readonly HostFunction[],
  onResult: (result: CaseResult) => void,
): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const [i, testCase] of cases.entries()) {
    const result = await runCase(wasm, testCase, functions, testCase.name ?? `${testCase.function} #${i + 1}`);
    results.push(result);
    onResult(result);
  }
  return results;
}

async function runCase(wasm: Uint8Array, testCase: TestCase, functions: readonly HostFunction[], name: string): Promise<CaseResult> {
  const options: PluginOptions = {
    functions,
    meter: true, // authors see the fuel a call takes, to choose the limits a host will set
    logLevel: 'off',
    ...(testCase.config && { config: testCase.config }),
    ...(testCase.wasi && { wasi: true }),
    ...(testCase.fuel !== undefined && { fuel: testCase.fuel }),
    ...(testCase.timeoutMs !== undefined && { timeoutMs: testCase.timeoutMs }),
    ...(testCase.maxPages !== undefined && { memory: { maxPages: testCase.maxPages } }),
  };
  const input = caseInput(testCase);
  let output: Uint8Array | undefined;
  let failure: unknown;
  let fuel: number | undefined;
  try {
    using plugin = (await compilePlugin(wasm, options)).instantiate();
    try {
      output = plugin.call(testCase.function, input).bytes();
    } finally {
      fuel = plugin.stats.fuel;
    }
  } catch (error) {
    if (!isTenonError(error)) throw error;
    failure = error;
  }
  const verdict = judge(testCase.expect, output, failure as { code: string; message: string } | undefined);
  return { name, ...(fuel !== undefined && { fuel }), ...verdict };
}

function caseInput(testCase: TestCase): Uint8Array | string {
  if (testCase.inputBase64 !== undefined) return Buffer.from(testCase.inputBase64, 'base64');
  if (testCase.inputJson !== undefined) return JSON.stringify(testCase.inputJson);
  return testCase.input ?? '';
}

type Verdict = Pick<CaseResult, 'passed' | 'problem' | 'expected' | 'actual'>;

function judge(expect: Expectation, output: Uint8Array | undefined, failure: { code: string; message: string } | undefined): Verdict {
  if ('error' in expect) {
    if (!failure) return { passed: false, problem: 'expected the call to fail, but it succeeded', actual: text(output!) };
    const wanted = typeof expect.error === 'string' ? { message: expect.error } : expect.error === true ? {} : expect.error;
    if (wanted.code !== undefined && wanted.code !== failure.code) {
      return { passed: false, problem: 'the call failed with another error code', expected: wanted.code, actual: failure.code };
    }
    if (wanted.message !== undefined && !failure.message.includes(wanted.message)) {
      return {
        passed: false,
        problem: 'the error message does not contain the expected text',
        expected: wanted.message,
        actual: failure.message,
      };
    }
    return { passed: true };
  }
  if (failure) return { passed: false, problem: `the call failed: ${failure.code}: ${failure.message}` };
  const actual = output!;
  if ('output' in expect) {
    const got = text(actual);
    return got === expect.output
      ? { passed: true }
      : { passed: false, problem: 'the output differs', expected: expect.output, actual: got };
  }
  if ('outputBase64' in expect) {
    const got = Buffer.from(actual).toString('base64');
    return got === expect.outputBase64
      ? { passed: true }
      : { passed: false, problem: 'the output bytes differ (base64)', expected: expect.outputBase64, actual: got };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text(actual));
  } catch {
    return { passed: false, problem: 'the output is not JSON', actual: text(actual) };
  }
  if (isDeepStrictEqual(parsed, expect.outputJson)) return { passed: true };
  return { passed: false, problem: 'the output JSON differs', expected: pretty(expect.outputJson), actual: pretty(parsed) };
}

const decoder = new TextDecoder();
const text = (bytes: Uint8Array): string => decoder.decode(bytes);

/** JSON with sorted keys, so a diff shows values that differ rather than key order. */
function pretty(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) =>
      v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : v,
    2,
  );
}
