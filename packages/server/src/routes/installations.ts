import type { CandidateRequest, InstallationPatch, NewInstallation } from '@tenon/platform';
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../api.js';
import { actorOf } from '../auth.js';
import {
  candidateIn,
  errorReplies,
  errorReply,
  idParams,
  installationIn,
  installationOut,
  installationPatch,
  installationQuery,
  list,
  NO_BODY,
  rolloutOut,
} from '../schemas.js';

const tags = ['installations'];
const refusals = { ...errorReplies, 409: errorReply, 422: errorReply };

/** Installations: a tenant's use of a plug-in version (operator only). */
export const installationRoutes: FastifyPluginAsync<RouteOptions> = async (app, { platform }) => {
  app.post<{ Body: NewInstallation }>(
    '/v1/installations',
    {
      bodyLimit: 256 * 1024,
      config: { access: 'operator' },
      schema: {
        tags,
        summary: 'Install a validated version for a tenant',
        body: installationIn,
        response: { 201: installationOut, ...refusals },
      },
    },
    async (request, reply) => reply.code(201).send(await platform.installations.create(actorOf(request), request.body)),
  );

  app.patch<{ Params: { id: string }; Body: InstallationPatch }>(
    '/v1/installations/:id',
    {
      bodyLimit: 256 * 1024,
      config: { access: 'operator' },
      schema: {
        tags,
        summary: 'Change the version, config, grants, position or enabled of an installation',
        params: idParams,
        body: installationPatch,
        response: { 200: installationOut, ...refusals },
      },
    },
    async (request) => platform.installations.update(actorOf(request), request.params.id, request.body),
  );

  app.get<{ Querystring: { tenant?: string; extensionPoint?: string; plugin?: string } }>(
    '/v1/installations',
    {
      bodyLimit: NO_BODY,
      config: { access: 'operator' },
      schema: {
        tags,
        summary: 'List installations',
        querystring: installationQuery,
        response: { 200: list(installationOut), ...errorReplies },
      },
    },
    async (request) => platform.installations.list(actorOf(request), request.query),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/installations/:id',
    {
      bodyLimit: NO_BODY,
      config: { access: 'operator' },
      schema: { tags, summary: 'Read one installation', params: idParams, response: { 200: installationOut, ...errorReplies } },
    },
    async (request) => platform.installations.get(actorOf(request), request.params.id),
  );

  app.post<{ Params: { id: string }; Body: CandidateRequest }>(
    '/v1/installations/:id/candidate',
    {
      bodyLimit: 4096,
      config: { access: 'operator' },
      schema: {
        tags,
        summary:
          "Start a rollout: a candidate version as a canary or in shadow (its replay must have passed the point's gate, or override)",
        params: idParams,
        body: candidateIn,
        response: { 200: installationOut, ...refusals },
      },
    },
    async (request) => platform.rollouts.start(actorOf(request), request.params.id, request.body),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/installations/:id/rollout',
    {
      bodyLimit: NO_BODY,
      config: { access: 'operator' },
      schema: {
        tags,
        summary: "Both versions' outcomes and fuel in the rollout, and the shadow's differences (this process)",
        params: idParams,
        response: { 200: rolloutOut, ...errorReplies },
      },
    },
    async (request) => platform.rollouts.status(actorOf(request), request.params.id),
  );

  for (const action of ['promote', 'rollback'] as const) {
    app.post<{ Params: { id: string } }>(
      `/v1/installations/:id/${action}`,
      {
        bodyLimit: NO_BODY,
        config: { access: 'operator' },
        schema: {
          tags,
          summary: action === 'promote' ? 'Make the candidate the current version' : 'Drop the candidate',
          params: idParams,
          response: { 200: installationOut, ...refusals },
        },
      },
      async (request) => platform.rollouts[action](actorOf(request), request.params.id),
    );
  }
};
