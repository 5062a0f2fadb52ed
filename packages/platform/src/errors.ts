/**
 * Every error @tenon/platform throws on purpose is a PlatformError with a stable `code`. It carries
 * the TenonError brand (`isTenonError`), so `isTenonError()` from @tenon/runtime accepts it, and it
 * travels as `{ code, message }` like every Tenon error.
 */

/**
 * Stable codes, and the HTTP status the server gives each:
 * INVALID 400 (a bad argument or body; `field` names it), NOT_FOUND 404 (also another partner's
 * resource), FORBIDDEN 404 for a partner key on an operator-only action (never reveal it exists),
 * CONFLICT 409, VERSION_REJECTED 409 (installing a version that failed validation), GRANT_DENIED 422
 * (a grant the extension point does not allow), SCHEMA_INVALID 422 (a JSON Schema ajv refuses),
 * TOO_LARGE 413 (a module past the point's maxModuleBytes), QUOTA_EXCEEDED 429, CLOSED 503,
 * UNAVAILABLE 503 (the store cannot be reached: the change was not made, try again),
 * GATE_FAILED 409 (a candidate whose replay failed the point's gate, or that was never replayed).
 */
export type PlatformErrorCode =
  | 'INVALID'
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'CONFLICT'
  | 'VERSION_REJECTED'
  | 'GRANT_DENIED'
  | 'SCHEMA_INVALID'
  | 'TOO_LARGE'
  | 'QUOTA_EXCEEDED'
  | 'CLOSED'
  | 'UNAVAILABLE'
  | 'GATE_FAILED';

/** A refusal by the platform: what failed, with the offending value quoted, and (for INVALID) the field. */
export class PlatformError extends Error {
  readonly isTenonError = true;
  readonly code: PlatformErrorCode;
  /** The offending field, as a JSON path (`limits.fuel`, `simulations[2].expect`), when one field is at fault. */
  readonly field: string | undefined;

  constructor(code: PlatformErrorCode, message: string, options?: { field?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = options?.field;
  }

  override get name(): string {
    return 'PlatformError';
  }

  /** The form an error travels in: `{ code, name, message, field? }`. */
  toJSON(): { code: PlatformErrorCode; name: string; message: string; field?: string } {
    return this.field === undefined
      ? { code: this.code, name: this.name, message: this.message }
      : { code: this.code, name: this.name, message: this.message, field: this.field };
  }
}

/** True for a PlatformError, even one from another copy of this package. */
export function isPlatformError(value: unknown): value is PlatformError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { isTenonError?: unknown }).isTenonError === true &&
    (value as { name?: unknown }).name === 'PlatformError'
  );
}

/** INVALID on one field. */
export function invalid(field: string, message: string): PlatformError {
  return new PlatformError('INVALID', `${field}: ${message}`, { field });
}

/** NOT_FOUND, worded the same whether the thing is missing or belongs to another partner. */
export function notFound(what: string, id: string): PlatformError {
  return new PlatformError('NOT_FOUND', `${what} "${id}" not found`);
}
