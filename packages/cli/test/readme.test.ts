import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { fencedBlocks, runTypeScript, scratch } from '../../runtime/test/readme-blocks.js';

const run = promisify(execFile);
const README = new URL('../README.md', import.meta.url);
const BIN = fileURLToPath(new URL('../bin/tenon.js', import.meta.url));
const PLUGIN = fileURLToPath(new URL('../../runtime/test/fixtures/build/count_vowels.wasm', import.meta.url));

/** `tenon ...   # → text` or `# exit N`: the command, and what it must print or exit with. */
function commands(block: string): { command: string; output?: string; exit: number }[] {
  return block
    .split('\n')
    .filter((line) => line.startsWith('tenon '))
    .map((line) => {
      const [command, comment = ''] = line.split(/\s+#\s*/, 2) as [string, string?];
      const output = /^→ (.*)$/.exec(comment)?.[1];
      const exit = Number(/^exit (\d+)$/.exec(comment)?.[1] ?? 0);
      return { command, exit, ...(output !== undefined && { output }) };
    });
}

describe('packages/cli/README.md', async () => {
  const shell = (await fencedBlocks(README, 'sh')).flatMap(({ code }) => commands(code));
  const [cases] = await fencedBlocks(README, 'json');
  const scripts = await fencedBlocks(README, 'ts');
  let dir: { dir: string; remove(): Promise<void> };
  before(async () => {
    dir = await scratch(new URL('.', import.meta.url), [PLUGIN]);
    await writeFile(join(dir.dir, 'cases.json'), cases!.code);
  });
  after(() => dir.remove());

  test('has shell examples, a cases file and a script', () => {
    assert.ok(shell.length >= 4 && cases !== undefined && scripts.length >= 1);
  });
  for (const { command, output, exit } of shell) {
    test(`${command} ${output === undefined ? `exits ${exit}` : `prints ${output}`}`, async () => {
      const result = await run('sh', ['-c', `tenon() { "${process.execPath}" "${BIN}" "$@"; }; ${command}`], { cwd: dir.dir }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
      assert.equal(result.code, exit, result.stderr);
      if (output !== undefined) assert.ok(result.stdout.includes(output), `stdout: ${result.stdout}`);
    });
  }
  for (const { line, code } of scripts) {
    test(`the script at line ${line} runs`, { timeout: 60_000 }, async () => {
      await runTypeScript(dir.dir, `line-${line}`, code);
    });
  }
});
