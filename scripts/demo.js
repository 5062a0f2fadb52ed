// `npm start`: call the count-vowels example plug-in (AssemblyScript, built by `npm run build:plugins`)
// through the real `tenon` CLI.
import { execFileSync } from 'node:child_process';

const root = new URL('../', import.meta.url);
const tenon = new URL('packages/cli/bin/tenon.js', root).pathname;
const plugin = 'examples/plugins/count-vowels/build/plugin.wasm';
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
