// An extension point's definition: its shape checked once with a JSON Schema (so every refusal names
// the field), then its defaults filled in. The schema is exported for the server's route.
import { Ajv } from 'ajv';
import { invalid } from './errors.js';
import type { ExtensionPointDefinition, ExtensionPointInfo } from './types.js';

const NAME = '^[a-z][a-z0-9_-]*(\\.[a-z][a-z0-9_-]*)*$';
const positiveInteger = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const;
const stringList = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 253 }, maxItems: 256 } as const;

/** The JSON Schema of an extension point definition (what `POST /v1/extension-points` takes). */
export const extensionPointDefinitionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'function', 'input', 'output', 'limits'],
  properties: {
    name: { type: 'string', pattern: NAME, maxLength: 128 },
    function: { type: 'string', minLength: 1, maxLength: 128 },
    input: { type: ['object', 'boolean'] },
    output: { type: ['object', 'boolean'] },
    limits: {
      type: 'object',
      additionalProperties: false,
      required: ['fuel', 'timeoutMs', 'maxPages', 'maxOutputBytes'],
      properties: {
        fuel: positiveInteger,
        fuelPerInputKiB: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
        maxFuelScale: { type: 'number', minimum: 1, maximum: 1000 },
        timeoutMs: { type: 'number', exclusiveMinimum: 0, maximum: 600_000 },
        maxPages: { type: 'integer', minimum: 1, maximum: 65_536 },
        maxOutputBytes: { type: 'integer', minimum: 1, maximum: 1 << 30 },
        maxLogBytes: { type: 'integer', minimum: 0, maximum: 1 << 30 },
        maxModuleBytes: { type: 'integer', minimum: 8, maximum: 1 << 30 },
      },
    },
    allowedHosts: stringList,
    hostFunctions: stringList,
    wasi: { type: 'boolean' },
    simulations: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'input', 'expect'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 200 },
          input: {},
          config: { type: 'object', additionalProperties: { type: 'string' } },
          expect: {
            oneOf: [
              { type: 'object', additionalProperties: false, required: ['output'], properties: { output: {} } },
              { type: 'object', additionalProperties: false, required: ['accepted'], properties: { accepted: { const: true } } },
              { type: 'object', additionalProperties: false, required: ['error'], properties: { error: { type: 'string', minLength: 1 } } },
            ],
          },
        },
      },
    },
    record: {
      type: 'object',
      additionalProperties: false,
      required: ['sample'],
      properties: {
        sample: { type: 'number', minimum: 0, maximum: 1 },
        retain: { type: 'integer', minimum: 0, maximum: 1e12 },
        logLevel: { enum: ['trace', 'debug', 'info', 'warn', 'error', 'off'] },
      },
    },
    isolation: { enum: ['fresh', 'tenant'] },
    gate: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxNewFailures: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
        maxFuelRatio: { type: 'number', exclusiveMinimum: 0, maximum: 1000 },
        maxChanged: { type: ['integer', 'null'], minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
        maxNotReplayable: { type: ['integer', 'null'], minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
      },
    },
    default: {},
  },
} as const;

const checkDefinition = new Ajv({ strict: true, allowUnionTypes: true, allErrors: false }).compile(extensionPointDefinitionSchema);

/** The definition checked and with every default, or INVALID naming the first bad field. */
export function normalizeDefinition(value: unknown, now: number, createdAt = now): ExtensionPointInfo {
  if (!checkDefinition(value)) {
    const error = checkDefinition.errors?.[0];
    const field = `definition${(error?.instancePath ?? '').replaceAll('/', '.')}`;
    const allowed = error?.params && 'allowedValues' in error.params ? ` (${JSON.stringify(error.params.allowedValues)})` : '';
    const extra = error?.params && 'additionalProperty' in error.params ? ` ("${String(error.params.additionalProperty)}")` : '';
    throw invalid(field, `${error?.message ?? 'is invalid'}${allowed}${extra}`);
  }
  const definition = value as ExtensionPointDefinition;
  const { limits } = definition;
  const names = new Set<string>();
  for (const [i, simulation] of (definition.simulations ?? []).entries()) {
    if (names.has(simulation.name)) throw invalid(`definition.simulations.${i}.name`, `"${simulation.name}" is used twice`);
    names.add(simulation.name);
  }
  return {
    ...definition,
    limits: {
      fuel: limits.fuel,
      fuelPerInputKiB: limits.fuelPerInputKiB ?? 0,
      maxFuelScale: limits.maxFuelScale ?? 10,
      timeoutMs: limits.timeoutMs,
      maxPages: limits.maxPages,
      maxOutputBytes: limits.maxOutputBytes,
      maxLogBytes: limits.maxLogBytes ?? 16_384,
      maxModuleBytes: limits.maxModuleBytes ?? 4 * 1024 * 1024,
    },
    allowedHosts: definition.allowedHosts ?? [],
    hostFunctions: definition.hostFunctions ?? [],
    wasi: definition.wasi ?? false,
    simulations: definition.simulations ?? [],
    record: {
      sample: definition.record?.sample ?? 0,
      retain: definition.record?.retain ?? 100_000,
      // Absent stays absent (meaning info), so points stored before it existed read as unchanged.
      ...(definition.record?.logLevel === undefined ? {} : { logLevel: definition.record.logLevel }),
    },
    isolation: definition.isolation ?? 'fresh',
    gate: {
      maxNewFailures: definition.gate?.maxNewFailures ?? 0,
      maxFuelRatio: definition.gate?.maxFuelRatio ?? 1.5,
      maxChanged: definition.gate?.maxChanged ?? null,
      maxNotReplayable: definition.gate?.maxNotReplayable ?? null,
    },
    createdAt,
    updatedAt: now,
  };
}

/** The fuel a run gets for an input of `inputBytes` of JSON: base + per KiB, capped at maxFuelScale × base. */
export function fuelBudget(limits: Required<ExtensionPointInfo['limits']>, inputBytes: number): number {
  const scaled = limits.fuel + Math.floor((limits.fuelPerInputKiB * inputBytes) / 1024);
  return Math.min(scaled, Math.floor(limits.maxFuelScale * limits.fuel));
}
