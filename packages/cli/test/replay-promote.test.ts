import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createPlatform, OPERATOR, type Platform } from '@tenon/platform';
import { createServer } from '@tenon/server';
import type { FastifyInstance } from 'fastify';
import { tenon } from './run-tenon.js';

const fixture = (name: string) => readFileSync(new URL(`../../runtime/test/fixtures/build/${name}.wasm`, import.meta.url));
const OPERATOR_KEY = 'tok_cli_replay_test_0123456789';

const VOWELS = {
  name: 'text.vowels',
  function: 'count_vowels',
  input: { type: 'string' },
  output: { type: 'object', properties: { count: { type: 'integer' } }, required: ['count'] },
  limits: { fuel: 1_000_000, timeoutMs: 1000, maxPages: 16, maxOutputBytes: 4096 },
  record: { sample: 1 },
};

describe('tenon replay', () => {
  let platform: Platform;
  let app: FastifyInstance;
  let url: string;
  let candidate: string;
  let installation: string;
  before(async () => {
    platform = await createPlatform();
    await platform.ensureOperatorKey(OPERATOR_KEY);
    app = await createServer({ platform });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    await platform.extensionPoints.define(OPERATOR, VOWELS);
    const partner = await platform.partners.create(OPERATOR, { name: 'alice' });
    const plugin = await platform.plugins.create(OPERATOR, { name: 'vowels', extensionPoint: 'text.vowels', partnerId: partner.id });
    const v1 = await platform.versions.upload(OPERATOR, plugin.id, fixture('count_vowels'));
    await platform.installations.create(OPERATOR, { tenant: 'shop', plugin: plugin.id, version: v1.id });
    for (const text of ['aeiou', 'hello', 'xyz']) await platform.run(OPERATOR, 'text.vowels', { tenant: 'shop', key: text, input: text });
    await platform.flush();
    candidate = (await platform.versions.upload(OPERATOR, plugin.id, fixture('count_vowels_c'))).id;
    installation = (await platform.installations.list(OPERATOR))[0]?.id as string;
  });
  after(async () => {
    await app.close();
    await platform.close();
  });

  test('prints the totals and the verdict, and exits 0 when the gate passes', async () => {
    await platform.extensionPoints.define(OPERATOR, { ...VOWELS, gate: { maxFuelRatio: 1000 } });
    const result = await tenon(['replay', candidate, '--records', '2', '--server', url, '--key', OPERATOR_KEY]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /on 2 records \(the plug-in's other versions\)/);
    assert.match(result.stdout, /same 2, changed 0, newly failing 0, fixed 0, not replayable 0/);
    assert.match(result.stdout, /verdict: pass/);
  });

  test('exits 1 and says why when the gate fails', async () => {
    await platform.extensionPoints.define(OPERATOR, { ...VOWELS, gate: { maxFuelRatio: 0.001 } });
    const result = await tenon(['replay', candidate, '--server', url, '--key', OPERATOR_KEY, '--json']);
    assert.equal(result.status, 1, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.totals.records, 3);
    assert.match(report.verdict.reasons.join(), /fuel p99 is .* \(at most 0.001×\)/);
  });

  test("exits 2 on an unknown version, with the server's refusal", async () => {
    const result = await tenon(['replay', 'v_nope', '--server', url, '--key', OPERATOR_KEY]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /replay refused \(404 NOT_FOUND\)/);
  });

  test('tenon promote makes the candidate current; --rollback drops one; without a candidate it exits 2', async () => {
    await platform.rollouts.start(OPERATOR, installation, { version: candidate, override: true });
    const rolled = await tenon(['promote', installation, '--rollback', '--server', url, '--key', OPERATOR_KEY]);
    assert.equal(rolled.status, 0, rolled.stderr);
    assert.match(rolled.stdout, /rolled back/);
    assert.equal((await platform.installations.get(OPERATOR, installation)).candidate, null);
    await platform.rollouts.start(OPERATOR, installation, { version: candidate, override: true });
    const promoted = await tenon(['promote', installation, '--server', url, '--key', OPERATOR_KEY]);
    assert.equal(promoted.status, 0, promoted.stderr);
    assert.equal(promoted.stdout, `installation ${installation} promoted: runs ${candidate}\n`);
    const again = await tenon(['promote', installation, '--server', url, '--key', OPERATOR_KEY]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /promote refused \(409 CONFLICT\): Installation "in_\S+" has no candidate/);
  });
});
