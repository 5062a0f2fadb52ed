import type { RecordQuery, RunRequest } from '@tenon/platform';
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../api.js';
import { actorOf } from '../auth.js';
import { errorReplies, NO_BODY, nameParams, page, recordOut, recordQuery, runIn, runOut } from '../schemas.js';

const tags = ['runs'];

/** Run an extension point for a tenant (operator), and read recorded runs (a partner: its own, without data). */
export const runRoutes: FastifyPluginAsync<RouteOptions> = async (app, { platform, bodyLimit }) => {
  app.post<{ Params: { name: string }; Body: RunRequest }>(
    '/v1/extension-points/:name/runs',
    {
      bodyLimit,
      config: { access: 'operator' },
      schema: {
        tags,
        summary: "Run the tenant's enabled installations of a point, in order, on an input",
        params: nameParams,
        body: runIn,
        response: { 200: runOut, ...errorReplies },
      },
    },
    async (request) => platform.run(actorOf(request), request.params.name, request.body),
  );

  app.get<{ Querystring: RecordQuery }>(
    '/v1/runs',
    {
      bodyLimit: NO_BODY,
      config: { access: 'key' },
      schema: {
        tags,
        summary: 'Recorded runs, newest last, by cursor (a partner: its own, without input, output, tenant, config or logs)',
        querystring: recordQuery,
        response: { 200: page(recordOut), ...errorReplies },
      },
    },
    async (request) => platform.records.list(actorOf(request), request.query),
  );
};
