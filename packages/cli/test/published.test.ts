// What a user who installs from the registry gets: every package packed with `npm pack`, the
// tarballs installed into empty directories outside the repository with Node and npm alone, then a
// host script, `tenon call` through the installed bin, and a `tenon new` project built and tested
// against the installed packages. Needs the built dist/ folders (npm test's pretest builds them).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { nodeOnlyPath } from '../../pdk/test/node-only-path.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Every package a user installs, in the order npm needs none of them from the registry. */
const PACKAGES = ['@tenon/runtime', '@tenon/pdk', '@tenon/platform', '@tenon/dashboard', '@tenon/server', '@tenon/cli'];

// better-sqlite3's install script fetches a prebuilt binary from GitHub, beyond the registry: scripts
// are skipped, which leaves `tenon serve` (the only command that opens SQLite) out of this test.
const INSTALL = 'npm install --prefer-offline --ignore-scripts --no-audit --no-fund --loglevel=error';

describe('the packed packages, installed outside the repository', () => {
  let dir: string;
  let PATH: string;
  let tarballs: string[];
  let host: string;

  /** Run `command` in `cwd` with only node, npm and sh on the PATH; fails with its output. */
  async function sh(cwd: string, command: string): Promise<string> {
    try {
      const { stdout, stderr } = await run('sh', ['-c', command], {
        cwd,
        env: { HOME: process.env.HOME, PATH, npm_config_update_notifier: 'false' },
        maxBuffer: 16 * 1024 * 1024,
      });
      return stdout + stderr;
    } catch (error) {
      const { stdout, stderr, message } = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`${message}\n${stdout ?? ''}${stderr ?? ''}`);
    }
  }

  before(
    async () => {
      dir = await mkdtemp(join(tmpdir(), 'tenon-published-'));
      PATH = nodeOnlyPath();
      const packed = join(dir, 'tarballs');
      await mkdir(packed);
      const { stdout } = await run(
        'npm',
        ['pack', '--json', '--pack-destination', packed, ...PACKAGES.flatMap((name) => ['--workspace', name])],
        { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
      );
      tarballs = (JSON.parse(stdout) as { filename: string }[]).map(({ filename }) => join(packed, filename));
      // a host application's directory: the tarballs installed as a user installs from the registry
      host = join(dir, 'host');
      await mkdir(host);
      await writeFile(join(host, 'package.json'), '{ "name": "host", "private": true, "type": "module" }\n');
      // with the TypeScript a typed host checks against: one install, so npm resolves the tree once
      await sh(host, `${INSTALL} typescript@5.9 @types/node@20 ${tarballs.map((t) => JSON.stringify(t)).join(' ')}`);
    },
    { timeout: 180_000 },
  );

  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(PATH, { recursive: true, force: true });
  });

  test('each tarball holds its README, its entry points and no source maps, build info or tests', async () => {
    assert.equal(tarballs.length, PACKAGES.length);
    for (const tarball of tarballs) {
      const files = (await run('tar', ['-tzf', tarball])).stdout.split('\n').filter(Boolean);
      assert.ok(files.includes('package/README.md'), `${tarball} has a README`);
      assert.deepEqual(
        files.filter((f) => /\.map$|\.tsbuildinfo$|\/test\/|\.test\./.test(f)),
        [],
        `${tarball} ships nothing but the package`,
      );
      const pkg = JSON.parse((await run('tar', ['-xzOf', tarball, 'package/package.json'])).stdout);
      for (const field of ['license', 'engines', 'files', 'exports']) assert.ok(pkg[field], `${pkg.name} declares ${field}`);
      for (const [, target] of Object.entries(pkg.exports as Record<string, string | Record<string, string>>)) {
        for (const path of typeof target === 'string' ? [target] : Object.values(target)) {
          assert.ok(files.includes(`package/${path.replace(/^\.\//, '')}`), `${pkg.name} ships ${path}, which its exports name`);
        }
      }
    }
  });

  test('a host script runs a plug-in in process, in a pool and through the Extism drop-in, and cannot reach internals', {
    timeout: 180_000,
  }, async () => {
    await copyFile(join(ROOT, 'packages/runtime/test/fixtures/build/count_vowels.wasm'), join(host, 'count_vowels.wasm'));
    await writeFile(
      join(host, 'host.mjs'),
      `import { readFileSync } from 'node:fs';
import { createPlugin, createPool, isTenonError } from '@tenon/runtime';
import createExtismPlugin from '@tenon/runtime/extism';
const wasm = readFileSync('count_vowels.wasm');
const plugin = await createPlugin(wasm, { fuel: 1000000 });
const output = plugin.call('count_vowels', 'Hello, World!').json();
const fuelUsed = plugin.stats.fuel > 0;
let code;
try { plugin.call('nope'); } catch (error) { code = isTenonError(error) ? error.code : 'not a TenonError'; }
const pool = createPool({ size: 1 });
const pooled = (await pool.call(wasm, 'count_vowels', 'aaa')).json();
await pool.close();
const extism = await createExtismPlugin({ wasm: [{ data: wasm }] });
const dropIn = (await extism.call('count_vowels', 'ee')).json();
await extism.close();
let internal;
try { await import('@tenon/runtime/dist/plugin.js'); internal = 'reachable'; } catch (error) { internal = error.code; }
console.log(JSON.stringify({ output, fuelUsed, code, pooled, dropIn, internal }));
`,
    );
    const result = JSON.parse(await sh(host, 'node host.mjs'));
    assert.deepEqual(result, {
      output: { count: 3 },
      fuelUsed: true,
      code: 'FUNCTION_NOT_FOUND',
      pooled: { count: 3 },
      dropIn: { count: 2 },
      internal: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
    });
    const call = await sh(host, './node_modules/.bin/tenon call count_vowels.wasm count_vowels --input "Tenon plug-ins"');
    assert.equal(call.trim(), '{"count":4}');
    const refused = await sh(host, './node_modules/.bin/tenon call count_vowels.wasm nope 2>&1; echo "exit $?"');
    assert.match(refused, /FUNCTION_NOT_FOUND: .*"nope"[\s\S]*exit 2/);
  });

  test('a TypeScript host type-checks against the installed declarations with @types/node 20, strict', { timeout: 180_000 }, async () => {
    // a TypeScript host beside the JavaScript one; the README's stated requirement: @types/node 20, and
    // TypeScript's `dom` lib, where its WebAssembly types live
    await writeFile(
      join(host, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'nodenext',
          target: 'es2022',
          lib: ['es2023', 'esnext.disposable', 'dom'],
          types: ['node'],
          noEmit: true,
        },
      }),
    );
    await writeFile(
      join(host, 'host.ts'),
      `import { type CallContext, createPlugin, isTenonError, type PluginOptions } from '@tenon/runtime';
import createExtismPlugin from '@tenon/runtime/extism';
import { main } from '@tenon/cli';
const options: PluginOptions = { fuel: 1_000, logLevel: 'info', name: 'vowels', functions: [{ name: 'f', call: (c: CallContext) => c.getVarInt('n') }] };
using plugin = await createPlugin('count_vowels.wasm', options);
const stats: { fuel: number | undefined; durationMs: number | undefined } = plugin.stats;
try { plugin.call('x'); } catch (e) { if (isTenonError(e) && e.code === 'PLUGIN_FAILED') console.log(e.pluginMessage, stats); }
const text: string | undefined = plugin.getVarText('k');
void createExtismPlugin; void main; void text;
`,
    );
    // beside it, a file with one type error: tsc must report that error, and that one only, so the
    // declarations are really read and the host's own use of them checks
    await writeFile(
      join(host, 'wrong.ts'),
      `import { createPlugin } from '@tenon/runtime';\nawait createPlugin('x.wasm', { fuel: 'lots' });\n`,
    );
    const checked = await sh(host, 'node node_modules/typescript/bin/tsc -p .').then(
      () => 'no errors',
      (error: Error) => error.message,
    );
    const errors = checked.split('\n').filter((line) => /error TS\d+/.test(line));
    assert.equal(errors.length, 1, checked);
    assert.match(errors[0]!, /^wrong\.ts\(2,\d+\): error TS2322/);
  });

  test('a `tenon new` project installs against the tarballs, builds with the installed PDK and passes its cases', {
    timeout: 240_000,
  }, async () => {
    const project = join(dir, 'my-plugin');
    await sh(dir, `${JSON.stringify(join(host, 'node_modules/.bin/tenon'))} new my-plugin`);
    const scaffold = JSON.parse(await readFile(join(project, 'package.json'), 'utf8'));
    // the installed CLI asks for the published versions, never a path on this machine
    assert.match(scaffold.devDependencies['@tenon/cli'], /^\^\d+\.\d+\.\d+$/);
    assert.match(scaffold.devDependencies['@tenon/pdk'], /^\^\d+\.\d+\.\d+$/);
    // not published yet: the tarballs stand in for the registry's copies
    await sh(project, `${INSTALL} --save-dev ${tarballs.map((t) => JSON.stringify(t)).join(' ')}`);
    const report = await sh(project, 'npm test');
    assert.match(report, /(\d+) passed, 0 failed/);
    assert.doesNotMatch(report, /FAIL/);
  });
});
