import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { hostMatcher } from '../src/http/allowed-hosts.js';
import type { HttpRequestRecord } from '../src/index.js';
import { load } from './fixtures.js';
import { startTestServer, type TestServer } from './http-server.js';

const request = (url: string, extra: Record<string, unknown> = {}) => JSON.stringify({ method: 'GET', url, headers: {}, ...extra });

describe('allowed_hosts globs', () => {
  it('match host names as Extism does: * spans dots, ? one character, [..] a class, any case', () => {
    const allowed = hostMatcher(['api.example.com', '*.partner.example', 'cdn?.example.net', 'db[0-9].internal', 'x[!a].test']);
    for (const host of [
      'api.example.com',
      'API.Example.COM',
      'a.partner.example',
      'a.b.partner.example',
      'cdn1.example.net',
      'db7.internal',
      'xb.test',
    ]) {
      assert.ok(allowed(host), host);
    }
    for (const host of [
      'example.com',
      'api.example.com.evil',
      'partner.example',
      'cdn12.example.net',
      'dbx.internal',
      'xa.test',
      'evil.com',
    ]) {
      assert.ok(!allowed(host), host);
    }
  });

  it('treat regular-expression characters in a pattern literally', () => {
    const allowed = hostMatcher(['a+b.example', 'c.d']);
    assert.ok(allowed('a+b.example'));
    assert.ok(!allowed('aab.example'));
    assert.ok(!allowed('cxd'));
  });

  it('allow nothing when the list is empty', () => {
    assert.ok(!hostMatcher([])('localhost'));
  });
});

describe('plug-in HTTP requests, against a real server on 127.0.0.1', () => {
  let server: TestServer;
  let base: string;
  before(async () => {
    server = await startTestServer();
    base = server.base;
  });
  after(() => server.stop());

  const served = () => server.served();
  const plugin = (options: Parameters<typeof load>[1] = {}) => load('http_request', { allowedHosts: ['127.0.0.1'], ...options });

  it('an allowed request gets the body, the status and the headers, and is recorded for the audit trail', async () => {
    const records: HttpRequestRecord[] = [];
    const p = await plugin({ onHttpRequest: (record) => records.push(record) });
    try {
      assert.equal(p.call('request', request(`${base}/hello`)).text(), 'hello');
      assert.deepEqual(
        p.stats.httpRequests.map(({ durationMs, ...r }) => r),
        [{ method: 'GET', url: `${base}/hello`, host: '127.0.0.1', status: 200, bytesOut: 0, bytesIn: 5, outcome: 'ok' }],
      );
      assert.deepEqual(records, p.stats.httpRequests);
      const { durationMs } = p.stats.httpRequests[0]!;
      assert.ok(durationMs > 0 && Number.isInteger(durationMs * 1000), `durationMs to the microsecond, got ${durationMs}`);
      const headers = p.call('headers', request(`${base}/hello`)).json() as Record<string, string>;
      assert.equal(headers['x-served-by'], 'tenon-test');
      assert.equal(headers['content-type'], 'text/plain');
    } finally {
      p.close();
    }
  });

  it('sends the method, headers and body the plug-in gives', async () => {
    const p = await plugin();
    try {
      const json = request(`${base}/echo`, { method: 'post', headers: { 'x-tenon': 'yes' } });
      assert.equal(p.call('post_self', json).text(), `POST yes ${json}`);
      assert.equal(p.stats.httpRequests[0]?.bytesOut, Buffer.byteLength(json));
    } finally {
      p.close();
    }
  });

  it('returns error statuses to the plug-in as answers, not failures', async () => {
    const p = await plugin();
    try {
      assert.equal(p.call('request', request(`${base}/status?code=503`)).text(), 'status');
      assert.equal(p.stats.httpRequests[0]?.status, 503);
    } finally {
      p.close();
    }
  });

  it('denies a host outside allowedHosts with CAPABILITY_DENIED naming it, and nothing is sent', async () => {
    const p = await plugin({ allowedHosts: ['*.partner.example'] });
    try {
      const before = await served();
      assert.throws(() => p.call('request', request(`${base}/hello`)), {
        name: 'CapabilityError',
        code: 'CAPABILITY_DENIED',
        message: /"127\.0\.0\.1": it is not in allowedHosts \(allowed: \*\.partner\.example\)/,
      });
      assert.equal(p.stats.httpRequests[0]?.outcome, 'denied');
      assert.equal(await served(), before + 1, 'only our own /served request reached the server');
    } finally {
      p.close();
    }
  });

  it('denies every host by default', async () => {
    const p = await load('http_request');
    try {
      assert.throws(() => p.call('request', request(`${base}/hello`)), { code: 'CAPABILITY_DENIED', message: /none are allowed/ });
    } finally {
      p.close();
    }
  });

  it('denies a redirect from an allowed host to one that is not', async () => {
    const p = await plugin({ allowedHosts: ['127.0.0.1'] });
    try {
      const target = encodeURIComponent('http://localhost:1/stolen');
      assert.throws(() => p.call('request', request(`${base}/redirect?to=${target}`)), {
        code: 'CAPABILITY_DENIED',
        message: /"localhost" \(a redirect led there\)/,
      });
      assert.equal(p.stats.httpRequests[0]?.url, 'http://localhost:1/stolen');
      // a redirect within the allowed hosts is followed
      assert.equal(p.call('request', request(`${base}/redirect?to=${encodeURIComponent(`${base}/hello`)}`)).text(), 'hello');
    } finally {
      p.close();
    }
  });

  it('refuses a response over max_http_response_bytes, declared or streamed, with HTTP_RESPONSE_LIMIT', async () => {
    const p = await plugin({ memory: { maxHttpResponseBytes: 4096 } });
    try {
      assert.equal(p.call('request', request(`${base}/bytes?n=4096`)).text().length, 4096);
      for (const path of ['/bytes?n=4097', '/stream?n=100000']) {
        assert.throws(() => p.call('request', request(`${base}${path}`)), {
          name: 'LimitError',
          code: 'HTTP_RESPONSE_LIMIT',
          message: /over memory.maxHttpResponseBytes \(4096 bytes/,
        });
      }
      assert.equal(p.stats.httpRequests[0]?.outcome, 'too_large');
    } finally {
      p.close();
    }
  });

  it('fails the call with MEMORY_LIMIT when the response body does not fit in Extism memory; the record says failed', async () => {
    const records: HttpRequestRecord[] = [];
    const p = await plugin({ memory: { maxPages: 16 }, onHttpRequest: (record) => records.push(record) });
    try {
      const url = `${base}/bytes?n=${5 * 1024 * 1024}`;
      assert.throws(() => p.call('request', request(url)), {
        name: 'LimitError',
        code: 'MEMORY_LIMIT',
        message:
          /^Cannot give the plug-in an HTTP response body of 5242880 bytes: it does not fit in Extism memory \(\d+ bytes in use, memory\.maxPages 16\)$/,
      });
      assert.deepEqual(
        records.map(({ durationMs, ...r }) => r),
        [{ method: 'GET', url, host: '127.0.0.1', status: 200, bytesOut: 0, bytesIn: 5242880, outcome: 'failed' }],
      );
      assert.equal(p.call('request', request(`${base}/hello`)).text(), 'hello');
    } finally {
      p.close();
    }
  });

  it('fails the call with MEMORY_LIMIT when the response headers do not fit in Extism memory beside the body', async () => {
    // one page of Extism memory: a 56,000-byte body fits, then 12 KiB of headers do not
    const p = await plugin({ memory: { maxPages: 1 } });
    try {
      const url = `${base}/big-headers?n=12000&m=56000`;
      assert.equal(p.call('request', request(url)).length, 56000);
      assert.throws(() => p.call('headers', request(url)), {
        name: 'LimitError',
        code: 'MEMORY_LIMIT',
        message:
          /^Cannot give the plug-in response headers of \d+ bytes: it does not fit in Extism memory \(\d+ bytes in use, memory\.maxPages 1\)$/,
      });
    } finally {
      p.close();
    }
  });

  it('counts a slow response against the call deadline: TIMEOUT, and the plug-in still works after', async () => {
    const p = await plugin({ timeoutMs: 100 });
    try {
      assert.throws(() => p.call('request', request(`${base}/slow?ms=2000`)), {
        name: 'TimeoutError',
        code: 'TIMEOUT',
        message: /100 ms deadline/,
      });
      assert.equal(p.stats.httpRequests[0]?.outcome, 'timeout');
      assert.equal(p.call('request', request(`${base}/hello`)).text(), 'hello');
    } finally {
      p.close();
    }
  });

  it('fails the call with HTTP_FAILED when the server cannot be reached', async () => {
    const closed = createServer().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as AddressInfo;
    closed.close();
    const p = await plugin();
    try {
      assert.throws(() => p.call('request', request(`http://127.0.0.1:${port}/`)), {
        name: 'HttpError',
        code: 'HTTP_FAILED',
        message: new RegExp(`"http://127.0.0.1:${port}/" failed: fetch failed: connect ECONNREFUSED`),
      });
    } finally {
      p.close();
    }
  });

  it('fails the call with PLUGIN_FAILED on a malformed request', async () => {
    const p = await plugin();
    try {
      assert.throws(() => p.call('request', 'not json'), { code: 'PLUGIN_FAILED', message: /not JSON/ });
      assert.throws(() => p.call('request', request('file:///etc/passwd')), { code: 'PLUGIN_FAILED', message: /file: URL/ });
    } finally {
      p.close();
    }
  });
});
