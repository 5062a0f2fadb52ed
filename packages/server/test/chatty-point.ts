// A point whose plug-in (the platform's `chatty` fixture, built from WAT) logs its input at info, then
// "tick" at warn once per input byte, and answers the input: its records carry log lines.
import { readFileSync } from 'node:fs';

export const CHATTY_POINT = {
  name: 'logs.chatty',
  function: 'chatty',
  input: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
  output: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
  limits: { fuel: 1_000_000, timeoutMs: 1000, maxPages: 4, maxOutputBytes: 4096 },
  record: { sample: 1 },
};

export function chattyModule(): Buffer {
  return readFileSync(new URL('../../platform/test/fixtures/build/chatty.wasm', import.meta.url));
}
