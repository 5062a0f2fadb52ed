import { PassThrough } from 'node:stream';
import type { PlatformEvent } from '@tenon/platform';
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../api.js';
import { actorOf } from '../auth.js';
import { errorReplies, eventOut, eventQuery, NO_BODY, page } from '../schemas.js';

const tags = ['events'];

/** Seconds between keep-alive comments on an idle stream, so proxies do not close it. */
const HEARTBEAT_MS = 15_000;

/** The event log by cursor, and as a server-sent event stream (a partner: events about its own things). */
export const eventRoutes: FastifyPluginAsync<RouteOptions> = async (app, { platform }) => {
  // Open streams end when the server closes; otherwise close() would wait for clients to hang up.
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const stop of open) stop();
  });

  app.get<{ Querystring: { after?: string; limit?: number } }>(
    '/v1/events',
    {
      bodyLimit: NO_BODY,
      config: { access: 'key' },
      schema: {
        tags,
        summary: 'Events after a cursor, oldest first',
        querystring: eventQuery,
        response: { 200: page(eventOut), ...errorReplies },
      },
    },
    async (request) => platform.events.list(actorOf(request), request.query),
  );

  app.get<{ Querystring: { after?: string } }>(
    '/v1/events/stream',
    {
      bodyLimit: NO_BODY,
      config: { access: 'key' },
      schema: {
        tags,
        summary: 'Events as server-sent events: those after the cursor (`after` or Last-Event-ID), then each new one as it is committed',
        querystring: { type: 'object', properties: { after: eventQuery.properties.after }, additionalProperties: false },
        produces: ['text/event-stream'],
        response: { 200: { type: 'string', description: 'text/event-stream; each event id is its cursor' }, ...errorReplies },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const lastEventId = request.headers['last-event-id'];
      let after = request.query.after ?? (typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : undefined);
      // The first page proves the cursor is good before the 200 goes out: a bad one is a coded error.
      let backlog = await platform.events.list(actor, after === undefined ? {} : { after });

      const stream = new PassThrough();
      // Ids sent so far, while an event may arrive twice (in the backlog and live); then no more.
      let sent: Set<string> | undefined = new Set<string>();
      const send = (event: PlatformEvent): void => {
        if (sent !== undefined) {
          if (sent.has(event.id)) return;
          sent.add(event.id);
        }
        stream.write(`id: ${event.cursor}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      };
      // Subscribe before the backlog is read, so an event committed in between is held, not lost.
      let live: PlatformEvent[] | undefined = [];
      const unsubscribe = platform.events.subscribe(actor, (event) => {
        if (live === undefined) send(event);
        else live.push(event);
      });
      const heartbeat = setInterval(() => stream.write(': keep-alive\n\n'), HEARTBEAT_MS);
      const stop = (): void => {
        open.delete(stop);
        clearInterval(heartbeat);
        unsubscribe();
        stream.end();
      };
      open.add(stop);
      reply.raw.once('close', stop);

      stream.write(': tenon events\n\n');
      for (;;) {
        for (const event of backlog.items) send(event);
        if (backlog.next === undefined || stream.writableEnded) break;
        after = backlog.next;
        backlog = await platform.events.list(actor, { after });
      }
      for (const event of live) send(event);
      live = undefined;
      sent = undefined;
      return reply
        .header('content-type', 'text/event-stream; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('x-accel-buffering', 'no')
        .send(stream);
    },
  );
};
