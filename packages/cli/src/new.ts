import { cp, mkdir, readdir, readFile, realpath, rename, writeFile } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { EXIT } from './exit-codes.js';
import type { Io } from './main.js';

type Lang = 'assemblyscript' | 'c';

const CLI_DIR = fileURLToPath(new URL('..', import.meta.url));
const PDK_DIR = fileURLToPath(new URL('.', import.meta.resolve('@tenon/pdk/package.json')));

/** `tenon new`: scaffold a plug-in project that builds with one command and has its test cases. */
export function newCommand(io: Io, exit: (status: number) => void): Command {
  return new Command('new')
    .description('Create a plug-in project: source, build script and a cases.json for `tenon test`')
    .argument('<dir>', 'the directory to create (it must not exist, or be empty)')
    .addOption(new Option('--lang <lang>', 'the language of the plug-in').choices(['assemblyscript', 'c']).default('assemblyscript'))
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.stdout.write(t), writeErr: (t) => io.stderr.write(t) })
    .action(async (dir: string, flags: { lang: Lang }) => {
      exit(await scaffold(resolve(dir), flags.lang, io));
    });
}

async function scaffold(dir: string, lang: Lang, io: Io): Promise<number> {
  const existing = await readdir(dir).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? [] : Promise.reject(error)));
  if (existing.length > 0) {
    io.stderr.write(`tenon: "${dir}" already exists and is not empty; choose a new directory\n`);
    return EXIT.usage;
  }
  const name = packageName(basename(dir));
  await mkdir(dir, { recursive: true });
  await cp(join(CLI_DIR, 'templates', lang), dir, { recursive: true });
  // npm renames a published .gitignore, so the template carries it without the dot
  await rename(join(dir, 'gitignore'), join(dir, '.gitignore'));
  const repository = await sourceCheckout();
  // a project inside this repository links the packages in it, whose versions are not published yet
  const linked = repository !== undefined && isInside(await realpath(dir), repository);
  const dependency = async (packageDir: string): Promise<string> => {
    const real = await realpath(packageDir);
    if (linked)
      return `file:${relative(await realpath(dir), real)
        .split(sep)
        .join('/')}`;
    const { version } = JSON.parse(await readFile(join(real, 'package.json'), 'utf8')) as { version: string };
    return `^${version}`;
  };
  const cli = await dependency(CLI_DIR);
  const manifest =
    lang === 'assemblyscript'
      ? {
          scripts: {
            build: 'asc assembly/plugin.ts --target release',
            test: 'npm run build && tenon test build/plugin.wasm --cases cases.json',
          },
          devDependencies: {
            '@tenon/cli': cli,
            '@tenon/pdk': await dependency(PDK_DIR),
            assemblyscript: await peerVersion('assemblyscript'),
            'json-as': await peerVersion('json-as'),
          },
        }
      : {
          // tenon-cc is the PDK's clang compiled to Wasm: the project builds on a machine with Node alone
          scripts: {
            build: 'tenon-cc -o build/plugin.wasm src/plugin.c',
            test: 'npm run build && tenon test build/plugin.wasm --cases cases.json',
          },
          devDependencies: {
            '@tenon/cli': cli,
            '@tenon/pdk': await dependency(PDK_DIR),
            '@yowasp/clang': await peerVersion('@yowasp/clang'),
          },
        };
  const pkg = { name, version: '0.1.0', private: true, type: 'module', ...manifest };
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  io.stdout.write(
    `Created ${lang === 'c' ? 'a C' : 'an AssemblyScript'} plug-in in ${dir}\n` +
      (linked
        ? `The project is inside the Tenon repository: @tenon/cli and @tenon/pdk are linked by relative paths (${cli}), not by version\n`
        : '') +
      '\n' +
      `  cd ${dir}\n  npm install\n  npm run build\n  npx tenon test build/plugin.wasm --cases cases.json\n`,
  );
  return EXIT.ok;
}

/** npm's rules for a package name, applied to a directory name. */
function packageName(dir: string): string {
  const name = dir
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+/, '');
  return name || 'tenon-plugin';
}

/** The root of the Tenon repository this CLI runs from, or undefined when it runs from an installed package. */
async function sourceCheckout(): Promise<string | undefined> {
  const cli = await realpath(CLI_DIR);
  if (cli.split(sep).includes('node_modules')) return undefined;
  const root = resolve(cli, '..', '..');
  try {
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { workspaces?: unknown };
    return Array.isArray(pkg.workspaces) ? root : undefined;
  } catch {
    return undefined;
  }
}

function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** The range the PDK declares for a compiler-side package, so the scaffold and the PDK agree. */
async function peerVersion(name: string): Promise<string> {
  const pdk = JSON.parse(await readFile(join(PDK_DIR, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> };
  return pdk.peerDependencies[name]!;
}
