// `npm start`: assemble the bundled example plug-in, then call it through the real `tenon` CLI.
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import wabtInit from 'wabt';

const root = new URL('../', import.meta.url);
const wat = new URL('examples/plugins/count-vowels/count_vowels.wat', root);
const wasm = new URL('examples/plugins/count-vowels/count_vowels.wasm', root);
const tenon = new URL('packages/cli/bin/tenon.js', root).pathname;

const wabt = await wabtInit();
const parsed = wabt.parseWat('count_vowels.wat', await readFile(wat, 'utf8'));
parsed.validate();
await writeFile(wasm, parsed.toBinary({}).buffer);
parsed.destroy();

const plugin = 'examples/plugins/count-vowels/count_vowels.wasm';
const input = 'Hello from Tenon: the data stays here, the code comes to it.';
const run = (args) => {
  console.log(`\n$ tenon ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  const out = execFileSync(process.execPath, [tenon, ...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  console.log(out);
};

console.log('Tenon demo: an Extism-ABI plug-in called in process, like a function.');
run(['call', plugin, 'count_vowels', '--input', input]);
run(['call', plugin, 'count_vowels', '--input', input, '--loop', '10000']);
run(['call', plugin, 'count_vowels', '--input', input, '--fuel', '100000', '--stats']);
console.log('Next: npm test runs every test; npm run bench compares Tenon with @extism/extism.');
