import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fencedBlocks, runTypeScript, scratch } from './readme-blocks.js';

const README = new URL('../README.md', import.meta.url);
const blocks = await fencedBlocks(README, 'ts');
const plugins = ['count_vowels', 'host_call'].map((name) => fileURLToPath(new URL(`fixtures/build/${name}.wasm`, import.meta.url)));

describe('packages/runtime/README.md', () => {
  let dir: { dir: string; remove(): Promise<void> };
  before(async () => {
    dir = await scratch(new URL('.', import.meta.url), plugins);
  });
  after(() => dir.remove());

  test('has examples', () => assert.ok(blocks.length >= 5, `${blocks.length} ts blocks`));
  for (const { line, code } of blocks) {
    test(`the example at line ${line} runs`, { timeout: 60_000 }, async () => {
      await runTypeScript(dir.dir, `line-${line}`, code);
    });
  }
});
