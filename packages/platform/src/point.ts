// An extension point loaded in this process: its schemas compiled once, the host's code, and the one
// way every plug-in call on it is made and judged (runs and upload simulations alike).
import { CompiledPlugin, compilePlugin, type HostFunction, isTenonError, type Plugin } from '@tenon/runtime';
import { Ajv, type ValidateFunction } from 'ajv';
import { PlatformError } from './errors.js';
import { type LogCapture, LogRouter } from './run-logs.js';
import { type Tape, taped } from './tape.js';
import type { ExtensionPointCode, ExtensionPointInfo, Grants, Outcome, RuleContext } from './types.js';

/** One judged call: the outcome, the answer when ok, the code (Tenon code or rule) and cost. */
export interface Judged {
  outcome: Outcome;
  output: unknown;
  /** The answer's JSON text as the plug-in gave it, when it was JSON. */
  answer: string | undefined;
  code: string | undefined;
  message: string | undefined;
  fuel: number;
  durationUs: number;
}

type Settings = CompiledPlugin['settings'];

export class LoadedPoint {
  readonly info: ExtensionPointInfo;
  readonly validateInput: ValidateFunction;
  readonly validateOutput: ValidateFunction;
  readonly rules: ExtensionPointCode['rules'];
  readonly #hostFunctions: ReadonlyMap<string, HostFunction>;
  /** Compiled modules by sha256: instrumented and compiled once per point definition. */
  readonly #modules = new Map<string, Promise<CompiledPlugin>>();
  /** Every plug-in on this point logs here; a recorded call opens a capture for its lines. */
  readonly #logs = new LogRouter();

  constructor(info: ExtensionPointInfo, code: ExtensionPointCode | undefined) {
    this.info = info;
    // A fresh Ajv per definition: a redefined point may reuse its schemas' $ids.
    const ajv = new Ajv({ strict: true, allErrors: false });
    this.validateInput = compileSchema(ajv, info.input, 'input');
    this.validateOutput = compileSchema(ajv, info.output, 'output');
    this.rules = code?.rules;
    const functions = new Map<string, HostFunction>();
    for (const fn of code?.hostFunctions ?? []) {
      if (!info.hostFunctions.includes(fn.name)) {
        throw new PlatformError('INVALID', `host function "${fn.name}" is not in the extension point's hostFunctions`, {
          field: 'code.hostFunctions',
        });
      }
      // Every call may be on tape (recorded or replayed); one without a tape goes straight through.
      functions.set(fn.name, taped(fn));
    }
    this.#hostFunctions = functions;
  }

  /** The module compiled with this point's limits (metered, deterministic, memory capped), once per sha256. */
  compiled(sha256: string, bytes: () => Promise<Uint8Array>): Promise<CompiledPlugin> {
    let compiled = this.#modules.get(sha256);
    if (compiled === undefined) {
      const { limits } = this.info;
      compiled = bytes().then((module) =>
        compilePlugin(module, {
          deterministic: true,
          meter: true,
          fuel: limits.fuel,
          timeoutMs: limits.timeoutMs,
          memory: { maxPages: limits.maxPages },
          limits: { maxOutputBytes: limits.maxOutputBytes, maxLogBytes: limits.maxLogBytes, maxTableElements: MAX_TABLE_ELEMENTS },
          // Lines at this level cost the call its maxLogBytes, recorded or not, so a sampled run
          // and an unsampled one (and its replay) end the same way.
          logLevel: this.info.record.logLevel ?? 'info',
          logger: this.#logs.logger,
          // Everything the point offers, so the module links; each installation then gets only its grants.
          functions: this.info.hostFunctions.map((name) => this.#hostFunctions.get(name) ?? unsupplied(name)),
          wasi: this.info.wasi,
        }),
      );
      this.#modules.set(sha256, compiled);
      compiled.catch(() => this.#modules.delete(sha256));
    }
    return compiled;
  }

  /**
   * The compiled module with one installation's config and grants: the same compiled code, other
   * settings (config is read at call time, grants decide what links), so nothing compiles again.
   */
  configure(base: CompiledPlugin, config: Record<string, string>, grants: Grants, instance: 'fresh' | 'reuse' = 'reuse'): CompiledPlugin {
    const settings: Settings = {
      ...base.settings,
      configBytes: new Map(Object.entries(config).map(([key, value]) => [key, Buffer.from(value)])),
      allowedHosts: grants.allowedHosts,
      functions: grants.hostFunctions.flatMap((name) => this.#hostFunctions.get(name) ?? []),
      wasi: grants.wasi,
      instance,
      // Unprefixed: a record's lines are all one plug-in's.
      logger: this.#logs.logger,
    };
    const { modules, main } = base.parts;
    return new CompiledPlugin(settings, modules, main);
  }

  /** Everything the point allows: what simulations run with. */
  get allGrants(): Grants {
    return { allowedHosts: this.info.allowedHosts, hostFunctions: this.info.hostFunctions, wasi: this.info.wasi };
  }

  /**
   * Calls the plug-in with the input's JSON bytes and judges the answer: JSON, then the output
   * schema, then the host's rules. The call's log lines go to `logs` when given.
   */
  invoke(
    plugin: Plugin,
    input: unknown,
    inputBytes: Uint8Array,
    budget: number,
    context: RuleContext,
    tape?: Tape,
    logs?: LogCapture,
  ): Judged {
    const started = performance.now();
    let answer: string;
    const outer = this.#logs.current;
    this.#logs.current = logs;
    try {
      answer = plugin
        .call(
          this.info.function,
          inputBytes,
          tape === undefined ? { fuel: budget } : { fuel: budget, hostContext: tape, httpExchange: tape.exchange },
        )
        .text();
    } catch (error) {
      const durationUs = Math.round((performance.now() - started) * 1000);
      // A replay the tape stopped: the caller reads tape.refusal, whatever the runtime made of it.
      if (tape?.refusal !== undefined) return contained('NOT_REPLAYABLE', tape.refusal, plugin.stats.fuel ?? 0, durationUs);
      if (!isTenonError(error)) throw error;
      return {
        outcome: 'contained',
        output: undefined,
        answer: undefined,
        code: error.code,
        message: error.message,
        fuel: plugin.stats.fuel ?? 0,
        durationUs,
      };
    } finally {
      this.#logs.current = outer;
    }
    return this.judge(input, answer, context, plugin.stats.fuel ?? 0, Math.round((performance.now() - started) * 1000));
  }

  /** Judges an answer, however it was obtained (a plug-in here, or a webhook): JSON, the output schema, the host's rules. */
  judge(input: unknown, answer: string, context: RuleContext, fuel = 0, durationUs = 0): Judged {
    let output: unknown;
    try {
      output = JSON.parse(answer);
    } catch {
      return rejected('ANSWER_NOT_JSON', `the answer is not JSON: ${JSON.stringify(answer.slice(0, 80))}`, fuel, durationUs);
    }
    if (!this.validateOutput(output)) {
      const error = this.validateOutput.errors?.[0];
      return rejected(
        'SCHEMA',
        `the answer breaks the ${this.info.name} output schema: ${error?.instancePath || '/'} ${error?.message}`,
        fuel,
        durationUs,
      );
    }
    const refusal = this.rules?.(input, output, context);
    if (refusal) return rejected(refusal.rule, refusal.message, fuel, durationUs);
    return { outcome: 'ok', output, answer, code: undefined, message: undefined, fuel, durationUs };
  }
}

/** Tables a plug-in's tables may grow to, in elements. */
export const MAX_TABLE_ELEMENTS = 100_000;

/** A host function the point offers but this process was given no code for: calling it fails the call. */
function unsupplied(name: string): HostFunction {
  return {
    name,
    call: () => {
      throw new Error(`the host gave no code for host function "${name}" in this process`);
    },
  };
}

function contained(code: string, message: string, fuel: number, durationUs: number): Judged {
  return { outcome: 'contained', output: undefined, answer: undefined, code, message, fuel, durationUs };
}

function rejected(code: string, message: string, fuel: number, durationUs: number): Judged {
  return { outcome: 'rejected', output: undefined, answer: undefined, code, message, fuel, durationUs };
}

function compileSchema(ajv: Ajv, schema: unknown, field: 'input' | 'output'): ValidateFunction {
  try {
    return ajv.compile(schema as object);
  } catch (error) {
    throw new PlatformError('SCHEMA_INVALID', `definition.${field} is not a usable JSON Schema: ${(error as Error).message}`, {
      field: `definition.${field}`,
      cause: error,
    });
  }
}
