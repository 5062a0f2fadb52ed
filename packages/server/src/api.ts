import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import type { Platform } from '@tenon/platform';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { useAuthentication } from './auth.js';
import { errorHandler } from './error-handler.js';
import { ServerError } from './errors.js';
import { ApiMetrics } from './metrics.js';
import { eventRoutes } from './routes/events.js';
import { extensionPointRoutes } from './routes/extension-points.js';
import { installationRoutes } from './routes/installations.js';
import { metricsRoutes } from './routes/metrics.js';
import { partnerRoutes } from './routes/partners.js';
import { pluginRoutes } from './routes/plugins.js';
import { replayRoutes } from './routes/replays.js';
import { runRoutes } from './routes/runs.js';
import { sessionRoutes } from './routes/session.js';
import { statsRoutes } from './routes/stats.js';
import { versionRoutes } from './routes/versions.js';
import { type SessionOptions, Sessions } from './session.js';
import { useStrictValidation } from './validation.js';

/** Options of the API plug-in. */
export interface TenonApiOptions {
  /** The platform the API serves (the host keeps owning it: the API never closes it). */
  platform: Platform;
  /** Requests per key (per client address without a key) in each window; false turns the limit off. Default 600 a minute. */
  rateLimit?: { max: number; timeWindowMs: number } | false;
  /** Largest JSON body, in bytes (module uploads have their point's maxModuleBytes instead). Default 1 MiB. */
  bodyLimit?: number;
  /** Where the metrics go. Default: a registry of this API's own, served at /metrics. */
  metrics?: ApiMetrics;
  /** Browser sessions (sign-in with a key, then an HttpOnly cookie): their lifetime and how many are held. */
  sessions?: SessionOptions;
}

/** What every route file receives. */
export interface RouteOptions {
  platform: Platform;
  metrics: ApiMetrics;
  bodyLimit: number;
}

const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * The Tenon HTTP API v1 as a Fastify plug-in, to mount in the host's own server next to its routes:
 * `app.register(tenonApi, { platform })`. Everything it sets (validation, error handler, auth hook,
 * rate limit, content type parsers) stays inside its own encapsulated context.
 */
export const tenonApi: FastifyPluginAsync<TenonApiOptions> = async (app: FastifyInstance, options: TenonApiOptions) => {
  const { platform } = options;
  const metrics = options.metrics ?? new ApiMetrics();
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;

  useStrictValidation(app);
  app.setErrorHandler(errorHandler((code) => metrics.rejection(code)));
  const sessions = new Sessions(options.sessions);
  await app.register(cookie);
  useAuthentication(app, (key) => platform.authenticate(key), sessions);
  // Runs made in-process by the host count too, not only those made over HTTP.
  const stopObserving = platform.onRun((run) => metrics.run(run));
  app.addHook('onClose', async () => stopObserving());
  // Modules arrive as a stream the upload route reads itself, against the point's own cap.
  app.addContentTypeParser(['application/wasm', 'application/octet-stream'], (_request, payload, done) => done(null, payload));

  if (options.rateLimit !== false) {
    const limit = options.rateLimit ?? { max: 600, timeWindowMs: 60_000 };
    await app.register(rateLimit, {
      max: limit.max,
      timeWindow: limit.timeWindowMs,
      // After the key is checked and before the body is read: counted per key, never per body.
      hook: 'preParsing',
      keyGenerator: (request) => request.keyHash ?? request.ip,
      errorResponseBuilder: (_request, context) =>
        new ServerError(
          'RATE_LIMITED',
          `rate limit of ${context.max} requests per ${context.after} reached: retry after the Retry-After header's seconds`,
        ),
    });
  }

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Tenon platform API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  const routes: RouteOptions = { platform, metrics, bodyLimit };
  await app.register(extensionPointRoutes, routes);
  await app.register(partnerRoutes, routes);
  await app.register(pluginRoutes, routes);
  await app.register(versionRoutes, routes);
  await app.register(installationRoutes, routes);
  await app.register(runRoutes, routes);
  await app.register(replayRoutes, routes);
  await app.register(statsRoutes, routes);
  await app.register(sessionRoutes, { ...routes, sessions });
  await app.register(eventRoutes, routes);
  await app.register(metricsRoutes, routes);

  app.get('/v1/openapi.json', { config: { access: 'public' }, schema: { hide: true } as object }, async () => app.swagger());
};
