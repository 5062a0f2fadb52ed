import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { HostFunction } from '@tenon/runtime';
import type { TestCase } from '../../cli/src/cases.js';
import { tenon } from '../../cli/test/run-tenon.js';
import { failure, type Outcome, onExtism, onTenon } from './both-hosts.js';

// Every example plug-in (examples/plugins/*, built by `npm test`'s pretest) passes its own
// cases.json under `tenon test`, and every case gives the same bytes on @extism/extism.

const examples = fileURLToPath(new URL('../../../examples/plugins/', import.meta.url));

for (const example of readdirSync(examples, { withFileTypes: true }).filter((d) => d.isDirectory())) {
  const dir = join(examples, example.name);
  const wasm = join(dir, 'build', 'plugin.wasm');
  const casesPath = join(dir, 'cases.json');

  describe(`example ${example.name}`, () => {
    test('passes its cases under `tenon test`', async () => {
      const result = await tenon(['test', wasm, '--cases', casesPath]);
      assert.equal(result.status, 0, result.stdout + result.stderr);
      assert.match(result.stdout, / 0 failed/);
    });

    test('gives the same output, or the same failure, on Tenon and @extism/extism for every case', async () => {
      const { cases, hostFunctions } = JSON.parse(readFileSync(casesPath, 'utf8')) as { cases: TestCase[]; hostFunctions?: string };
      const functions: HostFunction[] = hostFunctions ? (await import(pathToFileURL(join(dir, hostFunctions)).href)).functions : [];
      const bytes = readFileSync(wasm);
      for (const c of cases) {
        // a case of several calls shares one instance, which onTenon and onExtism do not: tenon test runs it
        if (c.function === undefined) continue;
        const input =
          c.inputBase64 !== undefined
            ? Buffer.from(c.inputBase64, 'base64')
            : c.inputJson !== undefined
              ? JSON.stringify(c.inputJson)
              : (c.input ?? '');
        const call = { fn: c.function, input, functions, ...(c.config && { config: c.config }) };
        const [ours, theirs] = [await onTenon(bytes, call), await onExtism(bytes, call)];
        assert.deepEqual(summary(theirs), summary(ours), `case "${c.name ?? c.function}"`);
      }
    });
  });
}

/** Output bytes compare exactly; failures by what failed (a missing function, the plug-in's message, a trap's kind). */
function summary(outcome: Outcome): string {
  return 'output' in outcome ? `output ${Buffer.from(outcome.output).toString('base64')}` : `failed: ${failure(outcome)}`;
}
