import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { scratchDir, tenon } from './run-tenon.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const page = readFileSync(join(root, 'docs', 'cli.md'), 'utf8');
// each example is marked with the plug-in it runs against and how it ends
const examples = [...page.matchAll(/<!-- cases for (\S+): (all pass|(\d+) fail) -->\n```json\n([\s\S]*?)```/g)].map((m) => ({
  plugin: m[1]!,
  failures: m[3] === undefined ? 0 : Number(m[3]),
  cases: m[4]!,
}));

describe('docs/cli.md', () => {
  const dir = scratchDir('tenon-docs-');

  test('has its cases.json examples, each marked', () => {
    assert.equal(examples.length, 3);
  });

  for (const [i, example] of examples.entries()) {
    test(`example ${i + 1} (${example.plugin}) ends as the page says: ${example.failures} failing`, async () => {
      const path = join(dir(), `example-${i}.json`);
      await writeFile(path, example.cases);
      const result = await tenon(['test', join(root, example.plugin), '--cases', path]);
      assert.equal(result.stderr, '');
      assert.equal(result.status, example.failures === 0 ? 0 : 1, result.stdout);
      assert.match(result.stdout, new RegExp(`\\d+ passed, ${example.failures} failed\\n$`));
      // the page quotes the failure of the budget example: its sentence, with this run's numbers
      if (example.failures > 0) assert.match(result.stdout, /used (\d+) fuel, budget 50000\n/);
    });
  }
});
