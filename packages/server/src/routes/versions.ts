import type { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../api.js';
import { actorOf } from '../auth.js';
import { ServerError } from '../errors.js';
import { errorReplies, errorReply, idParams, list, moduleBody, NO_BODY, versionOut, versionParams } from '../schemas.js';
import { readModule } from '../upload.js';

const tags = ['versions'];

/** Versions: a module uploaded, validated and kept with its report. */
export const versionRoutes: FastifyPluginAsync<RouteOptions> = async (app, { platform, metrics }) => {
  app.post<{ Params: { id: string }; Body: Readable }>(
    '/v1/plugins/:id/versions',
    {
      // No bodyLimit here: the module is streamed and cut at its point's maxModuleBytes by readModule().
      config: { access: 'key' },
      // Before the body is parsed: a JSON or form body is refused, not read.
      preParsing: async (request) => {
        const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
        if (type !== 'application/wasm' && type !== 'application/octet-stream') {
          throw new ServerError(
            'UNSUPPORTED_MEDIA_TYPE',
            `send the module's bytes with Content-Type: application/wasm (got ${type === undefined ? 'none' : `"${type}"`})`,
          );
        }
      },
      schema: {
        tags,
        summary: 'Upload a module (application/wasm): validated or rejected, with the report',
        description: 'A rejected version is an answer (201 with its report), not an error; the same bytes again answer the stored version.',
        consumes: ['application/wasm'],
        params: idParams,
        body: moduleBody,
        response: { 201: versionOut, ...errorReplies, 413: errorReply, 415: errorReply },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      // The cap comes first (and proves the plug-in is the caller's): nothing is read for a stranger's id.
      const maxBytes = await platform.versions.maxModuleBytes(actor, request.params.id);
      const bytes = await readModule(request.body, request.headers['content-length'], maxBytes);
      const version = await platform.versions.upload(actor, request.params.id, bytes);
      if (version.status === 'rejected') metrics.rejection('VERSION_REJECTED');
      return reply.code(201).send(version);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/plugins/:id/versions',
    {
      bodyLimit: NO_BODY,
      config: { access: 'key' },
      schema: { tags, summary: "List a plug-in's versions", params: idParams, response: { 200: list(versionOut), ...errorReplies } },
    },
    async (request) => platform.versions.list(actorOf(request), request.params.id),
  );

  app.get<{ Params: { id: string; version: string } }>(
    '/v1/plugins/:id/versions/:version',
    {
      bodyLimit: NO_BODY,
      config: { access: 'key' },
      schema: { tags, summary: 'Read one version with its report', params: versionParams, response: { 200: versionOut, ...errorReplies } },
    },
    async (request) => platform.versions.get(actorOf(request), request.params.id, request.params.version),
  );
};
