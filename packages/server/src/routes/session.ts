import type { Actor } from '@tenon/platform';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { RouteOptions } from '../api.js';
import { actorOf, checkOrigin } from '../auth.js';
import { ServerError } from '../errors.js';
import { errorReplies, NO_BODY, sessionIn, sessionOut } from '../schemas.js';
import { SESSION_COOKIE, type Sessions } from '../session.js';

const tags = ['session'];

/** Sign-in with an API key for a browser (an HttpOnly, SameSite=Strict session cookie), who is signed in, and sign-out. */
export const sessionRoutes: FastifyPluginAsync<RouteOptions & { sessions: Sessions }> = async (app, { platform, sessions }) => {
  const who = async (actor: Actor) =>
    actor.kind === 'operator'
      ? { kind: 'operator' as const }
      : { kind: 'partner' as const, partnerId: actor.partnerId, name: (await platform.partners.get(actor, actor.partnerId)).name };

  app.post<{ Body: { key: string } }>(
    '/v1/session',
    {
      bodyLimit: 4096,
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Sign in with an API key: sets the session cookie the dashboard uses instead of the Bearer header',
        body: sessionIn,
        response: { 201: sessionOut, ...errorReplies },
      },
    },
    async (request, reply) => {
      // Signing a victim's browser in to the attacker's account is a forgery too.
      if (request.headers.origin !== undefined) checkOrigin(request);
      const actor = await platform.authenticate(request.body.key);
      if (actor === undefined) throw new ServerError('UNAUTHORIZED', 'the API key is not valid: ask the operator for a key');
      setCookie(request, reply, sessions.open(request.body.key), sessions.maxAgeSeconds);
      return reply.code(201).send(await who(actor));
    },
  );

  app.get(
    '/v1/session',
    {
      bodyLimit: NO_BODY,
      config: { access: 'key' },
      schema: { tags, summary: 'Who the key or session cookie belongs to', response: { 200: sessionOut, ...errorReplies } },
    },
    async (request) => who(actorOf(request)),
  );

  app.delete(
    '/v1/session',
    {
      bodyLimit: NO_BODY,
      config: { access: 'public' },
      schema: { tags, summary: 'Sign out: ends the session and clears its cookie', response: { 204: { type: 'null' }, ...errorReplies } },
    },
    async (request, reply) => {
      const id = request.cookies[SESSION_COOKIE];
      if (id !== undefined) {
        checkOrigin(request);
        sessions.close(id);
      }
      setCookie(request, reply, '', 0);
      return reply.code(204).send();
    },
  );
};

function setCookie(request: FastifyRequest, reply: FastifyReply, value: string, maxAge: number): void {
  reply.setCookie(SESSION_COOKIE, value, {
    httpOnly: true,
    sameSite: 'strict',
    secure: request.protocol === 'https',
    path: '/',
    maxAge,
  });
}
