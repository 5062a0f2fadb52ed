import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorBody, isCodedError, statusForCode } from './errors.js';

/** Fastify's own refusals (parsing, content type, size), as our codes. */
const FASTIFY_CODES: Readonly<Record<string, { code: string; status: number; message?: string }>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'BODY_TOO_LARGE', status: 413 },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', status: 415 },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'BODY_INVALID', status: 400 },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'BODY_INVALID', status: 400, message: 'body is empty: send a JSON object' },
  FST_ERR_CTP_EMPTY_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', status: 415 },
  FST_ERR_CTP_INVALID_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', status: 415 },
};

/** What a refusal turns into: status and body. Exposed for the metrics and the tests. */
export function describeError(error: unknown): { status: number; body: ErrorBody } {
  if (isCodedError(error)) {
    // A partner key on an operator-only action is answered like a missing thing: never reveal what exists.
    if (error.code === 'FORBIDDEN') return { status: 404, body: { error: { code: 'NOT_FOUND', message: 'not found' } } };
    return { status: statusForCode(error.code), body: { error: { code: error.code, message: error.message } } };
  }
  const fastify = error as Partial<FastifyError>;
  if (fastify.validation !== undefined) {
    return { status: 400, body: { error: { code: 'BODY_INVALID', message: String(fastify.message) } } };
  }
  const known = fastify.code === undefined ? undefined : FASTIFY_CODES[fastify.code];
  if (known !== undefined) {
    return { status: known.status, body: { error: { code: known.code, message: known.message ?? String(fastify.message) } } };
  }
  if (error instanceof SyntaxError && fastify.statusCode === 400) {
    // secure-json-parse's SyntaxError: the body is not JSON at all.
    return { status: 400, body: { error: { code: 'BODY_INVALID', message: `body is not valid JSON: ${error.message}` } } };
  }
  const status = fastify.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, body: { error: { code: 'BODY_INVALID', message: String(fastify.message) } } };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error: the server log has the details' } } };
}

/** The error handler of the API: one status per code, the coded body, 5xx logged with their cause. */
export function errorHandler(onRefusal: (code: string) => void) {
  return function handle(this: unknown, error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const { status, body } = describeError(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    else onRefusal(body.error.code);
    if (status === 413) {
      // The client may still be sending: closing the connection stops it without reading the rest.
      reply.header('connection', 'close');
    }
    return reply.code(status).type('application/json; charset=utf-8').send(body);
  };
}
