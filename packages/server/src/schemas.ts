/**
 * JSON Schemas of the API: request schemas refuse what the platform would refuse anyway, early and with
 * the field named; reply schemas list exactly the fields a caller gets (fast-json-stringify drops the rest,
 * so a field added to a platform type is not published by accident).
 */

const id = { type: 'string', minLength: 1, maxLength: 200 } as const;
const name = { type: 'string', minLength: 1, maxLength: 200 } as const;
const millis = { type: 'number', description: 'milliseconds since the epoch' } as const;
const count = { type: 'integer', minimum: 0 } as const;
const anyJson = {} as const;
// additionalProperties: the serializer would otherwise drop every keyword of a schema it is given no properties for.
const jsonSchema = { type: ['object', 'boolean'], additionalProperties: true, description: 'a JSON Schema (draft-07 or 2019-09)' } as const;
const stringMap = { type: 'object', additionalProperties: { type: 'string', maxLength: 65_536 }, maxProperties: 256 } as const;
const stringList = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 256 }, maxItems: 256 } as const;
const outcome = { type: 'string', enum: ['ok', 'contained', 'rejected'] } as const;

/** The body of every refusal. */
export const errorReply = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;

/** Refusals every authenticated route may answer. */
export const errorReplies = { 400: errorReply, 401: errorReply, 404: errorReply, 429: errorReply } as const;

export const idParams = { type: 'object', properties: { id }, required: ['id'], additionalProperties: false } as const;
export const nameParams = { type: 'object', properties: { name }, required: ['name'], additionalProperties: false } as const;

const limits = {
  type: 'object',
  properties: {
    fuel: { type: 'integer', minimum: 1, description: 'base fuel per run (about one unit per WebAssembly instruction)' },
    fuelPerInputKiB: { type: 'integer', minimum: 0, description: 'extra fuel per KiB of input JSON' },
    maxFuelScale: { type: 'number', minimum: 1, description: 'the budget never exceeds maxFuelScale × fuel' },
    timeoutMs: { type: 'integer', minimum: 1, description: 'wall-clock limit per run, in milliseconds' },
    maxPages: { type: 'integer', minimum: 1, maximum: 65_536, description: 'pages of 64 KiB a plug-in memory may have' },
    maxOutputBytes: { type: 'integer', minimum: 1, description: 'largest answer, in bytes' },
    maxLogBytes: { type: 'integer', minimum: 0, description: 'most bytes of log lines per run' },
    maxModuleBytes: { type: 'integer', minimum: 1, description: 'largest module accepted on upload, in bytes' },
  },
  required: ['fuel', 'timeoutMs', 'maxPages', 'maxOutputBytes'],
  additionalProperties: false,
} as const;

const pointFields = {
  name: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[a-z0-9][a-z0-9._-]*$' },
  function: { type: 'string', minLength: 1, maxLength: 200 },
  input: jsonSchema,
  output: jsonSchema,
  allowedHosts: stringList,
  hostFunctions: stringList,
  wasi: { type: 'boolean' },
  isolation: { type: 'string', enum: ['fresh', 'tenant'] },
  default: anyJson,
} as const;

/** `POST /v1/extension-points` body: the platform's own schema of a definition, so there is one copy. */
export { extensionPointDefinitionSchema as extensionPointIn } from '@tenon/platform';

/** An extension point as read. */
export const extensionPointOut = {
  type: 'object',
  properties: {
    ...pointFields,
    name: { type: 'string' },
    function: { type: 'string' },
    limits: { type: 'object', properties: limits.properties },
    simulations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          input: anyJson,
          config: { type: 'object', additionalProperties: { type: 'string' } },
          expect: { type: 'object', properties: { output: anyJson, accepted: { type: 'boolean' }, error: { type: 'string' } } },
        },
      },
    },
    record: { type: 'object', properties: { sample: { type: 'number' }, retain: { type: 'integer' } } },
    createdAt: millis,
    updatedAt: millis,
  },
} as const;

/** `POST /v1/partners` body. */
export const partnerIn = { type: 'object', properties: { name }, required: ['name'], additionalProperties: false } as const;

const partnerFields = { id: { type: 'string' }, name: { type: 'string' }, createdAt: millis } as const;
export const partnerOut = { type: 'object', properties: partnerFields } as const;
/** A partner just created, with its key (shown once). */
export const newPartnerOut = { type: 'object', properties: { ...partnerFields, key: { type: 'string' } } } as const;

export const quotaIn = {
  type: 'object',
  properties: {
    runsPerMinute: { type: ['integer', 'null'], minimum: 1 },
    fuelPerDay: { type: ['integer', 'null'], minimum: 1 },
  },
  additionalProperties: false,
} as const;
export const quotaOut = {
  type: 'object',
  properties: { partnerId: { type: 'string' }, runsPerMinute: { type: ['integer', 'null'] }, fuelPerDay: { type: ['integer', 'null'] } },
} as const;

/** `POST /v1/plugins` body (`partnerId`: the operator creating a line for a partner). */
export const pluginIn = {
  type: 'object',
  properties: { name, extensionPoint: name, partnerId: id },
  required: ['name', 'extensionPoint'],
  additionalProperties: false,
} as const;
export const pluginOut = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    partnerId: { type: 'string' },
    extensionPoint: { type: 'string' },
    name: { type: 'string' },
    createdAt: millis,
  },
} as const;
export const pluginQuery = { type: 'object', properties: { extensionPoint: name }, additionalProperties: false } as const;

const report = {
  type: 'object',
  properties: {
    checks: {
      type: 'array',
      items: { type: 'object', properties: { name: { type: 'string' }, ok: { type: 'boolean' }, message: { type: 'string' } } },
    },
    simulations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          ok: { type: 'boolean' },
          outcome,
          code: { type: 'string' },
          message: { type: 'string' },
          fuel: count,
          budget: count,
          durationUs: { type: 'number' },
        },
      },
    },
    durationMs: { type: 'number' },
  },
} as const;

export const versionOut = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    pluginId: { type: 'string' },
    sha256: { type: 'string' },
    size: count,
    status: { type: 'string', enum: ['validated', 'rejected'] },
    report,
    createdAt: millis,
  },
} as const;
export const versionParams = {
  type: 'object',
  properties: { id, version: id },
  required: ['id', 'version'],
  additionalProperties: false,
} as const;
/** The upload body: the module's bytes, streamed. */
export const moduleBody = { type: 'string', format: 'binary', description: 'the WebAssembly module' } as const;

const grantsIn = {
  type: 'object',
  properties: { allowedHosts: stringList, hostFunctions: stringList, wasi: { type: 'boolean' } },
  additionalProperties: false,
} as const;
const installationChange = {
  config: stringMap,
  grants: grantsIn,
  position: { type: 'integer', minimum: 0, maximum: 1_000_000 },
  enabled: { type: 'boolean' },
} as const;
const candidateProperties = {
  version: id,
  mode: { type: 'string', enum: ['canary', 'shadow'] },
  percent: { type: 'number', minimum: 0, maximum: 100, description: 'share of runs, sticky by installation and run key' },
  window: { type: 'integer', minimum: 1, maximum: 100_000, description: 'candidate runs compared before deciding' },
  failureMargin: {
    type: 'number',
    minimum: 0,
    maximum: 1,
    description: 'contained+rejected rate over the current version that rolls back',
  },
  fuelRatio: { type: 'number', minimum: 0, maximum: 1000, description: "fuel p99 over the current version's that rolls back" },
  promoteAfter: { type: ['integer', 'null'], minimum: 1, description: 'promote after this many clean candidate runs' },
} as const;
const candidateFields = { type: 'object', properties: { ...candidateProperties, since: millis } } as const;
export const candidateIn = {
  type: 'object',
  properties: { ...candidateProperties, override: { type: 'boolean', description: 'start even though the replay gate failed (an event)' } },
  required: ['version'],
  additionalProperties: false,
} as const;
const versionStats = {
  type: 'object',
  properties: { runs: count, failed: count, windowRuns: count, failureRate: { type: 'number' }, fuelP99: count },
} as const;
const shadowSide = { type: 'object', properties: { outcome, code: { type: 'string' }, fuel: count } } as const;
export const rolloutOut = {
  type: 'object',
  properties: {
    installation: { type: 'object', additionalProperties: true },
    current: versionStats,
    candidate: versionStats,
    shadow: {
      type: 'object',
      properties: {
        compared: count,
        differing: count,
        differences: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              key: { type: 'string' },
              current: shadowSide,
              candidate: shadowSide,
              changes: {
                type: 'array',
                items: { type: 'object', properties: { path: { type: 'string' }, before: anyJson, after: anyJson } },
              },
            },
          },
        },
      },
    },
  },
} as const;
export const installationIn = {
  type: 'object',
  properties: { tenant: id, plugin: id, version: id, ...installationChange },
  required: ['tenant', 'plugin', 'version'],
  additionalProperties: false,
} as const;
export const installationPatch = {
  type: 'object',
  properties: { version: id, ...installationChange },
  additionalProperties: false,
} as const;
export const installationOut = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    tenant: { type: 'string' },
    extensionPoint: { type: 'string' },
    pluginId: { type: 'string' },
    partnerId: { type: 'string' },
    versionId: { type: 'string' },
    config: { type: 'object', additionalProperties: { type: 'string' } },
    grants: {
      type: 'object',
      properties: {
        allowedHosts: { type: 'array', items: { type: 'string' } },
        hostFunctions: { type: 'array', items: { type: 'string' } },
        wasi: { type: 'boolean' },
      },
    },
    position: count,
    enabled: { type: 'boolean' },
    createdAt: millis,
    updatedAt: millis,
    candidate: { anyOf: [{ type: 'null' }, candidateFields] },
  },
} as const;
export const installationQuery = {
  type: 'object',
  properties: { tenant: id, extensionPoint: name, plugin: id },
  additionalProperties: false,
} as const;

export const runIn = {
  type: 'object',
  properties: { tenant: id, key: { type: 'string', maxLength: 200 }, input: anyJson },
  required: ['tenant', 'input'],
  additionalProperties: false,
} as const;
export const runOut = {
  type: 'object',
  properties: {
    extensionPoint: { type: 'string' },
    tenant: { type: 'string' },
    key: { type: 'string' },
    results: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          installation: { type: 'string' },
          plugin: { type: 'string' },
          partner: { type: 'string' },
          version: { type: 'string' },
          outcome,
          output: anyJson,
          code: { type: 'string' },
          message: { type: 'string' },
          fuel: count,
          budget: count,
          durationUs: { type: 'number' },
        },
      },
    },
    defaulted: { type: 'boolean' },
    default: anyJson,
    recorded: { type: 'boolean' },
  },
} as const;

export const recordQuery = {
  type: 'object',
  properties: {
    extensionPoint: name,
    tenant: id,
    plugin: id,
    version: id,
    outcome,
    after: { type: 'string', maxLength: 200 },
    limit: { type: 'integer', minimum: 1, maximum: 1000 },
  },
  additionalProperties: false,
} as const;
/** A recorded run: the operator gets tenant, key, input, output, message, config and imports; a partner never does. */
export const recordOut = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    extensionPoint: { type: 'string' },
    installation: { type: 'string' },
    plugin: { type: 'string' },
    partner: { type: 'string' },
    version: { type: 'string' },
    outcome,
    code: { type: ['string', 'null'] },
    fuel: count,
    budget: count,
    durationUs: { type: 'number' },
    at: millis,
    tenant: { type: 'string' },
    key: { type: ['string', 'null'] },
    input: anyJson,
    output: anyJson,
    message: { type: ['string', 'null'] },
    config: { type: 'object', additionalProperties: { type: 'string' } },
    imports: {
      type: 'array',
      description: "the run's host calls and HTTP exchanges, in order, as replay answers from them",
      items: { type: 'object', additionalProperties: true },
    },
    logs: {
      type: 'object',
      description: "the plug-in's log lines in the run (operators only): the first 50 lines or 8 KiB, and how many more were dropped",
      properties: {
        lines: {
          type: 'array',
          items: { type: 'object', properties: { level: { type: 'string' }, message: { type: 'string' } } },
        },
        dropped: count,
      },
    },
  },
} as const;

export const eventQuery = {
  type: 'object',
  properties: { after: { type: 'string', maxLength: 200 }, limit: { type: 'integer', minimum: 1, maximum: 1000 } },
  additionalProperties: false,
} as const;
export const eventOut = {
  type: 'object',
  properties: {
    cursor: { type: 'string' },
    id: { type: 'string' },
    type: { type: 'string' },
    at: millis,
    partnerId: { type: ['string', 'null'] },
    subject: { type: 'string' },
    data: { type: 'object', additionalProperties: true },
  },
} as const;

/** A page of items and the cursor of the next (absent on the last page). */
export function page(items: object): object {
  return { type: 'object', properties: { items: { type: 'array', items }, next: { type: 'string' } } };
}

/** A list. */
export function list(items: object): object {
  return { type: 'array', items };
}

/** The body limit of routes that take no body, in bytes: they still have one, so nobody streams megabytes at them. */
export const NO_BODY = 1024;

export const replayIn = {
  type: 'object',
  properties: { version: id, records: { type: 'integer', minimum: 1, maximum: 100_000 } },
  required: ['version'],
  additionalProperties: false,
} as const;
export const replayQuery = {
  type: 'object',
  properties: { offset: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 1000 } },
  additionalProperties: false,
} as const;
const fuelSummary = { type: 'object', properties: { p50: count, p99: count } } as const;
const replaySide = {
  type: 'object',
  properties: { version: { type: 'string' }, outcome, code: { type: ['string', 'null'] }, fuel: count },
} as const;
export const replayOut = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    version: { type: 'string' },
    plugin: { type: 'string' },
    extensionPoint: { type: 'string' },
    baseline: { type: 'string', enum: ['plugin', 'point'] },
    createdAt: millis,
    totals: {
      type: 'object',
      properties: { records: count, same: count, changed: count, newlyFailing: count, fixed: count, notReplayable: count },
    },
    fuel: {
      type: 'object',
      properties: { before: fuelSummary, after: fuelSummary, ratio: { type: 'number' }, headroom: { type: 'number' } },
    },
    slowest: { type: 'array', items: { type: 'object', properties: { record: { type: 'string' }, durationUs: count } } },
    verdict: {
      type: 'object',
      properties: {
        passed: { type: 'boolean' },
        reasons: { type: 'array', items: { type: 'string' } },
        gate: { type: 'object', additionalProperties: true },
      },
    },
    results: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          record: { type: 'string' },
          tenant: { type: 'string' },
          key: { type: ['string', 'null'] },
          class: { type: 'string', enum: ['same', 'changed', 'newly-failing', 'fixed', 'not-replayable'] },
          before: replaySide,
          after: replaySide,
          budget: count,
          changes: {
            type: 'array',
            items: { type: 'object', properties: { path: { type: 'string' }, before: anyJson, after: anyJson } },
          },
          reason: { type: 'string' },
          durationUs: count,
        },
      },
    },
    next: count,
  },
} as const;
/** A replay as listed: the report without its per-record results. */
export const replaySummaryOut = {
  type: 'object',
  properties: (({ results: _results, next: _next, ...rest }) => rest)(replayOut.properties),
} as const;
export const replayListQuery = {
  type: 'object',
  properties: {
    plugin: id,
    version: id,
    after: { type: 'string', maxLength: 300 },
    limit: { type: 'integer', minimum: 1, maximum: 1000 },
  },
  additionalProperties: false,
} as const;
export const sessionIn = {
  type: 'object',
  properties: { key: { type: 'string', minLength: 1, maxLength: 512 } },
  required: ['key'],
  additionalProperties: false,
} as const;
/** Who is signed in: the operator, or a partner with its id and name. */
export const sessionOut = {
  type: 'object',
  properties: { kind: { type: 'string', enum: ['operator', 'partner'] }, partnerId: { type: 'string' }, name: { type: 'string' } },
} as const;

export const statsQuery = {
  type: 'object',
  properties: {
    extensionPoint: name,
    plugin: id,
    windowMs: { type: 'integer', minimum: 60_000, maximum: 604_800_000 },
    buckets: { type: 'integer', minimum: 1, maximum: 240 },
  },
  additionalProperties: false,
} as const;
const counts = { type: 'object', additionalProperties: count } as const;
const costFields = {
  runs: count,
  outcomes: counts,
  p50Us: { type: 'number' },
  p99Us: { type: 'number' },
  fuelMean: { type: 'number' },
  fuelMax: { type: 'number' },
  budgetMean: { type: 'number' },
  budgetShareMax: { type: 'number' },
} as const;
export const statsOut = {
  type: 'object',
  properties: {
    ...costFields,
    from: millis,
    to: millis,
    bucketMs: count,
    runsPerSecond: { type: 'number' },
    truncated: { type: 'boolean' },
    series: { type: 'array', items: { type: 'object', properties: { at: millis, outcomes: counts } } },
    byExtensionPoint: { type: 'array', items: { type: 'object', properties: { extensionPoint: { type: 'string' }, ...costFields } } },
    byPlugin: {
      type: 'array',
      items: { type: 'object', properties: { plugin: { type: 'string' }, extensionPoint: { type: 'string' }, ...costFields } },
    },
  },
} as const;
