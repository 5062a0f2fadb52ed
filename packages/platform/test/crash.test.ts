import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { createPlatform, OPERATOR, type PlatformEvent } from '../src/index.js';
import { fixture, newStore, PG_URL, withCustomSection } from './helpers.js';

const child = new URL('crash/child.ts', import.meta.url).pathname;

/** Runs the child on a new store until it has done `steps` changes, then kills it with SIGKILL. Returns the store path. */
async function killMidway(scenario: string, steps: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tenon-crash-'));
  const store = join(dir, 'tenon.db');
  await killChild(store, scenario, steps);
  return store;
}

/** Runs the child on `store` until it has printed `steps` lines, kills it with SIGKILL, and returns how many it printed. */
async function killChild(store: string, scenario: string, steps: number): Promise<number> {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, store, scenario], { stdio: ['ignore', 'pipe', 'inherit'] });
  let seen = 0;
  let ready = false;
  await new Promise<void>((resolve, reject) => {
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) {
        if (line === 'ready') ready = true;
        else if (ready && line !== '') seen++;
      }
      if (seen >= steps && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    });
    proc.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited with ${code ?? signal}`))));
  });
  return seen;
}

function rows<T>(store: string, query: string): T[] {
  const db = new BetterSqlite3(store, { readonly: true });
  try {
    return db.prepare(query).all() as T[];
  } finally {
    db.close();
  }
}

/**
 * Every recorded run has all 3 installations' records, once, and (batches commit in order) the
 * recorded runs are a prefix of the runs made. Returns the recorded runs' numbers.
 */
function wholePrefix(perRun: { run_key: string; n: number; installations: number }[]): number[] {
  assert.ok(perRun.length > 0, 'some runs were recorded before the kill');
  for (const run of perRun) assert.deepEqual([run.run_key, Number(run.n), Number(run.installations)], [run.run_key, 3, 3]);
  const keys = perRun.map((r) => Number(r.run_key.slice('run-'.length))).sort((a, b) => a - b);
  assert.deepEqual(
    keys,
    keys.map((_, i) => i),
  );
  return keys;
}

async function until(what: string, done: () => boolean | Promise<boolean>, proc: { exitCode: number | null }): Promise<void> {
  for (let i = 0; !(await done()); i++) {
    assert.ok(i < 1500 && proc.exitCode === null, `${what} within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function perRun(db: pg.Client): Promise<{ run_key: string; n: number; installations: number }[]> {
  return db
    .query('select run_key, count(*)::int as n, count(distinct installation_id)::int as installations from records group by run_key')
    .then((r) => r.rows);
}

/** Waits until the only writer's row has not moved for `ms`. */
async function quietFor(db: pg.Client, ms: number): Promise<void> {
  await until(
    `the count quiet for ${ms} ms`,
    async () => {
      const { rows } = await db.query('select seen_at from record_writers');
      return Date.now() - Number(rows[0].seen_at) > ms;
    },
    { exitCode: null },
  );
}

describe('a process killed with SIGKILL leaves the store consistent', () => {
  test('during uploads: every version is whole (bytes, hash, report) with exactly one event, and uploads go on', async () => {
    for (const steps of [3, 7]) {
      const store = await killMidway('upload', steps);
      try {
        const versions = rows<{ id: string; sha256: string; module: Buffer; report: string; status: string }>(
          store,
          'select * from versions',
        );
        assert.ok(versions.length >= 3 + steps, `${versions.length} versions`);
        for (const v of versions) {
          assert.equal(createHash('sha256').update(v.module).digest('hex'), v.sha256);
          assert.equal(v.status, 'validated');
          assert.ok(Array.isArray(JSON.parse(v.report).checks));
        }
        const events = rows<{ subject: string }>(
          store,
          "select subject from events where type in ('version.validated', 'version.rejected')",
        );
        assert.deepEqual(events.map((e) => e.subject).sort(), versions.map((v) => v.id).sort());
        await using platform = await createPlatform({ store: `sqlite:${store}` });
        const [plugin] = await platform.plugins.list(OPERATOR);
        const next = await platform.versions.upload(
          OPERATOR,
          plugin?.id as string,
          withCustomSection(fixture('behaviours'), 'after-restart'),
        );
        assert.equal(next.status, 'validated');
      } finally {
        rmSync(join(store, '..'), { recursive: true, force: true });
      }
    }
  });

  test('during installation changes: the row matches its last event, one event per committed change', async () => {
    for (const steps of [4, 9]) {
      const store = await killMidway('installation', steps);
      try {
        const installations = rows<{ id: string; enabled: number }>(store, 'select id, enabled from installations order by created_at, id');
        const events = rows<{ subject: string; data: string }>(
          store,
          "select subject, data from events where type = 'installation.changed' order by seq",
        );
        const changedId = events[0]?.subject;
        assert.ok(events.length >= steps, `${events.length} changes`);
        assert.ok(events.every((e) => e.subject === changedId));
        const last = JSON.parse(events.at(-1)?.data as string) as { enabled: boolean };
        assert.equal(installations.find((i) => i.id === changedId)?.enabled === 1, last.enabled);
        // Each committed change alternated the flag: the events say false, true, false, ...
        assert.deepEqual(
          events.map((e) => JSON.parse(e.data).enabled),
          events.map((_, i) => i % 2 === 1),
        );
        await using platform = await createPlatform({ store: `sqlite:${store}` });
        const updated = await platform.installations.update(OPERATOR, changedId as string, { enabled: !last.enabled });
        assert.equal(updated.enabled, !last.enabled);
      } finally {
        rmSync(join(store, '..'), { recursive: true, force: true });
      }
    }
  });

  test('during recorded runs: every run is recorded for all its installations or not at all, never twice, and the spool restores every run made', async () => {
    for (const steps of [40, 150]) {
      const dir = mkdtempSync(join(tmpdir(), 'tenon-crash-'));
      const store = join(dir, 'tenon.db');
      try {
        const made = await killChild(store, 'run', steps);
        const query = 'select run_key, count(*) as n, count(distinct installation_id) as installations from records group by run_key';
        const committed = wholePrefix(rows(store, query));
        await using platform = await createPlatform({ store: `sqlite:${store}` });
        // Each run's records reached the spool before its line was printed.
        const recorded = wholePrefix(rows(store, query));
        assert.ok(recorded.length >= made && recorded.length >= committed.length, `${recorded.length} recorded, ${made} made`);
        const run = await platform.run(OPERATOR, 'p.echo', { tenant: 'm1', key: 'after', input: { n: 1 } });
        assert.equal(run.results.length, 3);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});

describe('a process on PostgreSQL killed with SIGKILL mid-batch', {
  skip: PG_URL === undefined ? 'TENON_PG_URL is not set: PostgreSQL skipped' : false,
}, () => {
  test('loses only records it had not committed: every recorded run is whole, once, a prefix of the runs made', async (t) => {
    const store = await newStore('postgres');
    try {
      const made = await killChild(store.url, 'run', 150);
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      let perRun: { run_key: string; n: number; installations: number }[];
      try {
        await client.query(`set search_path = ${store.schema}`);
        perRun = (
          await client.query(
            'select run_key, count(*)::int as n, count(distinct installation_id)::int as installations from records group by run_key',
          )
        ).rows;
      } finally {
        await client.end();
      }
      const keys = wholePrefix(perRun);
      // The child printed a line after each run: the runs it made, at least, against those recorded.
      assert.ok(keys.length <= made + 1, `${keys.length} recorded, ${made} made`);
      t.diagnostic(`runs made (printed) ${made}, recorded ${keys.length}: ${made - keys.length} runs' records were not yet committed`);
      await using platform = await createPlatform({ store: store.url });
      const run = await platform.run(OPERATOR, 'p.echo', { tenant: 'm1', key: 'after', input: { n: 1 } });
      assert.equal(run.results.length, 3);
    } finally {
      await store.drop();
    }
  });

  /**
   * Runs the child on a new schema with its spool in `spool` until a PostgreSQL lock holds one of
   * its batches in flight and 20 more runs are buffered behind it, has it store its count, and
   * kills it. Then `check` runs with the store and what the child said.
   */
  async function killWithBatchInFlight(
    check: (killed: {
      store: Awaited<ReturnType<typeof newStore>>;
      db: pg.Client;
      spool: string;
      accepted: number;
      made: number;
      recorded: number;
    }) => Promise<void>,
  ): Promise<void> {
    const store = await newStore('postgres');
    const spool = mkdtempSync(join(tmpdir(), 'tenon-crash-spool-'));
    const db = new pg.Client({ connectionString: PG_URL });
    await db.connect();
    await db.query(`set search_path = ${store.schema}`);
    const proc = spawn(process.execPath, ['--import', 'tsx', child, store.url, 'run', JSON.stringify({ spool })], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: proc.stdout });
    let runs = 0;
    let counted: [number, number] | undefined;
    lines.on('line', (line) => {
      if (/^\d+$/.test(line)) runs++;
      const match = /^counted (\d+) (\d+)$/.exec(line);
      if (match !== null) counted = [Number(match[1]), Number(match[2])];
    });
    try {
      await until('40 runs', () => runs >= 40, proc);
      // Holds the child's next batch in flight: its insert waits for this lock.
      await db.query('begin');
      await db.query('lock table records in share mode');
      const blocked = async () =>
        (
          await db.query(
            `select count(*)::int as n from pg_locks l join pg_class c on c.oid = l.relation join pg_namespace s on s.oid = c.relnamespace
             where not l.granted and c.relname = 'records' and s.nspname = $1`,
            [store.schema],
          )
        ).rows[0].n > 0;
      await until('a batch blocked in flight', blocked, proc);
      const atBlock = runs;
      await until('20 more runs buffered behind it', () => runs >= atBlock + 20, proc);
      proc.stdin.write('stop\n');
      await until('the child stored its count', () => counted !== undefined, proc);
      const [accepted, made] = counted as [number, number];
      proc.kill('SIGKILL');
      await once(proc, 'exit');
      await db.query('rollback');

      const recorded = (await db.query('select count(*)::int as n from records')).rows[0].n as number;
      const [writer] = (await db.query('select accepted::int, written::int from record_writers')).rows;
      // Three installations: three records a run. The committed count is exact (same transaction as
      // the rows), the accepted one is as the child stored it.
      assert.deepEqual(writer, { accepted: made * 3, written: recorded });
      assert.equal(accepted, made * 3);
      // At least the batch held in flight and the 20 runs after it were not committed.
      assert.ok(accepted - recorded >= 60 && recorded > 0, `${recorded} recorded, ${accepted - recorded} not`);
      wholePrefix(await perRun(db));
      await check({ store, db, spool, accepted, made, recorded });
    } finally {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await db.end();
      await store.drop();
      rmSync(spool, { recursive: true, force: true });
    }
  }

  test('with a batch held in flight and runs buffered behind it: a platform opened at once writes every run from the spool, once, and nothing is lost', async () => {
    await killWithBatchInFlight(async ({ store, db, spool, accepted, made, recorded }) => {
      assert.ok(readdirSync(spool).length > 0, 'the uncommitted batches are in the spool');
      {
        // The child's pid is gone: its segments are recovered at open, without waiting for lostAfterMs.
        await using platform = await createPlatform({ store: store.url, records: { spool } });
        const recovered = (await platform.events.list(OPERATOR)).items.filter((e) => e.type === 'records.recovered');
        const [{ id: writer }] = (await db.query('select id from record_writers')).rows;
        assert.deepEqual(
          recovered.map((e) => e.data),
          [{ writer, recovered: accepted - recorded }],
        );
      }
      assert.deepEqual(wholePrefix(await perRun(db)).length, made);
      assert.deepEqual((await db.query('select accepted::int, written::int from record_writers')).rows, [{ accepted, written: accepted }]);
      assert.deepEqual(readdirSync(spool), [], 'every segment recovered and removed');
      // Quiet for longer than lostAfterMs: its row is found, with nothing lost to report.
      await quietFor(db, 300);
      await using platform = await createPlatform({ store: store.url, records: { lostAfterMs: 300, spool } });
      assert.deepEqual(
        (await platform.events.list(OPERATOR)).items.filter((e) => e.type === 'records.lost'),
        [],
      );
    });
  });

  test('with the spool moved away: loses that batch and the runs buffered since, counted exactly and reported once by records.lost; the spool put back later corrects the count', async () => {
    await killWithBatchInFlight(async ({ store, db, spool, accepted, made, recorded }) => {
      const away = `${spool}.away`;
      renameSync(spool, away);
      const lost = accepted - recorded;
      const [{ id: writer }] = (await db.query('select id from record_writers')).rows;
      // Just killed, it might as well be alive: not reported yet.
      {
        await using platform = await createPlatform({ store: store.url, records: { spool } });
        assert.deepEqual(
          (await platform.events.list(OPERATOR)).items.filter((e) => e.type === 'records.lost'),
          [],
        );
      }
      // Quiet for longer than lostAfterMs: reported at open, once, with the count.
      await quietFor(db, 300);
      const reports: PlatformEvent[] = [];
      for (let i = 0; i < 2; i++) {
        await using platform = await createPlatform({ store: store.url, records: { lostAfterMs: 300, spool } });
        reports.push(...(await platform.events.list(OPERATOR)).items.filter((e) => e.type === 'records.lost'));
      }
      assert.deepEqual(
        reports.map((e) => e.data),
        [
          { writer, lost, accepted, written: recorded },
          { writer, lost, accepted, written: recorded },
        ],
      );
      assert.equal(reports[0]?.id, reports[1]?.id, 'one event, read by both opens');
      // Kept, marked as reported, for a recovery to correct.
      const [row] = (await db.query('select reported_at from record_writers')).rows;
      assert.ok(Number(row.reported_at) > 0);

      rmSync(spool, { recursive: true, force: true });
      renameSync(away, spool);
      await using platform = await createPlatform({ store: store.url, records: { spool } });
      const recovered = (await platform.events.list(OPERATOR)).items.filter((e) => e.type === 'records.recovered');
      assert.deepEqual(
        recovered.map((e) => e.data),
        [{ writer, recovered: lost }],
      );
      assert.equal(wholePrefix(await perRun(db)).length, made);
      assert.deepEqual((await db.query('select accepted::int, written::int from record_writers')).rows, [{ accepted, written: accepted }]);
    });
  });
});
