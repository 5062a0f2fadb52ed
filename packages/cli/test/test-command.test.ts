import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fixture, tenon } from './run-tenon.js';

describe('tenon test', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tenon-test-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const casesFile = async (name: string, content: unknown): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };

  test('passes every case that holds and exits 0', async () => {
    const cases = await casesFile('pass.json', {
      cases: [
        { name: 'three vowels', function: 'count_vowels', input: 'Hello, World!', expect: { outputJson: { count: 3 } } },
        { function: 'count_vowels', inputBase64: Buffer.from('aaa').toString('base64'), expect: { output: '{"count":3}' } },
        {
          function: 'count_vowels',
          inputJson: 'oo',
          fuel: 100000,
          expect: { outputBase64: Buffer.from('{"count":2}').toString('base64') },
        },
        { name: 'no such function', function: 'nope', expect: { error: { code: 'FUNCTION_NOT_FOUND', message: 'count_vowels' } } },
      ],
    });
    const result = await tenon(['test', fixture('count_vowels'), '--cases', cases]);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /ok {4}three vowels \(fuel \d+\)/);
    assert.match(result.stdout, /ok {4}count_vowels #2/);
    assert.match(result.stdout, /4 passed, 0 failed/);
  });

  test('reads ./cases.json by default, runs only the cases --filter names, and says when none match', async () => {
    await casesFile('cases.json', {
      cases: [
        { name: 'three vowels', function: 'count_vowels', input: 'Hello, World!', expect: { outputJson: { count: 3 } } },
        { name: 'two vowels', function: 'count_vowels', input: 'oo', expect: { outputJson: { count: 2 } } },
      ],
    });
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const all = await tenon(['test', fixture('count_vowels')]);
      assert.equal(all.status, 0, all.stdout + all.stderr);
      assert.match(all.stdout, /2 passed, 0 failed/);
      const some = await tenon(['test', fixture('count_vowels'), '--filter', 'two']);
      assert.match(some.stdout, /: 1 case\n {2}ok {4}two vowels[^\n]*\n1 passed, 0 failed\n$/);
      const none = await tenon(['test', fixture('count_vowels'), '--filter', 'five']);
      assert.equal(none.status, 2);
      assert.match(none.stderr, /^tenon: no case of "cases\.json" has "five" in its name\n$/);
    } finally {
      process.chdir(cwd);
    }
  });

  test('--reporter json and junit report every case for CI, failures with their problem', async () => {
    const cases = await casesFile('report.json', {
      cases: [
        { name: 'three vowels', function: 'count_vowels', input: 'Hello, World!', expect: { outputJson: { count: 3 } } },
        { name: 'wrong <count>', function: 'count_vowels', input: 'Hello', expect: { outputJson: { count: 5 } } },
      ],
    });
    const json = await tenon(['test', fixture('count_vowels'), '--cases', cases, '--reporter', 'json']);
    assert.equal(json.status, 1);
    const report = JSON.parse(json.stdout) as {
      passed: number;
      failed: number;
      cases: { name: string; passed: boolean; problem?: string }[];
    };
    assert.equal(report.passed, 1);
    assert.equal(report.failed, 1);
    assert.deepEqual(
      report.cases.map((c) => [c.name, c.passed, c.problem]),
      [
        ['three vowels', true, undefined],
        ['wrong <count>', false, 'the output JSON differs'],
      ],
    );
    const xml = await tenon(['test', fixture('count_vowels'), '--cases', cases, '--reporter', 'junit']);
    assert.equal(xml.status, 1);
    assert.match(xml.stdout, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites tests="2" failures="1">/);
    assert.match(xml.stdout, /<testcase name="three vowels" classname="[^"]+count_vowels\.wasm" \/>/);
    assert.match(
      xml.stdout,
      /<testcase name="wrong &lt;count&gt;"[^>]*>\n {6}<failure message="the output JSON differs">[^<]*&quot;count&quot;: 5/,
    );
  });

  test('reports a failing case with a diff of expected and actual, and exits 1', async () => {
    const cases = await casesFile('fail.json', {
      cases: [
        { name: 'wrong count', function: 'count_vowels', input: 'Hello', expect: { outputJson: { count: 5 } } },
        { name: 'expects an error', function: 'count_vowels', input: 'Hello', expect: { error: true } },
        { name: 'runs out of fuel', function: 'count_vowels', input: 'a'.repeat(10_000), fuel: 100, expect: { output: 'x' } },
        { name: 'wrong code', function: 'nope', expect: { error: { code: 'TRAP' } } },
      ],
    });
    const result = await tenon(['test', fixture('count_vowels'), '--cases', cases]);
    assert.equal(result.status, 1);
    assert.match(
      result.stdout,
      /FAIL {2}wrong count[^\n]*\n\s+the output JSON differs\n\s+- expected {2}\+ actual\n\s+\{\n\s+- {3}"count": 5\n\s+\+ {3}"count": 2\n/,
    );
    assert.match(result.stdout, /FAIL {2}expects an error[^\n]*\n\s+expected the call to fail, but it succeeded\n\s+actual: \{"count":2\}/);
    assert.match(result.stdout, /FAIL {2}runs out of fuel[^\n]*\n\s+the call failed: FUEL_EXHAUSTED/);
    assert.match(
      result.stdout,
      /FAIL {2}wrong code[^\n]*\n\s+the call failed with another error code\n\s+- expected[^\n]*\n\s+- TRAP\n\s+\+ FUNCTION_NOT_FOUND/,
    );
    assert.match(result.stdout, /0 passed, 4 failed/);
  });

  test('a call that fails when it should not shows the output the plug-in set before failing', async () => {
    const cases = await casesFile('diagnostics.json', {
      cases: [
        { name: 'with output', function: 'rc2_with_output', expect: { output: 'fine' } },
        { name: 'without output', function: 'rc1_bare', expect: { output: 'fine' } },
      ],
    });
    const result = await tenon(['test', fixture('fail_output'), '--cases', cases]);
    assert.equal(result.status, 1);
    assert.match(
      result.stdout,
      /FAIL {2}with output[^\n]*\n\s+the call failed: PLUGIN_FAILED: [^\n]*code 2\n\s+actual: line 3: price is not a number\n/,
    );
    assert.match(result.stdout, /FAIL {2}without output[^\n]*\n\s+the call failed: PLUGIN_FAILED: [^\n]*code 1\n0 passed, 2 failed\n$/);
  });

  test('config, WASI and time limits reach the plug-in', async () => {
    const config = await casesFile('options.json', {
      cases: [
        { function: 'config', input: 'greeting', config: { greeting: 'hi' }, expect: { output: 'hi' } },
        { function: 'config', input: 'greeting', expect: { output: '' } },
      ],
    });
    const configRun = await tenon(['test', fixture('config_var'), '--cases', config]);
    assert.equal(configRun.status, 0, configRun.stdout);
    assert.match(configRun.stdout, /2 passed, 0 failed/);

    const wasi = await casesFile('wasi.json', {
      cases: [
        { name: 'with WASI', function: 'open_file', wasi: true, expect: { output: 'denied' } },
        { name: 'without WASI', function: 'open_file', expect: { error: { code: 'LINK_FAILED', message: 'wasi_snapshot_preview1' } } },
        // a 5 s sleep under a 50 ms deadline: only the case's timeoutMs can end it early
        {
          name: 'past its deadline',
          function: 'nap',
          input: '5000',
          wasi: true,
          timeoutMs: 50,
          expect: { error: { code: 'TIMEOUT', message: '50 ms' } },
        },
      ],
    });
    const wasiRun = await tenon(['test', fixture('hello_wasi'), '--cases', wasi]);
    assert.equal(wasiRun.status, 0, wasiRun.stdout + wasiRun.stderr);
    assert.match(wasiRun.stdout, /ok {4}with WASI/);
    assert.match(wasiRun.stdout, /ok {4}without WASI/);
    assert.match(wasiRun.stdout, /ok {4}past its deadline/);
    assert.match(wasiRun.stdout, /3 passed, 0 failed/);
  });

  test('host functions come from the module the cases file names', async () => {
    await writeFile(
      join(dir, 'host.mjs'),
      `export const functions = [{ name: 'reflect', results: ['ptr'], call: (cx, p) => cx.write(cx.text(p).toUpperCase()) }, { name: 'add_i64', call: (_cx, a, b) => a + b }];\n`,
    );
    const cases = await casesFile('host.json', {
      hostFunctions: './host.mjs',
      cases: [{ function: 'reflect', input: 'shout', expect: { output: 'SHOUT' } }],
    });
    const result = await tenon(['test', fixture('host_call'), '--cases', cases]);
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });

  test('a cases file that breaks the schema is refused with every problem, exit 2', async () => {
    const cases = await casesFile('bad.json', {
      cases: [{ function: 'count_vowels', input: 'x', inputJson: 1, expect: { output: 'a', error: true } }, { expect: {} }],
    });
    const result = await tenon(['test', fixture('count_vowels'), '--cases', cases]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /is not a valid cases file/);
    assert.match(result.stderr, /`expect` of case 1 needs exactly one of `output`, `outputJson`, `outputBase64` or `error`/);
    assert.match(result.stderr, /case 2 has no `function` \(give `function` and `expect`, or `calls`\)/);

    const doubled = await casesFile('doubled.json', { cases: [{ function: 'f', input: 'x', inputJson: 1, expect: { error: true } }] });
    assert.match(
      (await tenon(['test', fixture('count_vowels'), '--cases', doubled])).stderr,
      /case 1 gives its input twice \(`input`, `inputJson`\); keep one/,
    );
  });

  test('unreadable cases, a missing plug-in and a bad host module exit 2 with the reason', async () => {
    const notJson = await casesFile('not.json', '{ nope');
    assert.match((await tenon(['test', fixture('count_vowels'), '--cases', notJson])).stderr, /Cannot read cases from .*not\.json/);
    const missing = await tenon(['test', join(dir, 'missing.wasm'), '--cases', notJson]);
    assert.deepEqual([missing.status, /cannot read .*missing\.wasm/.test(missing.stderr)], [2, true]);
    await writeFile(join(dir, 'nothing.mjs'), 'export const other = 1;\n');
    const noFunctions = await casesFile('nothing.json', {
      hostFunctions: './nothing.mjs',
      cases: [{ function: 'f', expect: { error: true } }],
    });
    const result = await tenon(['test', fixture('count_vowels'), '--cases', noFunctions]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /must export its host functions as an array named `functions`/);
  });

  test('a plug-in missing an import the host does not provide is named, with what to do', async () => {
    const cases = await casesFile('link.json', { cases: [{ function: 'reflect', expect: { output: '' } }] });
    const result = await tenon(['test', fixture('host_call'), '--cases', cases]);
    assert.equal(result.status, 1);
    assert.match(
      result.stdout,
      /LINK_FAILED: Cannot link the plug-in: 2 imports not provided\n\s+extism:host\/user reflect \(function\): declare a host function/,
    );
  });
});
