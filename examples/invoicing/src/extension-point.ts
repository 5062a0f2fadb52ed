// An extension point: the contract between the host and every partner plug-in bound to it. The
// host validates what it sends and, above all, what comes back, before anything touches its data.

import { type HttpRequestRecord, isTenonError, type Plugin } from '@tenon/runtime';
import { Ajv, type ValidateFunction } from 'ajv';

/** Why a partner's answer was not used: a runtime error code (the plug-in was stopped), or the host's refusal. */
export interface Rejection {
  /** `contained`: the sandbox stopped the plug-in. `rejected`: it answered, and the host refused the answer. */
  kind: 'contained' | 'rejected';
  /** A Tenon error code (TIMEOUT, FUEL_EXHAUSTED, CAPABILITY_DENIED...) or a host rule (ANSWER_INVALID, CODE_NOT_ALLOWED...). */
  reason: string;
  detail: string;
}

export type Verdict<Output> = { ok: true; value: Output } | ({ ok: false } & Rejection);

/** One call of a partner through the extension point: the verdict, and what it cost. */
export interface Invocation<Output> {
  verdict: Verdict<Output>;
  /** Time from handing over the input to having the plug-in's answer, in microseconds. */
  callMicros: number;
  /** Fuel the call used (partners always run metered). */
  fuel: number | undefined;
  /** The HTTP requests the plug-in made or tried during the call, denied ones included (the runtime's audit trail). */
  httpRequests: readonly HttpRequestRecord[];
}

const NO_REQUESTS: readonly HttpRequestRecord[] = [];

/** The call's requests, copied: the plug-in's own list is reused by its next call. */
function requestsOf(plugin: Plugin): readonly HttpRequestRecord[] {
  const records = plugin.stats.httpRequests;
  return records.length === 0 ? NO_REQUESTS : [...records];
}

/** An input checked against the schema, and its JSON. */
export interface Prepared<Input> {
  readonly input: Input;
  readonly json: string;
}

export interface ExtensionPointOptions<Input, Output, Context> {
  /** The exported function every partner plug-in implements. */
  functionName: string;
  inputSchema: object;
  outputSchema: object;
  /** The host's own rules on a schema-valid answer: a refusal, or null to accept. */
  rules?: (input: Input, output: Output, context: Context) => Omit<Rejection, 'kind'> | null;
}

export class ExtensionPoint<Input, Output, Context = void> {
  readonly name: string;
  readonly functionName: string;
  readonly #validateInput: ValidateFunction<Input>;
  readonly #validateOutput: ValidateFunction<Output>;
  readonly #rules: ExtensionPointOptions<Input, Output, Context>['rules'];

  constructor(name: string, options: ExtensionPointOptions<Input, Output, Context>) {
    const ajv = new Ajv({ allErrors: false, strict: true });
    this.name = name;
    this.functionName = options.functionName;
    this.#validateInput = ajv.compile<Input>(options.inputSchema);
    this.#validateOutput = ajv.compile<Output>(options.outputSchema);
    this.#rules = options.rules;
  }

  /** The input with the JSON partners receive, encoded once for every partner; an input outside the schema is a host bug, and throws. */
  prepare(input: Input): Prepared<Input> {
    if (!this.#validateInput(input)) {
      const error = this.#validateInput.errors?.[0];
      throw new TypeError(`${this.name}: the host built an invalid input: ${error?.instancePath || '/'} ${error?.message}`);
    }
    return { input, json: JSON.stringify(input) };
  }

  /** Judges a partner's raw answer: JSON, then the output schema, then the host's rules. */
  judge(input: Input, answer: string, context: Context): Verdict<Output> {
    let value: unknown;
    try {
      value = JSON.parse(answer);
    } catch {
      return {
        ok: false,
        kind: 'rejected',
        reason: 'ANSWER_NOT_JSON',
        detail: `the answer is not JSON: ${JSON.stringify(answer.slice(0, 80))}`,
      };
    }
    if (!this.#validateOutput(value)) {
      const error = this.#validateOutput.errors?.[0];
      return {
        ok: false,
        kind: 'rejected',
        reason: 'ANSWER_INVALID',
        detail: `the answer breaks the ${this.name} schema: ${error?.instancePath || '/'} ${error?.message}`,
      };
    }
    const refusal = this.#rules?.(input, value, context);
    return refusal ? { ok: false, kind: 'rejected', ...refusal } : { ok: true, value };
  }

  /** Calls the partner's plug-in in process and judges its answer. Errors that are not Tenon's are host bugs, and throw. */
  invoke(plugin: Plugin, { input, json }: Prepared<Input>, context: Context): Invocation<Output> {
    const started = performance.now();
    let answer: string;
    try {
      answer = plugin.call(this.functionName, json).text();
    } catch (error) {
      if (!isTenonError(error)) throw error;
      return {
        verdict: { ok: false, kind: 'contained', reason: error.code, detail: error.message },
        callMicros: (performance.now() - started) * 1000,
        fuel: plugin.stats.fuel,
        httpRequests: requestsOf(plugin),
      };
    }
    const callMicros = (performance.now() - started) * 1000;
    return { verdict: this.judge(input, answer, context), callMicros, fuel: plugin.stats.fuel, httpRequests: requestsOf(plugin) };
  }
}
