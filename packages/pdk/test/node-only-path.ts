import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, realpathSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * A PATH that holds only node, npm and sh (symlinks in a fresh directory), the way a machine with
 * Node alone looks: node's own directory is no good, since clang often sits beside node in /usr/bin.
 * Fails when clang can still be found through it, so a test that builds with it proves something.
 */
export function nodeOnlyPath(): string {
  const bin = mkdtempSync(join(tmpdir(), 'tenon-node-only-'));
  symlinkSync(process.execPath, join(bin, 'node'));
  symlinkSync(realpathSync(which('npm')), join(bin, 'npm'));
  symlinkSync(which('sh'), join(bin, 'sh'));
  for (const tool of ['clang', 'wasm-ld', 'cc']) {
    try {
      execFileSync(join(bin, 'sh'), ['-c', `command -v ${tool}`], { env: { PATH: bin }, stdio: 'pipe' });
    } catch {
      continue;
    }
    throw new Error(`${tool} is still on the PATH "${bin}"`);
  }
  return bin;
}

function which(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {}
  }
  throw new Error(`"${name}" is not on the PATH`);
}
