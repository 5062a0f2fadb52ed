#!/usr/bin/env node
// tenon-cc: compiles C plug-ins against tenon.h with LLVM's clang and lld compiled to WebAssembly
// (@yowasp/clang, which carries a wasi-libc sysroot), so a machine with Node alone builds them: no
// system clang, lld or wasi-libc. One place holds the flags; the test fixtures, the examples and
// `tenon new --lang c` projects all build through it.
//
//   tenon-cc [--wasi | --wasi-command] [-Werror] [-I dir]... -o out.wasm source.c
//
// Without --wasi a plug-in is freestanding (no libc, only the Extism ABI); with --wasi it links
// wasi-libc and is built as a WASI reactor, whose _initialize the host runs before any call; with
// --wasi-command, as a WASI command (a `main`, run by `_start`; each export runs the constructors).
import { realpathSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The directory of tenon.h, always on the include path. */
export const PDK_INCLUDE = dirname(fileURLToPath(import.meta.url));

/**
 * @typedef {object} CompileJob
 * @property {string} source the .c file
 * @property {string} output the .wasm file to write (its directory is created)
 * @property {boolean} [wasi] link wasi-libc and build a WASI reactor (default: freestanding)
 * @property {boolean} [command] with `wasi`, build a WASI command instead of a reactor
 * @property {boolean} [werror] turn warnings into errors
 * @property {string[]} [include] more include directories, searched before tenon.h's
 */

/**
 * Compiles each job in this one process: the toolchain's first run costs seconds (compiling LLVM's
 * Wasm), every later one a fraction of that, so callers with several plug-ins pass them together.
 * Diagnostics go to stderr; a source that does not compile rejects with an Error naming it.
 * @param {CompileJob[]} jobs
 */
export async function compilePlugins(jobs) {
  const { runClang } = await import('@yowasp/clang').catch((cause) => {
    throw new Error('tenon-cc needs the @yowasp/clang package: npm install --save-dev @yowasp/clang', { cause });
  });
  // the toolchain's resources come from node_modules: loading them is not worth a progress report
  await runClang(null, {}, { fetchProgress: () => {} });
  for (const job of jobs) {
    // clang runs in a virtual file system: the source's directory (for its local headers) and each
    // include directory's headers are copied in under fixed names
    const includes = [...(job.include ?? []), PDK_INCLUDE];
    const tree = { src: await headers(dirname(job.source)), out: {} };
    const name = basename(job.source);
    tree.src[name] = await readFile(job.source);
    const flags = includes.map((_, i) => `-Iinclude${i}`);
    for (const [i, dir] of includes.entries()) tree[`include${i}`] = await headers(dir);
    const target = job.wasi
      ? ['--target=wasm32-wasip1', `-mexec-model=${job.command ? 'command' : 'reactor'}`]
      : ['--target=wasm32', '-nostdlib', '-Wl,--no-entry'];
    const args = ['clang', ...target, '-O2', '-Wall', ...(job.werror ? ['-Werror'] : []), ...flags];
    let files;
    try {
      files = await runClang([...args, '-Wl,--strip-debug', '-o', 'out/plugin.wasm', `src/${name}`], tree, {
        stdout: diagnostics,
        stderr: diagnostics,
      });
    } catch (cause) {
      throw new Error(`tenon-cc: ${job.source} did not compile`, { cause });
    }
    await mkdir(dirname(resolve(job.output)), { recursive: true });
    await writeFile(job.output, files.out['plugin.wasm']);
  }
}

/** clang's diagnostics, to stderr (the toolchain's default is console.log) */
function diagnostics(bytes) {
  if (bytes) process.stderr.write(bytes);
}

/** The .h files directly in `dir`, as a virtual directory. */
async function headers(dir) {
  const tree = {};
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.h')) tree[entry.name] = await readFile(join(dir, entry.name));
  }
  return tree;
}

/** The command line: flags as in the header comment; exits 1 on a compile error, 2 on misuse. */
async function main(argv) {
  const job = { source: '', output: '', wasi: false, command: false, werror: false, include: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--wasi') job.wasi = true;
    else if (arg === '--wasi-command') job.wasi = job.command = true;
    else if (arg === '-Werror') job.werror = true;
    else if (arg === '-o' && i + 1 < argv.length) job.output = argv[++i];
    else if (arg === '-I' && i + 1 < argv.length) job.include.push(argv[++i]);
    else if (arg.startsWith('-I') && arg.length > 2) job.include.push(arg.slice(2));
    else if (!arg.startsWith('-') && !job.source) job.source = arg;
    else return usage(`unexpected argument "${arg}"`);
  }
  if (!job.source || !job.output) return usage('a source and -o are required');
  try {
    await compilePlugins([job]);
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  }
}

function usage(problem) {
  process.stderr.write(`tenon-cc: ${problem}\nusage: tenon-cc [--wasi | --wasi-command] [-Werror] [-I dir]... -o out.wasm source.c\n`);
  process.exitCode = 2;
}

// run as a command (also through node_modules/.bin's symlink), not when imported
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
