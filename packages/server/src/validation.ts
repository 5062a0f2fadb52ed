import { Ajv, type ErrorObject } from 'ajv';
import type { FastifyInstance, FastifySchema } from 'fastify';

/**
 * The API's own validators, whatever the host's Fastify is configured with: bodies are strict (no
 * coercion, unknown fields refused rather than silently dropped, so a typo is an error that names the
 * field); query strings and params are text on the wire, so they are coerced to the schema's types.
 */
export function useStrictValidation(app: FastifyInstance): void {
  const strict = new Ajv({
    verbose: true,
    allErrors: false,
    coerceTypes: false,
    removeAdditional: false,
    useDefaults: true,
    strict: false,
  });
  const coercing = new Ajv({
    verbose: true,
    allErrors: false,
    coerceTypes: true,
    removeAdditional: false,
    useDefaults: true,
    strict: false,
  });
  app.setValidatorCompiler(({ schema, httpPart }) => {
    // A streamed module upload is checked as it is read (size) and by the platform (content), not here.
    if (httpPart === 'body' && (schema as { format?: unknown }).format === 'binary') return () => true;
    return (httpPart === 'body' ? strict : coercing).compile(schema as object);
  });
  app.setSchemaErrorFormatter((errors, dataVar) => new Error(describeSchemaErrors(errors as ErrorObject[], dataVar)));
}

/** One sentence that names the field and what it must be: `body.limits.fuel must be integer (got "x")`. */
export function describeSchemaErrors(errors: readonly ErrorObject[], dataVar: string): string {
  const first = errors[0];
  if (first === undefined) return `${dataVar} is invalid`;
  const path = `${dataVar}${first.instancePath.replaceAll('/', '.')}`;
  const params = first.params as Record<string, unknown>;
  switch (first.keyword) {
    case 'additionalProperties':
      return `${path} has an unknown field "${String(params.additionalProperty)}": remove it`;
    case 'required':
      return `${path} is missing the field "${String(params.missingProperty)}"`;
    case 'enum':
      return `${path} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'type':
      return `${path} must be ${String(params.type)} (got ${typeName(first.data)})`;
    default:
      return `${path} ${first.message ?? 'is invalid'}`;
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Shorthand for the schemas below. */
export type RouteSchema = FastifySchema & { tags?: string[]; summary?: string; security?: unknown[]; consumes?: string[] };
