import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../api.js';
import { errorReplies, NO_BODY } from '../schemas.js';

/** Prometheus text (operator only). */
export const metricsRoutes: FastifyPluginAsync<RouteOptions> = async (app, { metrics }) => {
  app.get(
    '/metrics',
    {
      bodyLimit: NO_BODY,
      config: { access: 'operator' },
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics: runs by point, plug-in, version and outcome; duration and fuel; refusals by code',
        produces: ['text/plain'],
        response: { 200: { type: 'string' }, ...errorReplies },
      },
    },
    async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
};
