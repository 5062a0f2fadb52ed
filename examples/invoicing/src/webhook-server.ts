// The way integrations are built today, for contrast: each partner runs its discount logic (the
// very same plug-in) behind an HTTP endpoint, and the host posts every invoice to it. Started as a
// child process by webhooks.ts; prints nothing, sends its port to the parent once it listens.

import type { Plugin } from '@tenon/runtime';
import Fastify from 'fastify';
import { loadPartner, PARTNERS } from './partners.js';

const names = (process.argv[2] ?? '').split(',').filter(Boolean);
const plugins = new Map<string, Plugin>();
for (const partner of PARTNERS.filter((p) => names.includes(p.name))) plugins.set(partner.name, await loadPartner(partner));

const app = Fastify({ logger: false });
// The partner's code reads the JSON itself, as it does in the host.
app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));
app.post<{ Params: { partner: string }; Body: string }>('/partners/:partner/discounts', async (request, reply) => {
  const plugin = plugins.get(request.params.partner);
  if (!plugin) return reply.code(404).send({ error: `no partner "${request.params.partner}"` });
  try {
    return reply.type('application/json').send(plugin.call('discounts', request.body).text());
  } catch (error) {
    return reply.code(500).send({ error: error instanceof Error ? error.message : String(error) });
  }
});
app.addHook('onClose', async () => {
  for (const plugin of plugins.values()) plugin.close();
});

await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
process.on('disconnect', () => void app.close().then(() => process.exit(0)));
