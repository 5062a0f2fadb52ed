import { isDeepStrictEqual } from 'node:util';
import {
  type CallOptions,
  compilePlugin,
  type HostFunction,
  type HttpExchanger,
  isTenonError,
  type Plugin,
  type PluginOptions,
} from '@tenon/runtime';
import type { CallInput, CaseCall, Expectation, HttpAnswer, TestCase } from './cases.js';

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
    const result = await runCase(wasm, testCase, functions, caseName(testCase, i));
    results.push(result);
    onResult(result);
  }
  return results;
}

/** How a report names a case: its name, else its (first) function and its place in the file. */
export function caseName(testCase: TestCase, index: number): string {
  return testCase.name ?? `${testCase.function ?? testCase.calls?.[0]?.function} #${index + 1}`;
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
    ...(testCase.allowedHosts && { allowedHosts: testCase.allowedHosts }),
  };
  const steps: CaseCall[] = testCase.calls ?? [{ ...testCase, function: testCase.function!, expect: testCase.expect! }];
  const callOptions: CallOptions = { httpExchange: answering(testCase.http ?? {}) };
  let total: number | undefined;
  let plugin: Plugin;
  try {
    plugin = (await compilePlugin(wasm, options)).instantiate();
  } catch (error) {
    if (!isTenonError(error)) throw error;
    // a case may expect the plug-in not to load (a missing capability, a limit): its first call judges that
    return { name, ...judge(steps[0]!.expect, undefined, error) };
  }
  try {
    for (const [j, step] of steps.entries()) {
      let output: Uint8Array | undefined;
      let failure: Failure | undefined;
      try {
        output = plugin.call(step.function, callInput(step), callOptions).bytes();
      } catch (error) {
        if (!isTenonError(error)) throw error;
        failure = error;
      }
      const fuel = plugin.stats.fuel;
      if (fuel !== undefined) total = (total ?? 0) + fuel;
      const budget = step.maxFuel ?? testCase.maxFuel;
      let verdict = judge(step.expect, output, failure);
      if (verdict.passed && budget !== undefined && fuel !== undefined && fuel > budget) {
        verdict = { passed: false, problem: `used ${fuel} fuel, budget ${budget}` };
      }
      if (!verdict.passed) {
        const which = testCase.calls ? `call ${j + 1} (${step.name ?? step.function}): ` : '';
        return { name, ...(total !== undefined && { fuel: total }), ...verdict, problem: `${which}${verdict.problem}` };
      }
    }
  } finally {
    plugin.close();
  }
  return { name, ...(total !== undefined && { fuel: total }), passed: true };
}

/**
 * The case's HTTP answers as an exchanger: a request is answered from them or fails, and never
 * reaches the network (the allow-list still applies first, as it would for a real request).
 */
function answering(answers: Readonly<Record<string, HttpAnswer>>): HttpExchanger {
  const byRequest = new Map(Object.entries(answers).map(([key, answer]) => [requestKey(key), answer]));
  return (exchange) => {
    const key = requestKey(`${exchange.method} ${exchange.url}`);
    const answer = byRequest.get(key);
    if (!answer) {
      return {
        kind: 'failed',
        message: `cases.json has no answer for "${key}" (it answers ${[...byRequest.keys()].map((k) => `"${k}"`).join(', ') || 'no request'})`,
      };
    }
    const body = answer.bodyJson !== undefined ? JSON.stringify(answer.bodyJson) : (answer.body ?? '');
    const headers = Object.fromEntries(Object.entries(answer.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    return { kind: 'response', status: answer.status ?? 200, headers, body: new TextEncoder().encode(body), url: exchange.url };
  };
}

/** "METHOD URL" with the method upper-cased and the URL in its normal form, so that equal requests match. */
function requestKey(key: string): string {
  const space = key.indexOf(' ');
  const method = key.slice(0, space).toUpperCase();
  const url = key.slice(space + 1);
  try {
    return `${method} ${new URL(url).href}`;
  } catch {
    return `${method} ${url}`;
  }
}

function callInput(call: CallInput): Uint8Array | string {
  if (call.inputBase64 !== undefined) return Buffer.from(call.inputBase64, 'base64');
  if (call.inputJson !== undefined) return JSON.stringify(call.inputJson);
  return call.input ?? '';
}

type Verdict = Pick<CaseResult, 'passed' | 'problem' | 'expected' | 'actual'>;

/** How a call failed; `output` is what a failing plug-in set as output (its diagnostics, often). */
interface Failure {
  code: string;
  message: string;
  output?: Uint8Array | undefined;
}

function judge(expect: Expectation, output: Uint8Array | undefined, failure: Failure | undefined): Verdict {
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
  if (failure) {
    const problem = `the call failed: ${failure.code}: ${failure.message}`;
    return failure.output ? { passed: false, problem, actual: text(failure.output) } : { passed: false, problem };
  }
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
