import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../api.js';
import { actorOf } from '../auth.js';
import { errorReplies, idParams, list, NO_BODY, newPartnerOut, partnerIn, partnerOut, quotaIn, quotaOut } from '../schemas.js';

const tags = ['partners'];

/** Partners and their quotas: created and changed by the operator; a partner reads itself. */
export const partnerRoutes: FastifyPluginAsync<RouteOptions> = async (app, { platform }) => {
  app.post<{ Body: { name: string } }>(
    '/v1/partners',
    {
      bodyLimit: 16 * 1024,
      config: { access: 'operator' },
      schema: {
        tags,
        summary: 'Create a partner; its API key is in this answer only',
        body: partnerIn,
        response: { 201: newPartnerOut, ...errorReplies },
      },
    },
    async (request, reply) => reply.code(201).send(await platform.partners.create(actorOf(request), request.body)),
  );

  app.get(
    '/v1/partners',
    {
      bodyLimit: NO_BODY,
      config: { access: 'operator' },
      schema: { tags, summary: 'List partners', response: { 200: list(partnerOut), ...errorReplies } },
    },
    async (request) => platform.partners.list(actorOf(request)),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/partners/:id',
    {
      bodyLimit: NO_BODY,
      config: { access: 'key' },
      schema: {
        tags,
        summary: 'Read a partner (a partner reads itself)',
        params: idParams,
        response: { 200: partnerOut, ...errorReplies },
      },
    },
    async (request) => platform.partners.get(actorOf(request), request.params.id),
  );

  app.post<{ Params: { id: string } }>(
    '/v1/partners/:id/key',
    {
      bodyLimit: NO_BODY,
      config: { access: 'operator' },
      schema: {
        tags,
        summary: 'Replace a partner key (the old one stops working); the new key is in this answer only',
        params: idParams,
        response: { 201: newPartnerOut, ...errorReplies },
      },
    },
    async (request, reply) => reply.code(201).send(await platform.partners.rotateKey(actorOf(request), request.params.id)),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/partners/:id/quota',
    {
      bodyLimit: NO_BODY,
      config: { access: 'key' },
      schema: { tags, summary: "Read a partner's quota", params: idParams, response: { 200: quotaOut, ...errorReplies } },
    },
    async (request) => platform.quotas.get(actorOf(request), request.params.id),
  );

  app.put<{ Params: { id: string }; Body: { runsPerMinute?: number | null; fuelPerDay?: number | null } }>(
    '/v1/partners/:id/quota',
    {
      bodyLimit: 16 * 1024,
      config: { access: 'operator' },
      schema: {
        tags,
        summary: "Set a partner's quota (null: unlimited)",
        params: idParams,
        body: quotaIn,
        response: { 200: quotaOut, ...errorReplies },
      },
    },
    async (request) => platform.quotas.set(actorOf(request), request.params.id, request.body),
  );
};
