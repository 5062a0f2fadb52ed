/**
 * The one place an error becomes an HTTP status. Every refusal leaves the server as
 * `{ "error": { "code", "message" } }`; the code is stable, the message says what to fix.
 */

/** Codes the server itself refuses with (the platform's own codes pass through unchanged). */
export type ServerErrorCode =
  | 'UNAUTHORIZED'
  | 'ORIGIN_REFUSED'
  | 'NOT_FOUND'
  | 'BODY_INVALID'
  | 'BODY_TOO_LARGE'
  | 'MODULE_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED'
  | 'INTERNAL';

/** An error the HTTP layer raises: a missing key, a body that fails its schema, a module past its cap. */
export class ServerError extends Error {
  readonly isTenonError = true;
  readonly code: ServerErrorCode;

  constructor(code: ServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }

  override get name(): string {
    return 'ServerError';
  }
}

/** Status of each code, one table: the server's codes, then @tenon/platform's. */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  UNAUTHORIZED: 401,
  ORIGIN_REFUSED: 403,
  NOT_FOUND: 404,
  BODY_INVALID: 400,
  BODY_TOO_LARGE: 413,
  MODULE_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  // @tenon/platform
  INVALID: 400,
  // A partner key on an operator-only action: the same answer as a thing that does not exist.
  FORBIDDEN: 404,
  CONFLICT: 409,
  GATE_FAILED: 409,
  VERSION_REJECTED: 409,
  GRANT_DENIED: 422,
  SCHEMA_INVALID: 422,
  TOO_LARGE: 413,
  QUOTA_EXCEEDED: 429,
  CLOSED: 503,
  UNAVAILABLE: 503,
};

/** The HTTP status for a coded error; 500 for a code nobody mapped (the fuzz tests look for those). */
export function statusForCode(code: string): number {
  return STATUS_BY_CODE[code] ?? 500;
}

/** True for any coded error: ours, the platform's or the runtime's (their brand is the same). */
export function isCodedError(value: unknown): value is Error & { code: string } {
  return (
    value instanceof Error &&
    (value as { isTenonError?: unknown }).isTenonError === true &&
    typeof (value as { code?: unknown }).code === 'string'
  );
}

/** The reply body of every refusal. */
export interface ErrorBody {
  error: { code: string; message: string };
}
