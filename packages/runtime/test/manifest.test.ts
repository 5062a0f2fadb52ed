import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManifestError, parseManifest } from '../src/index.js';
import { mainModuleIndex } from '../src/manifest.js';

const wasm = [{ data: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]) }];

describe('manifest', () => {
  test('Extism’s snake_case JSON and camelCase give the same manifest', () => {
    const snake = parseManifest({
      wasm: [{ path: 'a.wasm', hash: 'A'.repeat(64), name: 'main' }],
      memory: { max_pages: 4, max_http_response_bytes: 100, max_var_bytes: 10 },
      config: { k: 'v' },
      allowed_hosts: ['*.example.com'],
      allowed_paths: { 'ro:/data': '/data' },
      timeout_ms: 200,
    });
    const camel = parseManifest({
      wasm: [{ path: 'a.wasm', hash: 'a'.repeat(64), name: 'main' }],
      memory: { maxPages: 4, maxHttpResponseBytes: 100, maxVarBytes: 10 },
      config: { k: 'v' },
      allowedHosts: ['*.example.com'],
      allowedPaths: { 'ro:/data': '/data' },
      timeoutMs: 200,
    });
    assert.deepEqual(snake, camel);
    assert.equal(snake.wasm[0]?.hash, 'a'.repeat(64), 'hashes are normalized to lower case');
  });

  test('JSON text is accepted, and the input object is not modified', () => {
    const input = { wasm: [{ url: 'https://example.com/p.wasm', method: 'get' }], allowed_hosts: null };
    const copy = structuredClone(input);
    assert.deepEqual(parseManifest(JSON.stringify(input)), {
      wasm: [{ url: 'https://example.com/p.wasm', method: 'GET' }],
      allowedHosts: null,
    });
    assert.deepEqual(input, copy);
  });

  const invalid: [string, unknown, string, RegExp][] = [
    ['not JSON', '{nope', 'manifest', /not valid JSON/],
    ['not an object', [1], 'manifest', /must be an object/],
    ['no wasm', {}, 'wasm', /required/],
    ['wasm not an array', { wasm: {} }, 'wasm', /must be an array/],
    ['empty wasm', { wasm: [] }, 'wasm', /at least one module/],
    ['a source with no kind', { wasm: [{ name: 'x' }] }, 'wasm[0]', /needs one of data, path, url or module/],
    ['a source with two kinds', { wasm: [{ path: 'a', url: 'https://x/y' }] }, 'wasm[0]', /has path and url/],
    ['an unknown source field', { wasm: [{ path: 'a', sha: 'x' }] }, 'wasm[0].sha', /not a field of a wasm source/],
    ['bad base64', { wasm: [{ data: 'not base64!' }] }, 'wasm[0].data', /not base64/],
    ['a C API pointer', { wasm: [{ data: { ptr: 1, len: 2 } }] }, 'wasm[0].data', /only the Extism C API/],
    ['a short hash', { wasm: [{ path: 'a', hash: 'abc' }] }, 'wasm[0].hash', /64 hex digits/],
    [
      'a hash on a module',
      { wasm: [{ module: new WebAssembly.Module(wasm[0]!.data), hash: 'a'.repeat(64) }] },
      'wasm[0].hash',
      /compiled module/,
    ],
    ['an ftp url', { wasm: [{ url: 'ftp://x/y.wasm' }] }, 'wasm[0].url', /http or https/],
    ['a relative url', { wasm: [{ url: 'y.wasm' }] }, 'wasm[0].url', /not a URL/],
    [
      'duplicate names',
      {
        wasm: [
          { path: 'a', name: 'x' },
          { path: 'b', name: 'x' },
        ],
      },
      'wasm[1].name',
      /already the name of wasm\[0\]/,
    ],
    ['two unnamed modules', { wasm: [{ path: 'a' }, { path: 'b' }] }, 'wasm[1].name', /unnamed/],
    ['negative max_pages', { wasm, memory: { max_pages: -1 } }, 'memory.max_pages', /integer from 0 to 65536/],
    ['fractional maxPages', { wasm, memory: { maxPages: 1.5 } }, 'memory.maxPages', /integer/],
    ['too many pages', { wasm, memory: { maxPages: 65537 } }, 'memory.maxPages', /65536/],
    ['a string maxVarBytes', { wasm, memory: { maxVarBytes: '1' } }, 'memory.maxVarBytes', /integer/],
    ['an unknown memory key', { wasm, memory: { max_page: 1 } }, 'memory.max_page', /did you mean "max_pages"/],
    ['a number config value', { wasm, config: { a: 1 } }, 'config.a', /must be a string/],
    ['a number in allowed_hosts', { wasm, allowed_hosts: ['a', 2] }, 'allowed_hosts[1]', /must be a string/],
    ['allowed_paths as an array', { wasm, allowed_paths: ['/a'] }, 'allowed_paths', /must be an object/],
    ['a negative timeout', { wasm, timeout_ms: -5 }, 'timeout_ms', /non-negative number/],
    ['an unknown top-level key', { wasm, maxpages: 3 }, 'maxpages', /not a known field/],
    ['a misspelled key', { wasm, allowedhosts: [] }, 'allowedhosts', /did you mean "allowed_hosts"/],
    ['a key spelled twice', { wasm, timeoutMs: 1, timeout_ms: 2 }, 'timeout_ms', /given twice/],
  ];
  for (const [what, input, field, message] of invalid) {
    test(`${what} is a ManifestError naming ${field}`, () => {
      assert.throws(
        () => parseManifest(input),
        (error) => {
          assert.ok(error instanceof ManifestError);
          assert.equal(error.code, 'MANIFEST_INVALID');
          assert.equal(error.field, field);
          assert.match(error.message, message);
          assert.ok(error.message.startsWith(`${field}: `));
          return true;
        },
      );
    });
  }

  test('every problem of a manifest is listed in one MANIFEST_INVALID error, the first as its field', () => {
    const input = {
      wasm: [{ path: '', hash: 'abc' }, { url: 'ftp://x/y.wasm' }],
      memory: { max_pages: -1, max_var_byte: 2 },
      config: { a: 1, b: 'ok' },
      allowed_hosts: ['a', 2],
      timeout_ms: 'soon',
      allowedhosts: [],
    };
    assert.throws(
      () => parseManifest(input),
      (error) => {
        assert.ok(error instanceof ManifestError);
        assert.equal(error.code, 'MANIFEST_INVALID');
        assert.deepEqual(
          error.problems.map((p) => p.field),
          [
            'allowedhosts',
            'wasm[0].path',
            'wasm[0].hash',
            'wasm[1].url',
            'memory.max_var_byte',
            'memory.max_pages',
            'config.a',
            'allowed_hosts[1]',
            'timeout_ms',
          ],
        );
        assert.equal(error.field, 'allowedhosts');
        assert.match(error.message, /^9 problems in the manifest: allowedhosts: is not a known field/);
        assert.match(error.message, /memory\.max_var_byte: is not a known field \(did you mean "max_var_bytes"\?\)/);
        assert.match(error.message, /; timeout_ms: must be a non-negative number/);
        assert.deepEqual(error.toJSON().problems, error.problems);
        return true;
      },
    );
  });

  test('a manifest with one problem keeps the one-field message', () => {
    assert.throws(
      () => parseManifest({ wasm: [{ path: 'a' }], timeout_ms: -1 }),
      (error) => {
        assert.ok(error instanceof ManifestError);
        assert.deepEqual(error.problems, [
          { field: 'timeout_ms', message: 'must be a non-negative number of milliseconds or null, got number -1' },
        ]);
        assert.equal(error.message, 'timeout_ms: must be a non-negative number of milliseconds or null, got number -1');
        return true;
      },
    );
  });

  test('the main module is the only one, else the one named main, else the last', () => {
    assert.equal(mainModuleIndex(parseManifest({ wasm: [{ path: 'a', name: 'lib' }] })), 0);
    assert.equal(
      mainModuleIndex(
        parseManifest({
          wasm: [
            { path: 'a', name: 'main' },
            { path: 'b', name: 'lib' },
          ],
        }),
      ),
      0,
    );
    assert.equal(
      mainModuleIndex(
        parseManifest({
          wasm: [
            { path: 'a', name: 'lib' },
            { path: 'b', name: 'app' },
          ],
        }),
      ),
      1,
    );
  });
});
