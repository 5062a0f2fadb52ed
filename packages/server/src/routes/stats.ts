import type { RunStatsQuery } from '@tenon/platform';
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../api.js';
import { actorOf } from '../auth.js';
import { errorReplies, NO_BODY, statsOut, statsQuery } from '../schemas.js';

/** Aggregates of recorded runs (a partner: its own runs), for the dashboard's overview. */
export const statsRoutes: FastifyPluginAsync<RouteOptions> = async (app, { platform }) => {
  app.get<{ Querystring: RunStatsQuery }>(
    '/v1/runs/stats',
    {
      bodyLimit: NO_BODY,
      config: { access: 'key' },
      schema: {
        tags: ['runs'],
        summary: 'Runs over time by outcome and code, p50/p99 duration, fuel against budget, by extension point and plug-in',
        querystring: statsQuery,
        response: { 200: statsOut, ...errorReplies },
      },
    },
    async (request) => platform.records.stats(actorOf(request), request.query),
  );
};
