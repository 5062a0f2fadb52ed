import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { main } from '../src/main.js';

/** Run `tenon ...args` in process; resolves to its exit status and what it wrote. */
export async function tenon(args: string[], stdin = ''): Promise<{ status: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk));
  stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const status = await main(args, { stdout, stderr, stdin: Readable.from([Buffer.from(stdin)]) });
  return { status, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

/** The path of a test plug-in the runtime's fixtures build (packages/runtime/test/fixtures/build/<name>.wasm). */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../../runtime/test/fixtures/build/${name}.wasm`, import.meta.url));
}

/** A temporary directory for the tests of the enclosing describe(), made before them and removed after. */
export function scratchDir(prefix: string): () => string {
  let dir: string | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  return () => dir!;
}
