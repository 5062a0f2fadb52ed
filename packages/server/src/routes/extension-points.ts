import type { ExtensionPointDefinition } from '@tenon/platform';
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../api.js';
import { actorOf } from '../auth.js';
import { errorReplies, errorReply, extensionPointIn, extensionPointOut, list, NO_BODY, nameParams } from '../schemas.js';

const tags = ['extension points'];

/** Define extension points (operator) and read them (any key). */
export const extensionPointRoutes: FastifyPluginAsync<RouteOptions> = async (app, { platform, bodyLimit }) => {
  app.post<{ Body: ExtensionPointDefinition }>(
    '/v1/extension-points',
    {
      bodyLimit,
      config: { access: 'operator' },
      schema: {
        tags,
        summary: 'Define or redefine an extension point',
        body: extensionPointIn,
        response: { 201: extensionPointOut, ...errorReplies, 409: errorReply, 413: errorReply, 422: errorReply },
      },
    },
    async (request, reply) => reply.code(201).send(await platform.extensionPoints.define(actorOf(request), request.body)),
  );

  app.get(
    '/v1/extension-points',
    {
      bodyLimit: NO_BODY,
      config: { access: 'key' },
      schema: { tags, summary: 'List extension points', response: { 200: list(extensionPointOut), ...errorReplies } },
    },
    async (request) => platform.extensionPoints.list(actorOf(request)),
  );

  app.get<{ Params: { name: string } }>(
    '/v1/extension-points/:name',
    {
      bodyLimit: NO_BODY,
      config: { access: 'key' },
      schema: { tags, summary: 'Read one extension point', params: nameParams, response: { 200: extensionPointOut, ...errorReplies } },
    },
    async (request) => platform.extensionPoints.get(actorOf(request), request.params.name),
  );
};
