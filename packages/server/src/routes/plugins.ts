import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../api.js';
import { actorOf } from '../auth.js';
import { errorReplies, idParams, list, NO_BODY, pluginIn, pluginOut, pluginQuery } from '../schemas.js';

const tags = ['plug-ins'];

/** Plug-in lines: a partner creates and reads its own; the operator reads all. */
export const pluginRoutes: FastifyPluginAsync<RouteOptions> = async (app, { platform }) => {
  app.post<{ Body: { name: string; extensionPoint: string; partnerId?: string } }>(
    '/v1/plugins',
    {
      bodyLimit: 16 * 1024,
      config: { access: 'key' },
      schema: {
        tags,
        summary: 'Create a plug-in line on an extension point',
        body: pluginIn,
        response: { 201: pluginOut, ...errorReplies },
      },
    },
    async (request, reply) => reply.code(201).send(await platform.plugins.create(actorOf(request), request.body)),
  );

  app.get<{ Querystring: { extensionPoint?: string } }>(
    '/v1/plugins',
    {
      bodyLimit: NO_BODY,
      config: { access: 'key' },
      schema: {
        tags,
        summary: 'List plug-ins (a partner: its own)',
        querystring: pluginQuery,
        response: { 200: list(pluginOut), ...errorReplies },
      },
    },
    async (request) => platform.plugins.list(actorOf(request), request.query),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/plugins/:id',
    {
      bodyLimit: NO_BODY,
      config: { access: 'key' },
      schema: { tags, summary: 'Read one plug-in', params: idParams, response: { 200: pluginOut, ...errorReplies } },
    },
    async (request) => platform.plugins.get(actorOf(request), request.params.id),
  );
};
