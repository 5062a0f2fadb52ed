import type { ReplayQuery, ReplayRequest } from '@tenon/platform';
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../api.js';
import { actorOf } from '../auth.js';
import {
  errorReplies,
  errorReply,
  idParams,
  NO_BODY,
  page,
  replayIn,
  replayListQuery,
  replayOut,
  replayQuery,
  replaySummaryOut,
} from '../schemas.js';

const tags = ['replays'];

/** Replays: a partner replays its own versions (paths only, no tenants' data); the operator any. */
export const replayRoutes: FastifyPluginAsync<RouteOptions> = async (app, { platform }) => {
  app.post<{ Body: ReplayRequest }>(
    '/v1/replays',
    {
      bodyLimit: 4096,
      config: { access: 'key' },
      schema: {
        tags,
        summary: 'Replay a version on recorded runs: per-record diffs, fuel before and after, the gate verdict',
        body: replayIn,
        response: { 201: replayOut, ...errorReplies, 409: errorReply },
      },
    },
    async (request, reply) => reply.code(201).send(await platform.replays.create(actorOf(request), request.body)),
  );

  app.get<{ Querystring: ReplayQuery }>(
    '/v1/replays',
    {
      bodyLimit: NO_BODY,
      config: { access: 'key' },
      schema: {
        tags,
        summary: 'Replays newest first, by cursor, without their per-record results (a partner: its own versions)',
        querystring: replayListQuery,
        response: { 200: page(replaySummaryOut), ...errorReplies },
      },
    },
    async (request) => platform.replays.list(actorOf(request), request.query),
  );

  app.get<{ Params: { id: string }; Querystring: { offset?: number; limit?: number } }>(
    '/v1/replays/:id',
    {
      bodyLimit: NO_BODY,
      config: { access: 'key' },
      schema: {
        tags,
        summary: 'Read a replay, its per-record results paged by offset and limit',
        params: idParams,
        querystring: replayQuery,
        response: { 200: replayOut, ...errorReplies },
      },
    },
    async (request) => platform.replays.get(actorOf(request), request.params.id, request.query),
  );
};
