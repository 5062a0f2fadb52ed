import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { scratchDir, tenon } from './run-tenon.js';

const countVowels = fileURLToPath(new URL('../../runtime/test/fixtures/build/count_vowels.wasm', import.meta.url));

describe('tenon test: a cases file that breaks the schema', () => {
  const dir = scratchDir('tenon-schema-');

  /** The problems `tenon test` lists for these cases, one per line, after checking it refused them with exit 2. */
  const problems = async (cases: unknown): Promise<string[]> => {
    const path = join(dir(), `cases-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(path, JSON.stringify(cases));
    const result = await tenon(['test', countVowels, '--cases', path]);
    assert.equal(result.status, 2, result.stdout + result.stderr);
    assert.equal(result.stdout, '');
    const [head, ...lines] = result.stderr.trimEnd().split('\n');
    assert.equal(head, `tenon: "${path}" is not a valid cases file:`);
    return lines.map((line) => line.trim());
  };

  test('a misspelt key is named with its case, and the key meant is suggested; nothing else is reported for it', async () => {
    assert.deepEqual(
      await problems({
        cases: [
          { function: 'count_vowels', input: 'a', expect: { output: '1' } },
          { function: 'count_vowels', input: 'a', exepct: { output: '1' } },
        ],
      }),
      ['unknown key `exepct` in case 2; did you mean `expect`?'],
    );
  });

  test('misspellings deeper down name their place: the top level, a call, an expectation, an HTTP answer', async () => {
    assert.deepEqual(
      await problems({
        case: [],
        cases: [
          {
            name: 'two calls',
            maxFule: 10,
            calls: [{ function: 'f', inptu: 'x', expect: { outptu: 'y' } }],
            http: { 'GET https://a.example/x': { stauts: 200 } },
          },
          { function: 'f', expect: { error: { cod: 'TRAP' } } },
        ],
      }),
      [
        'unknown key `case` at the top level; did you mean `cases`?',
        'unknown key `maxFule` in case 1 ("two calls"); did you mean `maxFuel`?',
        'unknown key `stauts` in `http.GET https://a.example/x` of case 1 ("two calls"); did you mean `status`?',
        'unknown key `inptu` in case 1 ("two calls"), call 1; did you mean `input`?',
        'unknown key `outptu` in `expect` of case 1 ("two calls"), call 1; did you mean `output`?',
        'unknown key `cod` in `expect.error` of case 2; did you mean `code`?',
      ],
    );
  });

  test('a key like no known one lists the known keys instead of guessing', async () => {
    const [problem] = await problems({ cases: [{ function: 'f', expect: { error: true }, zzzzzzzz: 1 }] });
    assert.match(problem!, /^unknown key `zzzzzzzz` in case 1 \(known keys: `name`, `function`, .*`calls`, `expect`\)$/);
  });

  test('wrong types, a bad HTTP key, calls beside function, and a case with neither are each one sentence', async () => {
    assert.deepEqual(
      await problems({
        cases: [
          { function: 'f', fuel: 'lots', expect: { error: 5 } },
          { function: 'f', expect: { output: 'x' }, calls: [{ function: 'g', expect: { output: 'y' } }] },
          { name: 'lost', input: 'x' },
          {
            function: 'f',
            http: { 'get https://a.example/x': { body: 'x' }, 'GET https://a.example/y': { body: 'y', bodyJson: 1 } },
            expect: { output: 'x' },
          },
        ],
      }),
      [
        '`fuel` of case 1 must be integer',
        '`expect.error` of case 1 must be true, a message fragment or {"code", "message"}',
        '`get https://a.example/x` in `http` of case 4 is not "METHOD URL" (such as "GET https://api.example.com/x")',
        'case 2 gives `calls` and `function`, `expect`: with calls, each call names its function, input and expect',
        'case 3 ("lost") has no `function` (give `function` and `expect`, or `calls`)',
        'case 3 ("lost") has no `expect` (give `function` and `expect`, or `calls`)',
        'the answer to "GET https://a.example/y" in case 4 gives `body` and `bodyJson`; keep one',
      ],
    );
  });

  test('a file with no cases, or not an object, is refused', async () => {
    assert.deepEqual(await problems({ cases: [] }), ['`cases` must NOT have fewer than 1 items']);
    assert.deepEqual(await problems([1]), ['the file must be object']);
  });
});
