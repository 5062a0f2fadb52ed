import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fixture, scratchDir, tenon } from './run-tenon.js';

const greetingCounter = fileURLToPath(new URL('../../../examples/plugins/greeting-counter/build/plugin.wasm', import.meta.url));

describe('tenon test: budgets, several calls, HTTP answers', () => {
  const dir = scratchDir('tenon-cases-');

  const run = async (plugin: string, cases: unknown): Promise<{ status: number; stdout: string; stderr: string }> => {
    const path = join(dir(), `cases-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(path, JSON.stringify(cases));
    return tenon(['test', plugin, '--cases', path]);
  };

  test('maxFuel fails a case that uses more, with "used N fuel, budget M", and passes one within it', async () => {
    const result = await run(fixture('count_vowels'), {
      cases: [
        { name: 'within', function: 'count_vowels', input: 'Hello', maxFuel: 1_000_000, expect: { outputJson: { count: 2 } } },
        { name: 'over', function: 'count_vowels', input: 'a'.repeat(1000), maxFuel: 500, expect: { outputJson: { count: 1000 } } },
      ],
    });
    assert.equal(result.status, 1, result.stdout);
    assert.match(result.stdout, /ok {4}within \(fuel \d+\)/);
    const over = /FAIL {2}over \(fuel (\d+)\)\n\s+used (\d+) fuel, budget 500\n/.exec(result.stdout);
    assert.ok(over, result.stdout);
    assert.equal(over[1], over[2]);
    assert.ok(Number(over[2]) > 500);
    assert.match(result.stdout, /1 passed, 1 failed/);
  });

  test('calls run in order on one instance, so vars persist from one call to the next', async () => {
    const result = await run(greetingCounter, {
      cases: [
        {
          name: 'counts and remembers',
          config: { greeting: 'Hi' },
          calls: [
            { function: 'last', expect: { error: 'nobody has been greeted yet' } },
            { function: 'greet', input: 'Ada', expect: { output: 'Hi, Ada! (call 1)' } },
            { function: 'greet', input: 'Grace', expect: { output: 'Hi, Grace! (call 2)' } },
            { function: 'last', expect: { output: 'Grace' } },
            { function: 'reset', expect: { output: '' } },
            { function: 'greet', input: 'Alan', maxFuel: 1_000_000, expect: { output: 'Hi, Alan! (call 1)' } },
          ],
        },
        // each case has its instance: the count starts again
        { name: 'a new case, a new instance', calls: [{ function: 'greet', input: 'Ada', expect: { output: 'Hello, Ada! (call 1)' } }] },
      ],
    });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /ok {4}counts and remembers \(fuel \d+\)/);
    assert.match(result.stdout, /2 passed, 0 failed/);
  });

  test('a failing call of several names its place and function, and the calls after it do not run', async () => {
    const result = await run(greetingCounter, {
      cases: [
        {
          name: 'wrong count',
          calls: [
            { function: 'greet', input: 'Ada', expect: { output: 'Hello, Ada! (call 1)' } },
            { name: 'second greeting', function: 'greet', input: 'Ada', expect: { output: 'Hello, Ada! (call 1)' } },
            { function: 'greet', input: '', expect: { output: 'never judged' } },
          ],
        },
        { name: 'over budget', maxFuel: 10, calls: [{ function: 'greet', input: 'Ada', expect: { output: 'Hello, Ada! (call 1)' } }] },
      ],
    });
    assert.equal(result.status, 1);
    assert.match(
      result.stdout,
      /FAIL {2}wrong count[^\n]*\n\s+call 2 \(second greeting\): the output differs\n\s+- expected {2}\+ actual\n\s+- Hello, Ada! \(call 1\)\n\s+\+ Hello, Ada! \(call 2\)\n/,
    );
    assert.doesNotMatch(result.stdout, /never judged/);
    assert.match(result.stdout, /FAIL {2}over budget[^\n]*\n\s+call 1 \(greet\): used \d+ fuel, budget 10\n/);
  });

  test('http answers a request by "METHOD URL" without the network; the allow-list still applies first', async () => {
    const request = (url: string): string => JSON.stringify({ method: 'GET', url, headers: {} });
    const result = await run(fixture('http_request'), {
      cases: [
        {
          name: 'answered',
          function: 'request',
          input: request('https://api.example.com/rates?base=EUR'),
          allowedHosts: ['api.example.com'],
          http: { 'GET https://api.example.com/rates?base=EUR': { bodyJson: { usd: 1.08 } } },
          expect: { outputJson: { usd: 1.08 } },
        },
        {
          name: 'headers come back lower-cased',
          function: 'headers',
          input: request('https://api.example.com/x'),
          allowedHosts: ['*.example.com'],
          http: { 'GET https://api.example.com/x': { status: 201, headers: { 'X-Rate': '7' }, body: '' } },
          expect: { outputJson: { 'x-rate': '7' } },
        },
        {
          name: 'a request with no answer fails',
          function: 'request',
          input: request('https://api.example.com/other'),
          allowedHosts: ['api.example.com'],
          http: { 'GET https://api.example.com/x': { body: 'x' } },
          expect: { error: { code: 'HTTP_FAILED', message: 'cases.json has no answer for "GET https://api.example.com/other"' } },
        },
        {
          name: 'a host outside allowedHosts is denied though answered',
          function: 'request',
          input: request('https://evil.example.org/x'),
          allowedHosts: ['api.example.com'],
          http: { 'GET https://evil.example.org/x': { body: 'x' } },
          expect: { error: { code: 'CAPABILITY_DENIED' } },
        },
      ],
    });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /4 passed, 0 failed/);
  });
});
