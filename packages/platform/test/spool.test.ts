import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { createPlatform, OPERATOR, type Platform, type PlatformEvent, type RunRecord } from '../src/index.js';
import { behaviourPoint, fixture, installed, newStore, PG_URL } from './helpers.js';

const child = new URL('crash/child.ts', import.meta.url).pathname;
const recoverer = new URL('crash/recover.ts', import.meta.url).pathname;

interface FileStore {
  /** The store URL for createPlatform. */
  url: string;
  /** What the crash child takes: a SQLite path or the URL. */
  childArg: string;
  /** A directory of this test's own, removed at the end. */
  dir: string;
  [Symbol.asyncDispose](): Promise<void>;
}

async function fileStore(engine: 'sqlite' | 'postgres'): Promise<FileStore> {
  const dir = mkdtempSync(join(tmpdir(), 'tenon-spool-test-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  if (engine === 'sqlite') {
    const path = join(dir, 'tenon.db');
    return { url: `sqlite:${path}`, childArg: path, dir, [Symbol.asyncDispose]: async () => remove() };
  }
  const store = await newStore('postgres');
  return {
    url: store.url,
    childArg: store.url,
    dir,
    async [Symbol.asyncDispose]() {
      remove();
      await store.drop();
    },
  };
}

/**
 * Runs the crash child with these record options until it has made `runs` runs, has it store its
 * count, and kills it with SIGKILL. Returns the records it accepted and the runs it made.
 */
async function killChild(store: FileStore, records: object, runs: number): Promise<{ accepted: number; made: number }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, store.childArg, 'run', JSON.stringify(records)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let made = 0;
  let counted: { accepted: number; made: number } | undefined;
  createInterface({ input: proc.stdout }).on('line', (line) => {
    if (/^\d+$/.test(line) && ++made === runs) proc.stdin.write('stop\n');
    const match = /^counted (\d+) (\d+)$/.exec(line);
    if (match !== null) {
      counted = { accepted: Number(match[1]), made: Number(match[2]) };
      proc.kill('SIGKILL');
    }
  });
  const [, signal] = (await once(proc, 'exit')) as [number | null, NodeJS.Signals | null];
  assert.equal(signal, 'SIGKILL');
  assert.ok(counted !== undefined, 'the child stored its count before it was killed');
  return counted;
}

/**
 * A store of this engine whose crash child made `runs` runs with its spool in `spool` and nothing
 * committed (no batch is cut), then was killed: what it accepted and made, disposable with the store.
 */
async function spooledAndKilled(engine: 'sqlite' | 'postgres', runs: number, records: object = {}) {
  const store = await fileStore(engine);
  const spool = join(store.dir, 'spool');
  const counted = await killChild(store, { spool, batchSize: 1_000_000, flushMs: 600_000, ...records }, runs);
  return { store, spool, ...counted, [Symbol.asyncDispose]: () => store[Symbol.asyncDispose]() };
}

/** Every record in the store, oldest first. */
async function allRecords(platform: Platform): Promise<RunRecord[]> {
  const all: RunRecord[] = [];
  let after: string | undefined;
  do {
    const page = await platform.records.list(OPERATOR, { limit: 1000, ...(after === undefined ? {} : { after }) });
    all.push(...(page.items as RunRecord[]));
    after = page.next;
  } while (after !== undefined);
  return all;
}

/** The runs recorded, each with all 3 of the child's installations, once: returns their count. */
function eachRunOnce(records: readonly RunRecord[]): number {
  const perRun = new Map<string, Set<string>>();
  for (const r of records) {
    const installations = perRun.get(r.key as string) ?? new Set();
    installations.add(r.installation);
    perRun.set(r.key as string, installations);
  }
  assert.equal(records.length, perRun.size * 3, 'no record twice');
  for (const [key, installations] of perRun) assert.equal(installations.size, 3, key);
  return perRun.size;
}

const ofType = (events: readonly PlatformEvent[], type: string) => events.filter((e) => e.type === type).map((e) => e.data);

async function withPoint(platform: Platform) {
  const definition = behaviourPoint('p.echo', 'echo', { record: { sample: 1 } });
  const point = await platform.extensionPoint(definition);
  await installed(platform, definition, fixture('behaviours'), ['m1']);
  return point;
}

const segments = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.seg')) : []);

for (const engine of ['sqlite', 'postgres'] as const) {
  const skip = engine === 'postgres' && PG_URL === undefined ? 'TENON_PG_URL is not set: PostgreSQL spool tests skipped' : false;
  describe(`the record spool (${engine})`, { skip }, () => {
    test('add() writes each run as a line of its batch’s segment, named for the writer, pid and host; a committed batch’s segment goes, and a clean close leaves no spool', async () => {
      await using store = await fileStore(engine);
      const spool = join(store.dir, 'spool');
      const platform = await createPlatform({ store: store.url, records: { flushMs: 60_000, spool } });
      try {
        const point = await withPoint(platform);
        for (let n = 0; n < 3; n++) await point.run({ tenant: 'm1', key: `k${n}`, input: { n } });
        const [first, ...others] = segments(spool);
        assert.deepEqual(others, []);
        assert.match(
          first as string,
          new RegExp(`^rw_[^+]+\\+${process.pid}\\+${encodeURIComponent(hostname())}\\+rw_[^+]+\\+rb_[^+]+\\.seg$`),
        );
        const lines = readFileSync(join(spool, first as string), 'utf8').split('\n');
        assert.deepEqual(
          lines.map((line) => (line === '' ? '' : (JSON.parse(line) as { run_key: string }[]).map((r) => r.run_key))),
          [['k0'], ['k1'], ['k2'], ''],
        );
        await platform.flush();
        assert.deepEqual(segments(spool), []);
        await point.run({ tenant: 'm1', key: 'k3', input: { n: 3 } });
        assert.equal(segments(spool).length, 1);
        assert.notEqual(segments(spool)[0], first, 'a new batch, a new segment');
      } finally {
        await platform.close();
      }
      assert.equal(existsSync(spool), false, 'the platform created it, and removes it empty');
      await using reopened = await createPlatform({ store: store.url, records: { spool } });
      assert.deepEqual(
        (await allRecords(reopened)).map((r) => r.key),
        ['k0', 'k1', 'k2', 'k3'],
      );
    });

    test('a killed process’s runs come back from its segment once, with two processes recovering at once and a torn last line skipped', async () => {
      // Nothing is committed before the kill: every record is in the spool only.
      await using killed = await spooledAndKilled(engine, 20);
      const { store, spool, accepted, made } = killed;
      assert.equal(accepted, made * 3);
      const [segment, ...others] = segments(spool);
      assert.deepEqual(others, []);
      // Killed in the middle of writing a run: that run's add() never returned.
      appendFileSync(join(spool, segment as string), '[{"id":"rc_torn","extension_point":"p.e');
      // Two processes: two platforms of one process on one SQLite file would wait for each other's
      // transactions synchronously.
      await Promise.all(
        [0, 1].map(async () => {
          const proc = spawn(process.execPath, ['--import', 'tsx', recoverer, store.childArg, spool], { stdio: 'inherit' });
          const [code] = await once(proc, 'exit');
          assert.equal(code, 0);
        }),
      );
      {
        await using platform = await createPlatform({ store: store.url, records: { spool } });
        assert.equal(eachRunOnce(await allRecords(platform)), made);
        const recovered = ofType((await platform.events.list(OPERATOR)).items, 'records.recovered');
        assert.deepEqual(recovered, [{ writer: recovered[0]?.writer, recovered: accepted }], 'one recoverer took the segment');
        assert.match(String(recovered[0]?.writer), /^rw_/);
      }
      // The directory stays: another process (the child) created it.
      assert.deepEqual(readdirSync(spool), []);
    });

    test('a segment is left alone while its process lives, and recovered once its pid is gone or is this process’s under a closed writer', async () => {
      await using killed = await spooledAndKilled(engine, 10);
      const { store, spool, accepted } = killed;
      const [segment] = segments(spool) as [string];
      const [writer, , host, ...rest] = segment.split('+');
      const withPid = (pid: number) => {
        const name = [writer, pid, host, ...rest].join('+');
        renameSync(join(spool, segments(spool)[0] as string), join(spool, name));
      };
      // Our parent (the test runner) is alive.
      withPid(process.ppid);
      {
        await using platform = await createPlatform({ store: store.url, records: { spool } });
        assert.equal((await allRecords(platform)).length, 0);
        assert.equal(segments(spool).length, 1);
      }
      // A previous process with this pid (a restarted container's pid 1): its writer is not open here.
      withPid(process.pid);
      await using platform = await createPlatform({ store: store.url, records: { spool } });
      assert.equal((await allRecords(platform)).length, accepted);
      assert.deepEqual(segments(spool), []);
    });

    test('a writer on another host is recovered once its row and its segments have been quiet for lostAfterMs', async () => {
      await using killed = await spooledAndKilled(engine, 10);
      const { store, spool, accepted } = killed;
      const [segment] = segments(spool) as [string];
      const [writer, pid, , ...rest] = segment.split('+');
      // As a shared directory or a container back under a new hostname would show it.
      renameSync(join(spool, segment), join(spool, [writer, pid, 'another-host', ...rest].join('+')));
      {
        await using platform = await createPlatform({ store: store.url, records: { spool } });
        assert.equal((await allRecords(platform)).length, 0, 'quiet for less than lostAfterMs (60 s)');
      }
      await new Promise((resolve) => setTimeout(resolve, 400));
      await using platform = await createPlatform({ store: store.url, records: { spool, lostAfterMs: 300 } });
      assert.equal(eachRunOnce(await allRecords(platform)) * 3, accepted);
      const events = (await platform.events.list(OPERATOR)).items;
      assert.deepEqual(ofType(events, 'records.recovered'), [
        { writer: ofType(events, 'records.recovered')[0]?.writer, recovered: accepted },
      ]);
      // Recovered before the quiet rows were judged: nothing is reported lost.
      assert.deepEqual(ofType(events, 'records.lost'), []);
    });

    test('a segment the store refuses is reported to onError and kept for the next check, and the platform still opens', async () => {
      await using killed = await spooledAndKilled(engine, 5);
      const { store, spool } = killed;
      const [segment] = segments(spool) as [string];
      // A record without its point: NOT NULL refuses it on both engines.
      writeFileSync(join(spool, segment), '[{"id":"rc_bad"}]\n');
      const errors: unknown[] = [];
      await using platform = await createPlatform({ store: store.url, records: { spool }, onError: (error) => errors.push(error) });
      assert.equal(errors.length, 1);
      assert.match(String((errors[0] as Error).message), /null/i);
      assert.equal((await allRecords(platform)).length, 0);
      assert.deepEqual(ofType((await platform.events.list(OPERATOR)).items, 'records.recovered'), []);
      // Now under this platform's writer, to try again.
      assert.equal(segments(spool).length, 1);
      assert.notEqual(segments(spool)[0], segment);
    });

    test('records dropped past maxBuffered are noted in the spool and reported after a kill', async () => {
      await using killed = await spooledAndKilled(engine, 20, { maxBuffered: 30 });
      const { store, spool, accepted, made } = killed;
      // Three records a run: ten runs fit, the others were dropped whole.
      assert.equal(accepted, 30);
      await using platform = await createPlatform({ store: store.url, records: { spool } });
      assert.equal(eachRunOnce(await allRecords(platform)), 10);
      const events = (await platform.events.list(OPERATOR)).items;
      const [recovered] = ofType(events, 'records.recovered');
      assert.deepEqual(recovered, { writer: recovered?.writer, recovered: 30 });
      assert.deepEqual(ofType(events, 'records.dropped'), [{ writer: recovered?.writer, dropped: made * 3 - 30 }]);
    });

    test('by default the spool is beside a SQLite file, or under tmpdir for PostgreSQL; false turns it off', async () => {
      await using store = await fileStore(engine);
      const spool =
        engine === 'sqlite'
          ? `${store.childArg}.spool`
          : join(tmpdir(), 'tenon-spool', createHash('sha256').update(store.url).digest('hex').slice(0, 16));
      {
        await using platform = await createPlatform({ store: store.url, records: { flushMs: 60_000 } });
        const point = await withPoint(platform);
        await point.run({ tenant: 'm1', input: { n: 1 } });
        assert.equal(segments(spool).length, 1);
      }
      assert.equal(existsSync(spool), false);
      await using platform = await createPlatform({ store: store.url, records: { flushMs: 60_000, spool: false } });
      await (await platform.extensionPoint(behaviourPoint('p.echo', 'echo', { record: { sample: 1 } }))).run({
        tenant: 'm1',
        input: { n: 2 },
      });
      assert.equal(existsSync(spool), false);
      assert.equal(platform.records.spooled, false);
    });

    test('a spool directory that cannot be created fails createPlatform with INVALID', async () => {
      await using store = await fileStore(engine);
      const file = join(store.dir, 'a-file');
      writeFileSync(file, '');
      await assert.rejects(createPlatform({ store: store.url, records: { spool: join(file, 'spool') } }), {
        name: 'PlatformError',
        code: 'INVALID',
        message: /^records\.spool: cannot create the spool directory ".*a-file\/spool"/,
      });
    });
  });
}
