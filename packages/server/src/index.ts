/**
 * @tenon/server: the Tenon platform's HTTP API v1, as a Fastify plug-in a host mounts next to its own
 * routes, or as a standalone server.
 *
 *   const app = Fastify();
 *   await app.register(tenonApi, { platform });
 */

/** The API as a Fastify plug-in, and its options. */
export { type TenonApiOptions, tenonApi } from './api.js';
/** Who may call a route. */
export type { Access } from './auth.js';
/** The web dashboard's static files, to register in the host's own server. */
export { tenonDashboard } from './dashboard.js';
/** The HTTP layer's own coded errors and the status of every code. */
export { ServerError, type ServerErrorCode, statusForCode } from './errors.js';
/** The API's Prometheus metrics. */
export { ApiMetrics } from './metrics.js';
/** A standalone server with the API only. */
export { createServer, type ServerOptions } from './server.js';
