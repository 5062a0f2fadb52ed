import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { OPERATOR, type RunRecord } from '../src/index.js';
import { partnerWithPlugin, testPlatform, withCustomSection } from './helpers.js';

// The runtime's http_request fixture: its input is the request, the response body its answer.
const httpRequest = () => readFileSync(new URL('../../runtime/test/fixtures/build/http_request.wasm', import.meta.url));

/** Answers /rate with {"n": how many rates it has served} and /served with that count. */
const RATE_SERVER = `
const { createServer } = require('node:http');
const { parentPort } = require('node:worker_threads');
let rates = 0;
const server = createServer((request, response) => {
  if (request.url === '/served') return response.end(String(rates));
  rates++;
  response.writeHead(200, { 'content-type': 'application/json', 'x-rate': 'fixed' }).end(JSON.stringify({ n: rates }));
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
parentPort.on('message', () => server.close(() => process.exit(0)));
`;

describe('replay of HTTP exchanges', () => {
  it('records the response (status, headers, body) and replays it without a request leaving', async () => {
    // In a worker: this thread blocks while a plug-in's request is in flight.
    const server = new Worker(RATE_SERVER, { eval: true });
    const [port] = await once(server, 'message');
    const url = `http://127.0.0.1:${port}/rate`;
    const served = async () => Number(await (await fetch(`http://127.0.0.1:${port}/served`)).text());
    try {
      await using t = await testPlatform();
      const { platform } = t;
      await platform.extensionPoints.define(OPERATOR, {
        name: 'rates.fetch',
        function: 'request',
        input: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] },
        output: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
        limits: { fuel: 1_000_000, timeoutMs: 5000, maxPages: 4, maxOutputBytes: 4096 },
        allowedHosts: ['127.0.0.1'],
        record: { sample: 1 },
      });
      const owner = await partnerWithPlugin(platform, 'rates.fetch');
      const v1 = await platform.versions.upload(owner.actor, owner.pluginId, httpRequest());
      assert.equal(v1.status, 'validated', JSON.stringify(v1.report));
      await platform.installations.create(OPERATOR, {
        tenant: 'shop',
        plugin: owner.pluginId,
        version: v1.id,
        grants: { allowedHosts: ['127.0.0.1'] },
      });
      for (const key of ['a', 'b']) await platform.run(OPERATOR, 'rates.fetch', { tenant: 'shop', key, input: { url } });
      await platform.flush();
      assert.equal(await served(), 2);
      const records = (await platform.records.list(OPERATOR)).items as RunRecord[];
      assert.deepEqual(
        records.map((r) => r.output),
        [{ n: 1 }, { n: 2 }],
      );
      const [exchange] = records[0]?.imports ?? [];
      assert.equal(exchange?.kind, 'http');
      if (exchange?.kind !== 'http' || exchange.result.kind !== 'response') throw new Error('no response recorded');
      assert.equal(exchange.url, url);
      assert.equal(exchange.result.status, 200);
      assert.equal(exchange.result.headers['x-rate'], 'fixed');
      assert.equal(Buffer.from(exchange.result.body, 'base64').toString(), '{"n":1}');

      const v2 = await platform.versions.upload(owner.actor, owner.pluginId, withCustomSection(httpRequest(), 'v2'));
      const report = await platform.replays.create(OPERATOR, { version: v2.id });
      assert.equal(await served(), 2, 'no request left during the replay');
      assert.deepEqual(report.totals, { records: 2, same: 2, changed: 0, newlyFailing: 0, fixed: 0, notReplayable: 0 });
    } finally {
      server.postMessage('stop');
      await once(server, 'exit');
    }
  });
});
