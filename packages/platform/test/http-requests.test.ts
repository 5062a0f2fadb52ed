import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HttpRequestRecord } from '@tenon/runtime';
import { startTestServer, type TestServer } from '../../runtime/test/http-server.js';
import { type ExtensionPoint, OPERATOR, type Platform } from '../src/index.js';
import { behaviourPoint, fixture, partnerWithPlugin, testPlatform } from './helpers.js';

// A run's results say what each plug-in requested over HTTP in its call (the runtime's audit trail),
// so the host can keep, with its data, what could have left with it.

/** The runtime's HTTP test server, in a worker thread (a plug-in's request blocks this one): /echo answers "<method> - <body>". */
let server: TestServer;
let base: string;
before(async () => {
  server = await startTestServer();
  base = server.base;
});
after(() => server.stop());

/** Requests the server had received before this question (it counts the questions too). */
const served = () => server.served();
const withoutTime = (records: readonly HttpRequestRecord[] | undefined) => records?.map(({ durationMs, ...r }) => r);

/**
 * Tenant m1's installations of the posts fixture, in order: one granted the server it posts to, one
 * that makes no request, one posting to a host it was not granted.
 */
async function postingTenant(platform: Platform): Promise<ExtensionPoint> {
  const definition = behaviourPoint('p.post', 'post', { allowedHosts: ['127.0.0.1'], isolation: 'tenant' });
  // A deadline no loaded machine reaches: the request's round trip, and the HTTP thread's start on the first one, are inside it.
  const point = await platform.extensionPoint({ ...definition, limits: { ...definition.limits, timeoutMs: 30_000 } });
  const installs: [string, Record<string, string>, string[]][] = [
    ['granted', { request: JSON.stringify({ method: 'POST', url: `${base}/echo` }) }, ['127.0.0.1']],
    ['quiet', {}, []],
    ['denied', { request: JSON.stringify({ method: 'POST', url: 'http://collector.example/invoices' }) }, []],
  ];
  for (const [name, config, allowedHosts] of installs) {
    const owner = await partnerWithPlugin(platform, point.name, name);
    const version = await platform.versions.upload(owner.actor, owner.pluginId, fixture('posts'));
    assert.equal(version.status, 'validated', JSON.stringify(version.report));
    await platform.installations.create(OPERATOR, {
      tenant: 'm1',
      plugin: owner.pluginId,
      version: version.id,
      config,
      grants: { allowedHosts },
    });
  }
  return point;
}

describe('point.run results carry the HTTP requests of their call', () => {
  test('each result lists the requests its plug-in made or tried, allowed or denied, with the bytes sent and received', async () => {
    await using t = await testPlatform();
    const point = await postingTenant(t.platform);
    const before = await served();
    const { results } = await point.run({ tenant: 'm1', input: { n: 7 } });
    assert.deepEqual(
      results.map((r) => [r.outcome, r.code]),
      [
        ['ok', undefined],
        ['ok', undefined],
        ['contained', 'CAPABILITY_DENIED'],
      ],
    );
    // the input's JSON, {"n":7}, is the body: 7 bytes out; the server echoed "POST - " and the body
    assert.deepEqual(withoutTime(results[0]?.httpRequests), [
      { method: 'POST', url: `${base}/echo`, host: '127.0.0.1', status: 200, bytesOut: 7, bytesIn: 14, outcome: 'ok' },
    ]);
    assert.deepEqual(results[1]?.httpRequests, []);
    assert.deepEqual(withoutTime(results[2]?.httpRequests), [
      {
        method: 'POST',
        url: 'http://collector.example/invoices',
        host: 'collector.example',
        status: undefined,
        bytesOut: 7,
        bytesIn: 0,
        outcome: 'denied',
      },
    ]);
    assert.match(results[2]?.message ?? '', /"collector\.example": it is not in allowedHosts/);
    // what the results say left is what the server received: one request (besides the first question)
    assert.equal((await served()) - before - 1, 1);
  });

  test('a result keeps its own call’s requests: later runs on the same kept instance do not change them', async () => {
    await using t = await testPlatform();
    const point = await postingTenant(t.platform);
    const first = await point.run({ tenant: 'm1', input: { n: 7 } });
    const second = await point.run({ tenant: 'm1', input: { n: 42 } });
    assert.deepEqual(
      first.results.map((r) => r.httpRequests.map((q) => q.bytesOut)),
      [[7], [], [7]],
    );
    assert.deepEqual(
      second.results.map((r) => r.httpRequests.map((q) => q.bytesOut)),
      [[8], [], [8]],
    );
  });

  test('an installation that was not called (over its quota) has no requests', async () => {
    await using t = await testPlatform();
    const point = await postingTenant(t.platform);
    const [granted] = await t.platform.installations.list(OPERATOR, { tenant: 'm1' });
    assert.ok(granted);
    await t.platform.quotas.set(OPERATOR, granted.partnerId, { runsPerMinute: 0 });
    const { results } = await point.run({ tenant: 'm1', input: { n: 7 } });
    assert.equal(results[0]?.code, 'QUOTA_EXCEEDED');
    assert.deepEqual(results[0]?.httpRequests, []);
  });
});
