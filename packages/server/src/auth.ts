import { createHash } from 'node:crypto';
import type { Actor } from '@tenon/platform';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ServerError } from './errors.js';
import { SESSION_COOKIE, type Sessions } from './session.js';

/** Who may call a route: anyone (the OpenAPI document), any key, or the operator key only. */
export type Access = 'public' | 'key' | 'operator';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, found from its key by the onRequest hook (undefined only on public routes). */
    actor: Actor | undefined;
    /** sha256 of the caller's key, hex: what the rate limit counts by (the key itself is never kept). */
    keyHash: string | undefined;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}

/** Resolves a bearer key to its actor, or undefined for an unknown key. */
export type Authenticate = (key: string) => Promise<Actor | undefined>;

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

/**
 * The one place a request's actor is found: before the body is read, so an upload without a good key
 * is refused before a byte of it is. A partner key on an operator route gets the answer a missing
 * route would get, so a partner learns nothing from the operator's surface.
 */
export function useAuthentication(app: FastifyInstance, authenticate: Authenticate, sessions: Sessions): void {
  app.decorateRequest('actor', undefined);
  app.decorateRequest('keyHash', undefined);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const access = request.routeOptions.config.access ?? 'operator';
    if (access === 'public') return;
    const key = keyOf(request, sessions);
    const actor = await authenticate(key);
    if (actor === undefined) throw new ServerError('UNAUTHORIZED', 'the API key is not valid: ask the operator for a key');
    if (access === 'operator' && actor.kind !== 'operator')
      throw new ServerError('NOT_FOUND', `route ${request.method} ${request.url} not found`);
    request.actor = actor;
    request.keyHash = createHash('sha256').update(key).digest('hex');
  });
}

/** The key of a request: its bearer key, or the key its session cookie stands for. */
function keyOf(request: FastifyRequest, sessions: Sessions): string {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = BEARER.exec(header);
    if (match === null) throw new ServerError('UNAUTHORIZED', 'the Authorization header is not "Bearer <key>"');
    return match[1]!;
  }
  const session = request.cookies[SESSION_COOKIE];
  if (session === undefined)
    throw new ServerError('UNAUTHORIZED', 'the Authorization header is missing: send "Authorization: Bearer <key>"');
  const key = sessions.keyOf(session);
  if (key === undefined) throw new ServerError('UNAUTHORIZED', 'the session has ended: sign in again');
  // A cookie rides along on any request the browser makes, so a change it authorizes must come from our own pages.
  if (!SAFE_METHODS.has(request.method)) checkOrigin(request);
  return key;
}

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses a state-changing request whose Origin is not this server's own (cross-site request
 * forgery): SameSite=Strict already keeps the cookie off other sites' requests, this is the second lock.
 */
export function checkOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  const own = `${request.protocol}://${request.host}`;
  if (origin !== own)
    throw new ServerError(
      'ORIGIN_REFUSED',
      `a change signed in by cookie must come from ${own} (Origin ${origin === undefined ? 'missing' : JSON.stringify(origin)})`,
    );
}

/** The actor of an authenticated request (the hook has run). */
export function actorOf(request: FastifyRequest): Actor {
  if (request.actor === undefined) throw new ServerError('UNAUTHORIZED', 'the request has no authenticated key');
  return request.actor;
}
