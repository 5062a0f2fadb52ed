import { existsSync } from 'node:fs';
import fastifyStatic from '@fastify/static';
import { dashboardRoot } from '@tenon/dashboard';
import type { FastifyPluginAsync } from 'fastify';

// The dashboard loads only its own script and style and talks only to this server.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * The web dashboard's static files (built by `npm run build`), served at the prefix it is
 * registered with. Everything it shows it reads from the public API v1, signed in by cookie.
 */
export const tenonDashboard: FastifyPluginAsync = async (app) => {
  if (!existsSync(dashboardRoot)) throw new Error(`the dashboard is not built (no ${dashboardRoot}): run npm run build`);
  await app.register(fastifyStatic, {
    root: dashboardRoot,
    wildcard: false,
    index: 'index.html',
    setHeaders: (res) => {
      res.header('content-security-policy', CSP);
      res.header('x-content-type-options', 'nosniff');
      res.header('referrer-policy', 'same-origin');
    },
  });
};
