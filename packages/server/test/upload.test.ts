import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fixture, refusal, type World, world } from './world.js';

const MB = 1024 * 1024;

/** 100 MB produced lazily in 64 KiB chunks; `produced` says how much was pulled. */
function hundredMegabytes(): { stream: Readable; produced: () => number } {
  let produced = 0;
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const stream = new Readable({
    read() {
      if (produced >= 100 * MB) this.push(null);
      else {
        produced += chunk.length;
        this.push(chunk);
      }
    },
  });
  return { stream, produced: () => produced };
}

describe('module uploads', () => {
  let w: World;
  let url: string;
  before(async () => {
    w = await world();
    url = `/v1/plugins/${w.alice.plugin}/versions`;
  });
  after(() => w.close());

  it('a 100 MB chunked upload is refused with 413 MODULE_TOO_LARGE after reading little more than the cap', async () => {
    const { stream, produced } = hundredMegabytes();
    const response = await w.call({ method: 'POST', url, payload: stream, headers: { 'content-type': 'application/wasm' } }, w.alice.key);
    assert.equal(response.statusCode, 413);
    assert.deepEqual(refusal(response).code, 'MODULE_TOO_LARGE');
    assert.match(refusal(response).message, /maxModuleBytes \(65536\)/);
    assert.equal(response.headers.connection, 'close');
    // The cap is 64 KiB: what was read is the cap, the crossing chunk and the stream's read-ahead, never 100 MB.
    assert.ok(produced() < 2 * MB, `read ${produced()} bytes`);
    stream.destroy();
  });

  it('an upload that declares a Content-Length past the cap is refused before its body is read', async () => {
    const response = await w.call(
      { method: 'POST', url, payload: Buffer.alloc(70_000), headers: { 'content-type': 'application/wasm' } },
      w.alice.key,
    );
    assert.equal(response.statusCode, 413);
    assert.match(refusal(response).message, /module is 70000 bytes, past the extension point's maxModuleBytes \(65536\)/);
  });

  it('a 100 MB upload over a real socket gets its 413 answer', async () => {
    // Its own world: a listening server is closed with it.
    const s = await world();
    const address = await s.app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const port = Number(new URL(address).port);
      const { stream, produced } = hundredMegabytes();
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = httpRequest(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: `/v1/plugins/${s.alice.plugin}/versions`,
            headers: { authorization: `Bearer ${s.alice.key}`, 'content-type': 'application/wasm' },
          },
          (response) => {
            let body = '';
            response.setEncoding('utf8');
            response.on('data', (text: string) => {
              body += text;
            });
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
            stream.unpipe(request);
            stream.destroy();
          },
        );
        // The server closes the connection after answering: writes past that point may fail, the answer stands.
        request.on('error', (error) =>
          error.message.includes('EPIPE') || error.message.includes('ECONNRESET') ? undefined : reject(error),
        );
        stream.pipe(request);
      });
      assert.equal(answer.status, 413);
      assert.equal(JSON.parse(answer.body).error.code, 'MODULE_TOO_LARGE');
      assert.ok(produced() < 100 * MB, `the whole 100 MB went out (${produced()} bytes)`);
    } finally {
      await s.close();
    }
  });

  it('an empty upload is refused with 400 BODY_INVALID', async () => {
    const response = await w.call(
      { method: 'POST', url, payload: Buffer.alloc(0), headers: { 'content-type': 'application/wasm' } },
      w.alice.key,
    );
    assert.equal(response.statusCode, 400);
    assert.match(refusal(response).message, /body is empty/);
  });

  it('a module sent as JSON is refused with 415 UNSUPPORTED_MEDIA_TYPE or 400, coded', async () => {
    const response = await w.call({ method: 'POST', url, payload: { module: 'AGFzbQ==' } }, w.alice.key);
    assert.ok([400, 415].includes(response.statusCode), response.body);
    assert.ok(['UNSUPPORTED_MEDIA_TYPE', 'BODY_INVALID'].includes(refusal(response).code));
  });

  it('a module that imports what the point does not offer is kept as rejected, with its report', async () => {
    const response = await w.call(
      { method: 'POST', url, payload: fixture('missing_import'), headers: { 'content-type': 'application/wasm' } },
      w.alice.key,
    );
    assert.equal(response.statusCode, 201, response.body);
    const version = response.json();
    assert.equal(version.status, 'rejected');
    const failed = version.report.checks.filter((check: { ok: boolean }) => !check.ok);
    assert.ok(failed.length > 0, JSON.stringify(version.report));
    const listed = await w.call({ method: 'GET', url: `${url}/${version.id}` }, w.alice.key);
    assert.equal(listed.json().status, 'rejected');
  });

  it('the same bytes uploaded twice are the same version', async () => {
    const again = await w.call(
      { method: 'POST', url, payload: fixture('count_vowels'), headers: { 'content-type': 'application/wasm' } },
      w.alice.key,
    );
    assert.equal(again.json().id, w.alice.version);
    assert.equal(again.json().report.simulations.length, 2);
    for (const simulation of again.json().report.simulations) assert.ok(simulation.fuel > 0 && simulation.fuel <= simulation.budget);
  });
});
