// Builds the test plug-ins: every packages/*/test/fixtures/*.wat with wabt, every *.c with the PDK's
// tenon-cc (clang compiled to Wasm, so no system toolchain; files whose first line is `// wasi` link
// wasi-libc as reactors, `// wasi command` as commands), every *.ts with AssemblyScript and the PDK. Skips up-to-date outputs.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { compilePlugins } from '@tenon/pdk/c/cc.js';
import asc from 'assemblyscript/asc';
import wabtInit from 'wabt';

const root = new URL('..', import.meta.url).pathname;
const dirs = readdirSync(join(root, 'packages'))
  .map((p) => join(root, 'packages', p, 'test', 'fixtures'))
  .filter((dir) => {
    try {
      return statSync(dir).isDirectory();
    } catch {
      return false;
    }
  });

const newer = (output, inputs) => {
  try {
    const built = statSync(output).mtimeMs;
    return inputs.every((input) => statSync(input).mtimeMs <= built);
  } catch {
    return false;
  }
};

const header = join(root, 'packages', 'pdk', 'c', 'tenon.h');
const compiler = join(root, 'packages', 'pdk', 'c', 'cc.js');
const pdkSources = [
  'index.ts',
  'json.ts',
  'assembly/index.ts',
  'assembly/env.ts',
  'assembly/json.ts',
  'assembly/strict.ts',
  'transform/index.js',
].map((f) => join(root, 'packages', 'pdk', f));
const wabt = await wabtInit();
let built = 0;
// the C sources compile together at the end: the toolchain's first run in a process is the slow one
const cJobs = [];
for (const dir of dirs) {
  const out = join(dir, 'build');
  mkdirSync(out, { recursive: true });
  for (const file of readdirSync(dir).sort()) {
    const source = join(dir, file);
    if (file.endsWith('.wat')) {
      const target = join(out, `${basename(file, '.wat')}.wasm`);
      if (newer(target, [source])) continue;
      const parsed = wabt.parseWat(file, readFileSync(source, 'utf8'), {
        multi_value: true,
        bulk_memory: true,
        mutable_globals: true,
        tail_call: true,
        exceptions: true,
        reference_types: true,
      });
      parsed.resolveNames();
      parsed.validate();
      writeFileSync(target, parsed.toBinary({ write_debug_names: true }).buffer);
      parsed.destroy();
      built++;
    } else if (file.endsWith('.c')) {
      const target = join(out, `${basename(file, '.c')}.wasm`);
      if (newer(target, [source, header, compiler])) continue;
      const first = readFileSync(source, 'utf8').split('\n', 1)[0];
      cJobs.push({ source, output: target, wasi: first.startsWith('// wasi'), command: first === '// wasi command', werror: true });
    } else if (file.endsWith('.ts')) {
      const target = join(out, `${basename(file, '.ts')}.wasm`);
      if (newer(target, [source, ...pdkSources])) continue;
      // the flags of a `tenon new` project (its asconfig.json), run from the repo root
      const { error, stderr } = await asc.main(
        [
          relative(root, source),
          '--outFile',
          relative(root, target),
          '-O3',
          '--shrinkLevel',
          '2',
          '--noAssert',
          '--runtime',
          'incremental',
          '--use',
          'abort=~lib/@tenon/pdk/assembly/index/abort',
          '--use',
          'JSON_CACHE_SIZE=128',
          '--transform',
          'json-as',
          '--transform',
          '@tenon/pdk/transform',
        ],
        { stdout: process.stdout, stderr: process.stderr },
      );
      if (error) {
        console.error(`build-fixtures: ${file}: ${stderr.toString()}`);
        process.exit(1);
      }
      built++;
    }
  }
}
try {
  await compilePlugins(cJobs);
} catch (error) {
  console.error(`build-fixtures: ${error.message}`);
  process.exit(1);
}
built += cJobs.length;
console.log(`build-fixtures: ${built} plug-in${built === 1 ? '' : 's'} built`);
