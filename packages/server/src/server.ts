import type { Platform } from '@tenon/platform';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { type TenonApiOptions, tenonApi } from './api.js';
import { tenonDashboard } from './dashboard.js';
import { errorHandler } from './error-handler.js';
import { ServerError } from './errors.js';

/** Options of a standalone server. */
export interface ServerOptions extends Omit<TenonApiOptions, 'platform'> {
  platform: Platform;
  /** Fastify's logger option. Default off. */
  logger?: FastifyServerOptions['logger'];
  /** Serve the web dashboard at `/`. Default true. */
  dashboard?: boolean;
}

/**
 * A Fastify server with the API and nothing else (what `tenon serve` runs). The caller listens and
 * closes it; closing it does not close the platform, which the caller owns too.
 */
export async function createServer(options: ServerOptions): Promise<FastifyInstance> {
  const { logger = false, dashboard = true, ...api } = options;
  // Event streams are long-lived: close() ends them and drops every connection rather than wait out keep-alive.
  const app = Fastify({ logger, forceCloseConnections: true, ...(api.bodyLimit !== undefined && { bodyLimit: api.bodyLimit }) });
  // Outside the API's routes too, a refusal is a coded error (an unknown path, a bad method).
  app.setErrorHandler(errorHandler(() => {}));
  app.setNotFoundHandler((request, reply) => {
    const error = new ServerError(
      'NOT_FOUND',
      `route ${request.method} ${request.url.split('?')[0]} not found: GET /v1/openapi.json lists the routes`,
    );
    return reply.code(404).send({ error: { code: error.code, message: error.message } });
  });
  await app.register(tenonApi, api);
  if (dashboard) await app.register(tenonDashboard);
  return app;
}
