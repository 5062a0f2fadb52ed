// Builds the test plug-ins: every packages/*/test/fixtures/*.wat with wabt, every *.c with clang's
// wasm32 target (files whose first line is `// wasi` against wasi-libc). Skips up-to-date outputs.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
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

const wabt = await wabtInit();
let built = 0;
let clangChecked = false;
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
      const header = join(dir, 'tenon.h');
      if (newer(target, [source, header])) continue;
      if (!clangChecked) {
        try {
          execFileSync('clang', ['--version'], { stdio: 'ignore' });
          execFileSync('wasm-ld', ['--version'], { stdio: 'ignore' });
        } catch {
          console.error('build-fixtures: the C test plug-ins need clang and lld: apt-get install clang lld wasi-libc');
          process.exit(1);
        }
        clangChecked = true;
      }
      const wasi = readFileSync(source, 'utf8').startsWith('// wasi');
      const flags = wasi
        ? ['--target=wasm32-wasi', '--sysroot=/usr', '-mexec-model=reactor']
        : ['--target=wasm32', '-nostdlib', '-Wl,--no-entry'];
      execFileSync('clang', [...flags, '-O2', '-Wall', '-Werror', '-Wl,--strip-debug', '-o', target, source], { stdio: 'inherit' });
      built++;
    }
  }
}
console.log(`build-fixtures: ${built} plug-in${built === 1 ? '' : 's'} built`);
