import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HttpExchange, HttpExchangeResult } from '../src/index.js';
import { load } from './fixtures.js';
import { startTestServer, type TestServer } from './http-server.js';

const request = (url: string, extra: Record<string, unknown> = {}) => JSON.stringify({ method: 'GET', url, headers: {}, ...extra });

describe('a call answering its HTTP requests itself (httpExchange: record and replay)', () => {
  let server: TestServer;
  let base: string;
  before(async () => {
    server = await startTestServer();
    base = server.base;
  });
  after(() => server.stop());
  const served = () => server.served();

  it('sees the real exchange when it calls perform(), so the result can be recorded', async () => {
    const p = await load('http_request', { allowedHosts: ['127.0.0.1'] });
    try {
      const seen: { exchange: HttpExchange; result: HttpExchangeResult }[] = [];
      const output = p.call('post_self', request(`${base}/echo`, { method: 'post', headers: { 'x-tenon': 'tape' } }), {
        httpExchange: (exchange, perform) => {
          const result = perform();
          seen.push({ exchange, result });
          return result;
        },
      });
      assert.match(output.text(), /^POST tape /);
      assert.equal(seen.length, 1);
      assert.equal(seen[0]?.exchange.method, 'POST');
      assert.equal(seen[0]?.exchange.url, `${base}/echo`);
      assert.equal(seen[0]?.exchange.headers['x-tenon'], 'tape');
      assert.equal(seen[0]?.result.kind, 'response');
    } finally {
      p.close();
    }
  });

  it('answers from the exchanger without sending anything: body, status and headers', async () => {
    const p = await load('http_request', { allowedHosts: ['127.0.0.1'] });
    try {
      const before = await served();
      const answer: HttpExchangeResult = {
        kind: 'response',
        status: 201,
        headers: { 'x-from': 'record' },
        body: new TextEncoder().encode('recorded'),
        url: `${base}/hello`,
      };
      const replay = { httpExchange: () => answer };
      assert.equal(p.call('request', request(`${base}/hello`), replay).text(), 'recorded');
      assert.equal(p.stats.httpRequests[0]?.status, 201);
      assert.deepEqual(p.call('headers', request(`${base}/hello`), replay).json(), { 'x-from': 'record' });
      assert.equal(await served(), before + 1, 'only the count request itself reached the server');
    } finally {
      p.close();
    }
  });

  it('still applies the allow-list first: a denied host never reaches the exchanger', async () => {
    const p = await load('http_request', { allowedHosts: ['*.partner.example'] });
    try {
      let asked = 0;
      assert.throws(
        () =>
          p.call('request', request(`${base}/hello`), {
            httpExchange: (_exchange, perform) => {
              asked++;
              return perform();
            },
          }),
        { name: 'CapabilityError', code: 'CAPABILITY_DENIED', message: /127\.0\.0\.1/ },
      );
      assert.equal(asked, 0);
    } finally {
      p.close();
    }
  });

  it('turns a replayed failure into the same error as a live one', async () => {
    const p = await load('http_request', { allowedHosts: ['127.0.0.1'] });
    try {
      assert.throws(() => p.call('request', request(`${base}/slow`), { httpExchange: () => ({ kind: 'timeout' }) }), {
        name: 'HttpError',
        code: 'HTTP_FAILED',
        message: /took longer than/,
      });
    } finally {
      p.close();
    }
  });
});
