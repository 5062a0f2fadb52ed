// README examples are tested: the fenced blocks of a language are pulled out and run as written, so
// a README cannot drift from the API it documents. A block fenced with an extra word (```ts signature)
// is left alone.
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The blocks fenced exactly as ```lang in a Markdown file, with the line each starts on. */
export async function fencedBlocks(markdown: URL, lang: string): Promise<{ line: number; code: string }[]> {
  const text = await readFile(markdown, 'utf8');
  const blocks: { line: number; code: string }[] = [];
  const fence = new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, 'gm');
  for (const m of text.matchAll(fence)) blocks.push({ line: text.slice(0, m.index).split('\n').length, code: m[1]! });
  return blocks;
}

/**
 * A scratch directory inside `parent` (so bare imports resolve to this repository's packages) holding
 * copies of `files`; removed by the returned `remove()`.
 */
export async function scratch(parent: URL, files: readonly string[]): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(parent.pathname, '.readme-'));
  for (const file of files) await copyFile(file, join(dir, basename(file)));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Run a TypeScript block as a module in `dir`; rejects with its output when it fails. */
export async function runTypeScript(dir: string, name: string, code: string): Promise<string> {
  const file = join(dir, `${name}.mts`);
  await writeFile(file, code);
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { cwd: dir, timeout: 60_000 });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`README block ${name} failed:\n${code}\n${stdout ?? ''}${stderr ?? ''}`);
  }
}
