import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createPlugin as createExtismPlugin } from '../src/extism.js';
import { compilePlugin, createPlugin, type Plugin, type PluginOptions } from '../src/index.js';
import { fixture, load } from './fixtures.js';

// WASI errnos, as wasi-libc reports them
const EXDEV = 75;
const EMFILE = 33;
const EPERM = 63;
const EROFS = 69;
const ENOTCAPABLE = 76;
const ENOENT = 44;

/**
 * A temporary host tree:
 *   secret.txt                      outside every mount
 *   data/ (mounted rw at /data)     hello.txt, sub/inner.txt,
 *                                   link_in -> hello.txt, dir_in -> sub (links that stay inside),
 *                                   link_out -> ../secret.txt, dir_out -> .. (links that leave)
 *   ro/ (mounted read-only at /ro)  readme.txt
 */
function hostTree(): { root: string; data: string; ro: string; remove(): void } {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'tenon-wasi-fs-')));
  const data = join(root, 'data');
  const ro = join(root, 'ro');
  mkdirSync(join(data, 'sub'), { recursive: true });
  mkdirSync(ro);
  writeFileSync(join(root, 'secret.txt'), 'top secret');
  writeFileSync(join(data, 'hello.txt'), 'hello');
  writeFileSync(join(data, 'sub', 'inner.txt'), 'inner');
  writeFileSync(join(ro, 'readme.txt'), 'read me');
  symlinkSync('hello.txt', join(data, 'link_in'));
  symlinkSync('sub', join(data, 'dir_in'));
  symlinkSync(join(root, 'secret.txt'), join(data, 'link_out'));
  symlinkSync(root, join(data, 'dir_out'));
  return { root, data, ro, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** Call and return the output text, or the plug-in's failure message ("open: errno=76"). */
function run(plugin: Plugin, name: string, input: string): string {
  try {
    return plugin.call(name, input).text();
  } catch (error) {
    return (error as { pluginMessage?: string }).pluginMessage ?? String(error);
  }
}

/** Every change under the guest directory `dir`, which holds `file`, is refused with EROFS. */
function assertReadOnly(plugin: Plugin, dir: string, file: string): void {
  assert.equal(run(plugin, 'write_file', `${dir}/${file}\noverwritten`), `open: errno=${EROFS}`);
  assert.equal(run(plugin, 'update_file', `${dir}/${file}\noverwritten`), `open: errno=${EROFS}`);
  assert.equal(run(plugin, 'write_file', `${dir}/new.txt\ncreated`), `open: errno=${EROFS}`);
  assert.equal(run(plugin, 'remove_file', `${dir}/${file}`), `unlink: errno=${EROFS}`);
  assert.equal(run(plugin, 'make_dir', `${dir}/dir`), `mkdir: errno=${EROFS}`);
}

describe('WASI file system', () => {
  let tree: ReturnType<typeof hostTree>;
  let options: PluginOptions;
  before(() => {
    tree = hostTree();
    options = { wasi: true, allowedPaths: { [tree.data]: '/data', [`ro:${tree.ro}`]: '/ro' } };
  });
  after(() => tree.remove());

  test('a plug-in reads and writes files in a read-write mount, and its writes reach the host disk', async () => {
    using plugin = await load('files', options);
    assert.equal(run(plugin, 'read_file', '/data/hello.txt'), 'hello');
    assert.equal(run(plugin, 'write_file', '/data/out.txt\nwritten by the guest'), '20');
    assert.equal(readFileSync(join(tree.data, 'out.txt'), 'utf8'), 'written by the guest');
    assert.equal(run(plugin, 'append_file', '/data/out.txt\n!'), '1');
    assert.equal(readFileSync(join(tree.data, 'out.txt'), 'utf8'), 'written by the guest!');
    assert.equal(run(plugin, 'list', '/data'), 'dir_in\ndir_out\nhello.txt\nlink_in\nlink_out\nout.txt\nsub');
    assert.equal(run(plugin, 'stat_path', '/data/hello.txt'), 'size=5 dir=0 link=0');
    assert.equal(run(plugin, 'make_dir', '/data/made'), 'ok');
    assert.equal(run(plugin, 'rename_path', '/data/out.txt\n/data/made/moved.txt'), 'ok');
    assert.equal(readFileSync(join(tree.data, 'made', 'moved.txt'), 'utf8'), 'written by the guest!');
    assert.equal(run(plugin, 'list', '/data/made'), 'moved.txt');
    assert.equal(run(plugin, 'remove_file', '/data/made/moved.txt'), 'ok');
    assert.equal(run(plugin, 'remove_dir', '/data/made'), 'ok');
    assert.equal(existsSync(join(tree.data, 'made')), false);
  });

  test('file descriptors seek, read and write at offsets, truncate, and report O_EXCL and O_DIRECTORY errors', async () => {
    using plugin = await load('files', options);
    // write, pwrite at 6, read 5 from 0, tell, pread at 6 (tell unchanged), ftruncate(8), fstat, seek to end
    assert.equal(run(plugin, 'file_ops', '/data/ops.bin'), 'hello|5|WASI!|5|8|8|excl=20|directory=54');
    assert.equal(readFileSync(join(tree.data, 'ops.bin'), 'utf8'), 'hello WA');
  });

  test(`a read-only mount serves reads and refuses writes, creates, unlink, mkdir and rename with EROFS (${EROFS})`, async () => {
    using plugin = await load('files', options);
    assert.equal(run(plugin, 'read_file', '/ro/readme.txt'), 'read me');
    assert.equal(run(plugin, 'list', '/ro'), 'readme.txt');
    assertReadOnly(plugin, '/ro', 'readme.txt');
    assert.equal(run(plugin, 'rename_path', '/ro/readme.txt\n/ro/renamed.txt'), `rename: errno=${EROFS}`);
    assert.deepEqual(readdirSync(tree.ro), ['readme.txt']);
    assert.equal(readFileSync(join(tree.ro, 'readme.txt'), 'utf8'), 'read me');
  });

  test(`".." out of a mount is refused with ENOTCAPABLE (${ENOTCAPABLE}), through wasi-libc and through raw path_open`, async () => {
    using plugin = await load('files', options);
    assert.equal(run(plugin, 'read_file', '/data/../secret.txt'), `open: errno=${ENOTCAPABLE}`);
    assert.equal(run(plugin, 'read_file', '/data/sub/../../secret.txt'), `open: errno=${ENOTCAPABLE}`);
    assert.equal(run(plugin, 'raw_open', '/data\n../secret.txt'), `path_open: errno=${ENOTCAPABLE}`);
    assert.equal(run(plugin, 'raw_open', '/data\nsub/../../secret.txt'), `path_open: errno=${ENOTCAPABLE}`);
    assert.equal(run(plugin, 'raw_open', '/data\nsub/../hello.txt'), 'hello', '".." that stays inside is fine');
  });

  test('absolute paths are refused: outside every preopen, and given straight to path_open', async () => {
    using plugin = await load('files', options);
    // under no preopen: wasi-libc refuses it itself (the wasi-libc of clang 21 says ENOENT)
    assert.equal(run(plugin, 'read_file', '/etc/passwd'), `open: errno=${ENOENT}`);
    assert.equal(run(plugin, 'raw_open', '/data\n/etc/passwd'), `path_open: errno=${ENOTCAPABLE}`);
    assert.equal(run(plugin, 'raw_open', `/data\n${join(tree.root, 'secret.txt')}`), `path_open: errno=${ENOTCAPABLE}`);
  });

  test('a symbolic link that leads outside the mount is refused, as the last component or in the middle', async () => {
    using plugin = await load('files', options);
    assert.equal(run(plugin, 'read_file', '/data/link_out'), `open: errno=${ENOTCAPABLE}`);
    assert.equal(run(plugin, 'raw_open', '/data\nlink_out'), `path_open: errno=${ENOTCAPABLE}`);
    assert.equal(run(plugin, 'stat_path', '/data/link_out'), `stat: errno=${ENOTCAPABLE}`);
    assert.equal(run(plugin, 'write_file', '/data/link_out\npwned'), `open: errno=${ENOTCAPABLE}`);
    assert.equal(run(plugin, 'read_file', '/data/dir_out/secret.txt'), `open: errno=${ENOTCAPABLE}`);
    assert.equal(run(plugin, 'write_file', '/data/dir_out/planted.txt\npwned'), `open: errno=${ENOTCAPABLE}`);
    assert.equal(run(plugin, 'list', '/data/dir_out'), `opendir: errno=${ENOTCAPABLE}`);
    assert.equal(readFileSync(join(tree.root, 'secret.txt'), 'utf8'), 'top secret');
    assert.equal(existsSync(join(tree.root, 'planted.txt')), false);
  });

  test('a symbolic link to a file or directory inside the mount is followed', async () => {
    using plugin = await load('files', options);
    assert.equal(run(plugin, 'read_file', '/data/link_in'), 'hello');
    assert.equal(run(plugin, 'stat_path', '/data/link_in'), 'size=5 dir=0 link=1');
    assert.equal(run(plugin, 'read_file', '/data/dir_in/inner.txt'), 'inner');
    assert.equal(run(plugin, 'list', '/data/dir_in'), 'inner.txt');
  });

  test(`the guest cannot make links (EPERM, ${EPERM}) nor rename across mounts (EXDEV, ${EXDEV})`, async () => {
    using plugin = await load('files', options);
    assert.equal(run(plugin, 'symlink_path', '/data/hello.txt\n/data/made_link'), `symlink: errno=${EPERM}`);
    assert.equal(run(plugin, 'symlink_path', `${join(tree.root, 'secret.txt')}\n/data/made_link`), `symlink: errno=${EPERM}`);
    assert.equal(run(plugin, 'link_path', '/data/hello.txt\n/data/hard_link'), `link: errno=${EPERM}`);
    assert.equal(run(plugin, 'rename_path', '/data/hello.txt\n/ro/hello.txt'), `rename: errno=${EXDEV}`);
    assert.equal(existsSync(join(tree.data, 'made_link')), false);
  });

  test(`a plug-in holds at most 128 open files (EMFILE, ${EMFILE}), and gets them back when it closes them`, async () => {
    using plugin = await load('files', options);
    assert.equal(run(plugin, 'open_many', '/data/hello.txt'), `128 errno=${EMFILE}`);
    assert.equal(run(plugin, 'open_many', '/data/hello.txt'), `128 errno=${EMFILE}`);
  });

  test('files a plug-in leaves open are closed with the plug-in', { skip: !existsSync('/proc/self/fd') }, async () => {
    const open = () => readdirSync('/proc/self/fd').length;
    const plugin = await load('files', options);
    const before = open();
    assert.equal(run(plugin, 'open_and_keep', '/data/hello.txt'), 'kept');
    assert.equal(open(), before + 10);
    plugin.close();
    assert.equal(open(), before);
  });

  test('in-memory files are readable, read-only (EROFS) and never touch the disk', async () => {
    using plugin = await load('files', {
      wasi: true,
      files: { '/config/rates.csv': 'EUR,1.08\n', '/config/nested/deep.bin': new Uint8Array([104, 105]) },
    });
    assert.equal(run(plugin, 'read_file', '/config/rates.csv'), 'EUR,1.08\n');
    assert.equal(run(plugin, 'read_file', '/config/nested/deep.bin'), 'hi');
    assert.equal(run(plugin, 'list', '/config'), 'nested\nrates.csv');
    assert.equal(run(plugin, 'stat_path', '/config/rates.csv'), 'size=9 dir=0 link=0');
    assertReadOnly(plugin, '/config', 'rates.csv');
    assert.equal(run(plugin, 'raw_open', '/config\n../etc/passwd'), `path_open: errno=${ENOTCAPABLE}`);
    assert.equal(run(plugin, 'read_file', '/config/rates.csv'), 'EUR,1.08\n');
  });

  test('allowed_paths in a manifest maps directories, ro: included', async () => {
    using plugin = await createPlugin(
      { wasm: [{ data: fixture('files') }], allowed_paths: { [tree.data]: '/data', [`ro:${tree.ro}`]: '/ro' } },
      { wasi: true, logLevel: 'off' },
    );
    assert.equal(run(plugin, 'read_file', '/data/hello.txt'), 'hello');
    assert.equal(run(plugin, 'read_file', '/ro/readme.txt'), 'read me');
    assert.equal(run(plugin, 'write_file', '/ro/readme.txt\nx'), `open: errno=${EROFS}`);
  });

  test('the @extism/extism drop-in takes allowedPaths as guest -> host, and refuses ro: as @extism/extism does', async () => {
    const plugin = await createExtismPlugin(fixture('files'), { useWasi: true, allowedPaths: { '/data': tree.data } });
    try {
      assert.equal((await plugin.call('read_file', '/data/hello.txt'))?.text(), 'hello');
    } finally {
      await plugin.close();
    }
    await assert.rejects(createExtismPlugin(fixture('files'), { useWasi: true, allowedPaths: { '/ro': `ro:${tree.ro}` } }), {
      name: 'ManifestError',
      code: 'MANIFEST_INVALID',
      message: `Readonly dirs are not supported: ro:${tree.ro}`,
    });
    // as @extism/extism does, allowedPaths without useWasi is ignored rather than refused
    const withoutWasi = await createExtismPlugin(fixture('count_vowels'), { allowedPaths: { '/data': tree.data } });
    await withoutWasi.close();
  });

  test('mounts are checked at compile time: missing directories, relative guest paths, and no wasi fail with MANIFEST_INVALID', async () => {
    const wasm = fixture('files');
    const missing = join(tree.root, 'missing');
    await assert.rejects(compilePlugin(wasm, { wasi: true, allowedPaths: { [missing]: '/m' } }), {
      name: 'ManifestError',
      code: 'MANIFEST_INVALID',
      field: 'allowed_paths',
      message: /host directory ".*missing" does not exist/,
    });
    await assert.rejects(compilePlugin(wasm, { wasi: true, allowedPaths: { [join(tree.data, 'hello.txt')]: '/m' } }), {
      field: 'allowed_paths',
      message: /is not a directory/,
    });
    await assert.rejects(compilePlugin(wasm, { wasi: true, allowedPaths: { [tree.data]: 'data' } }), {
      field: 'allowed_paths',
      message: /guest path "data" .* must be absolute/,
    });
    await assert.rejects(compilePlugin(wasm, { wasi: true, allowedPaths: { [tree.data]: '/a/../b' } }), {
      field: 'allowed_paths',
      message: /must not contain "\." or "\.\."/,
    });
    await assert.rejects(compilePlugin(wasm, { wasi: true, allowedPaths: { [tree.data]: '/x', [tree.ro]: '/x/' } }), {
      field: 'allowed_paths',
      message: /two directories map to guest path "\/x"/,
    });
    await assert.rejects(compilePlugin(wasm, { allowedPaths: { [tree.data]: '/data' } }), {
      name: 'ManifestError',
      field: 'allowed_paths',
      message: /needs wasi: true/,
    });
    await assert.rejects(compilePlugin({ wasm: [{ data: wasm }], allowed_paths: { [tree.data]: '/data' } }), {
      field: 'allowed_paths',
      message: /needs wasi: true/,
    });
    await assert.rejects(compilePlugin(wasm, { files: { '/config/a.txt': 'a' } }), { field: 'files', message: /needs wasi: true/ });
    await assert.rejects(compilePlugin(wasm, { wasi: true, files: { 'config/a.txt': 'a' } }), {
      field: 'files',
      message: /must be absolute/,
    });
    await assert.rejects(compilePlugin(wasm, { wasi: true, files: { '/a.txt': 'a' } }), { field: 'files', message: /inside a directory/ });
    await assert.rejects(compilePlugin(wasm, { wasi: true, files: { '/c/a': 'a', '/c/a/b': 'b' } }), {
      field: 'files',
      message: /"\/c\/a" is both a file and a directory/,
    });
    await assert.rejects(compilePlugin(wasm, { wasi: true, allowedPaths: { [tree.data]: '/data' }, files: { '/data/a': 'a' } }), {
      field: 'files',
      message: /"\/data" is already mapped/,
    });
  });
});
