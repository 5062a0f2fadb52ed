import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createPlugin, FuelExhaustedError, PluginError, TimeoutError } from '@tenon/runtime';
import { describeFailure } from './types/narrowing.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));

test('isTenonError narrows by code to the subclass, so its own fields read without a cast (tsc passes)', async () => {
  const tsc = fileURLToPath(new URL('node_modules/typescript/bin/tsc', `file://${root}`));
  const file = fileURLToPath(new URL('types/narrowing.ts', import.meta.url));
  const args = [
    tsc,
    '--noEmit',
    '--strict',
    '--exactOptionalPropertyTypes',
    '--module',
    'nodenext',
    '--target',
    'es2022',
    '--skipLibCheck',
  ];
  const { stdout } = await run(process.execPath, [...args, '--types', 'node', '--lib', 'es2023,esnext.disposable,dom', file], {
    cwd: root,
  }).catch((error: { stdout: string }) => ({ stdout: error.stdout }));
  assert.equal(stdout, '');
});

test('the narrowed branches read the real fields of errors the runtime throws', async () => {
  const wasm = readFileSync(new URL('../../pdk/test/fixtures/build/strict.wasm', import.meta.url));
  using plugin = await createPlugin(wasm, {});
  const error = await Promise.resolve()
    .then(() => plugin.call('try_numbers', '[1.5]'))
    .catch((e: unknown) => e);
  assert.ok(error instanceof PluginError);
  assert.equal(describeFailure(error), 'plug-in said input field "[0]" must be an integer (i32), got 1.5 (return code 1)');
  assert.equal(describeFailure(new FuelExhaustedError('out', 10, 5)), 'used 10 of 5 fuel');
  assert.equal(describeFailure(new TimeoutError('late', 200)), 'past 200 ms');
  assert.equal(describeFailure(new Error('x')), 'not ours');
});
