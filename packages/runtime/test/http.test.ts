import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostMatcher } from '../src/http/allowed-hosts.js';
import { load } from './fixtures.js';

const request = (url: string) => JSON.stringify({ method: 'GET', url, headers: {} });

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

describe('a plug-in HTTP request', () => {
  it('to a host outside allowedHosts fails the call with CAPABILITY_DENIED naming the host and the list', async () => {
    const plugin = await load('http_request', { allowedHosts: ['*.partner.example'] });
    assert.throws(() => plugin.call('request', request('https://collector.exfil.example/invoices')), {
      code: 'CAPABILITY_DENIED',
      message: /"collector\.exfil\.example".*allowed: \*\.partner\.example/,
    });
    plugin.close();
  });

  it('is denied by default', async () => {
    const plugin = await load('http_request');
    assert.throws(() => plugin.call('request', request('http://127.0.0.1:1/')), { code: 'CAPABILITY_DENIED', message: /none are allowed/ });
    assert.throws(() => plugin.call('request', 'not json'), { code: 'CAPABILITY_DENIED', message: /unparseable request/ });
    plugin.close();
  });
});
