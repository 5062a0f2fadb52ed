import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as runtime from '../src/index.js';

const source = readFileSync(new URL('../src/errors.ts', import.meta.url), 'utf8');
const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

/** The codes of the TenonErrorCode union, read from its declaration. */
function declaredCodes(): string[] {
  const union = /export type TenonErrorCode =([^;]+);/.exec(source)?.[1];
  assert.ok(union, 'errors.ts declares TenonErrorCode');
  return [...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]!);
}

/** code -> class, from the rows of the runtime's table in docs/errors.md. */
function documentedRows(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const m of doc.matchAll(/^\| `([A-Z_]+)` \| `([A-Za-z]+)` \|/gm)) rows.set(m[1]!, m[2]!);
  return rows;
}

test('docs/errors.md has a row for every code in errors.ts, naming a class the package exports', () => {
  const codes = declaredCodes();
  assert.ok(codes.length >= 20, `found ${codes.length} codes`);
  const rows = documentedRows();
  const missing = codes.filter((code) => !rows.has(code));
  assert.deepEqual(missing, [], `codes without a row in docs/errors.md: ${missing.join(', ')}`);
  for (const code of codes) {
    const name = rows.get(code)!;
    const type = (runtime as Record<string, unknown>)[name];
    assert.equal(typeof type, 'function', `docs/errors.md names "${name}" for ${code}, which @tenon/runtime does not export`);
    assert.ok((type as { prototype: unknown }).prototype instanceof runtime.TenonError, `${name} is a TenonError`);
  }
});

test('docs/errors.md documents no runtime code that errors.ts lacks', () => {
  const codes = new Set(declaredCodes());
  const extra = [...documentedRows().keys()].filter((code) => !codes.has(code));
  assert.deepEqual(extra, []);
});
