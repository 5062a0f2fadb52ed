import { PassThrough, Readable } from 'node:stream';
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
