import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { nodeOnlyPath } from '../../pdk/test/node-only-path.js';
import { tenon } from './run-tenon.js';

const run = promisify(execFile);

/** Run a shell command the way a plug-in author types it, in `cwd` (with `PATH`, when given). */
async function sh(cwd: string, command: string, PATH = process.env.PATH): Promise<string> {
  const { stdout, stderr } = await run('sh', ['-c', command], {
    cwd,
    env: { ...process.env, PATH, npm_config_audit: 'false', npm_config_fund: 'false' },
  });
  return stdout + stderr;
}

const version = async (pkg: string): Promise<string> =>
  JSON.parse(await readFile(new URL(`../../${pkg}/package.json`, import.meta.url), 'utf8')).version;

describe('tenon new', () => {
  let dir: string;
  // inside this repository (and ignored by git, with the fixtures' builds): the one place a project links the packages
  let inRepo: string;
  let nodeOnly: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tenon-new-'));
    const builds = fileURLToPath(new URL('fixtures/build/', import.meta.url));
    await mkdir(builds, { recursive: true });
    inRepo = await mkdtemp(join(builds, 'new-'));
    nodeOnly = nodeOnlyPath();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(inRepo, { recursive: true, force: true });
    await rm(nodeOnly, { recursive: true, force: true });
  });

  test('outside this repository the packages are referenced by version, and nothing says otherwise', async () => {
    for (const lang of ['assemblyscript', 'c'] as const) {
      const project = join(dir, `outside-${lang}`);
      const created = await tenon(['new', project, '--lang', lang]);
      assert.equal(created.status, 0, created.stderr);
      const pkg = JSON.parse(await readFile(join(project, 'package.json'), 'utf8'));
      assert.equal(pkg.devDependencies['@tenon/cli'], `^${await version('cli')}`);
      assert.equal(pkg.devDependencies['@tenon/pdk'], `^${await version('pdk')}`);
      assert.doesNotMatch(JSON.stringify(pkg), /file:/);
      assert.doesNotMatch(created.stdout, /relative paths|file:/);
    }
  });

  // the definition of done: scaffold, install, build and test on a clean directory (in the repository,
  // where the packages it links are; a registry install is the packaging test's)
  for (const lang of ['assemblyscript', 'c'] as const) {
    test(`a ${lang} project inside the repository links the packages by relative path, says so, installs, builds and passes its cases`, {
      timeout: 300_000,
    }, async () => {
      const project = join(inRepo, `Demo ${lang}`);
      const created = await tenon(['new', project, '--lang', lang]);
      assert.equal(created.status, 0, created.stderr);
      assert.match(created.stdout, /npm install\n\s+npm run build\n\s+npx tenon test build\/plugin\.wasm --cases cases\.json/);
      assert.match(
        created.stdout,
        /inside the Tenon repository: @tenon\/cli and @tenon\/pdk are linked by relative paths \(file:\.\.\/\.\.\/\.\.\/\.\.\/\.\.\), not by version/,
      );
      const pkg = JSON.parse(await readFile(join(project, 'package.json'), 'utf8'));
      assert.equal(pkg.name, `demo-${lang}`);
      assert.equal(pkg.devDependencies['@tenon/cli'], 'file:../../../../..');
      assert.equal(pkg.devDependencies['@tenon/pdk'], 'file:../../../../../../pdk');
      await stat(join(project, '.gitignore'));

      await sh(project, 'npm install --prefer-offline');
      // a C project builds with Node alone: no clang on the PATH
      await sh(project, 'npm run build', lang === 'c' ? nodeOnly : process.env.PATH);
      const size = (await stat(join(project, 'build', 'plugin.wasm'))).size;
      assert.ok(size > 0 && size < 64 * 1024, `plugin.wasm is ${size} bytes`);
      const report = await sh(project, 'npx tenon test build/plugin.wasm --cases cases.json');
      assert.match(report, /(\d+) passed, 0 failed/);
      assert.doesNotMatch(report, /FAIL/);
    });
  }

  test('refuses a directory that is not empty, and an unknown language', async () => {
    const taken = join(dir, 'taken');
    await mkdir(taken);
    await writeFile(join(taken, 'keep.txt'), 'mine');
    const result = await tenon(['new', taken]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /already exists and is not empty/);
    assert.equal(await readFile(join(taken, 'keep.txt'), 'utf8'), 'mine');

    const lang = await tenon(['new', join(dir, 'rust'), '--lang', 'rust']);
    assert.equal(lang.status, 2);
    assert.match(lang.stderr, /Allowed choices are assemblyscript, c/);
  });
});
