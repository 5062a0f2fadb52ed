// A point whose plug-in (the platform's `lookup` fixture, built from WAT) asks the host's `lookup`
// once a run, so its recorded runs carry a host call on their tape.
import { readFileSync } from 'node:fs';
import type { CallContext, HostFunction } from '@tenon/runtime';

export const LOOKUP_POINT = {
  name: 'score.lookup',
  function: 'echo',
  input: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
  output: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
  limits: { fuel: 100_000, fuelPerInputKiB: 0, maxFuelScale: 1, timeoutMs: 1000, maxPages: 4, maxOutputBytes: 4096 },
  hostFunctions: ['lookup'],
  record: { sample: 1 },
};

/** Answers `{ n }` with `{ n: n × 10 }`. */
export const lookup: HostFunction = {
  name: 'lookup',
  params: ['ptr'],
  results: ['ptr'],
  call: (context: CallContext, question: never) => context.writeJson({ n: (context.json(question) as { n: number }).n * 10 }),
};

export function lookupModule(): Buffer {
  return readFileSync(new URL('../../platform/test/fixtures/build/lookup.wasm', import.meta.url));
}
