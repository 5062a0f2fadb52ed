// Three host processes on one PostgreSQL store: a change made through one reaches the others through
// LISTEN/NOTIFY, every run is recorded once, and a quota holds across them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import { createPlatform, OPERATOR, type Platform } from '../src/index.js';
import { behaviourPoint, fixture, installed, newStore, PG_URL, withCustomSection } from './helpers.js';
import { type Host, startHost } from './scale-out/hosts.js';

type RunAnswer = { versions: Record<string, number>; codes: Record<string, number> };
type Status = { records: { buffered: number; written: number; dropped: number }; following: boolean };

const skip = PG_URL === undefined ? 'TENON_PG_URL is not set: the scale-out tests (PostgreSQL) are skipped' : false;

async function count(schema: string, query: string): Promise<number> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`set search_path = ${schema}`);
    return Number((await client.query(query)).rows[0].n);
  } finally {
    await client.end();
  }
}

interface World {
  store: Awaited<ReturnType<typeof newStore>>;
  platform: Platform;
  setup: Awaited<ReturnType<typeof installed>>;
  hosts: Host[];
  close(): Promise<void>;
}

/** A store with p.echo installed for m1 (version 1), `before` done in this process, then three hosts on it. */
async function world(before: (w: Omit<World, 'hosts' | 'close'>) => Promise<void> = async () => {}): Promise<World> {
  const store = await newStore('postgres');
  const platform = await createPlatform({ store: store.url });
  const setup = await installed(platform, behaviourPoint('p.echo', 'echo', { record: { sample: 1 } }), fixture('behaviours'), ['m1']);
  await before({ store, platform, setup });
  const hosts = await Promise.all([0, 1, 2].map(() => startHost(store.url)));
  return {
    store,
    platform,
    setup,
    hosts,
    async close() {
      // Closed, not killed: a killed host would leave its unwritten records in the spool, under tmpdir.
      await Promise.all(hosts.map((host) => (host.proc.exitCode === null ? host.send({ cmd: 'close' }).catch(() => {}) : undefined)));
      for (const host of hosts) if (host.proc.exitCode === null) host.proc.kill('SIGKILL');
      await platform.close();
      await store.drop();
    },
  };
}

/** After a flush, the hosts hold nothing, dropped nothing, and wrote `runs` records, one per run key. */
async function recordedOnce(hosts: readonly Host[], schema: string, runs: number): Promise<void> {
  const written: Status['records'][] = [];
  for (const host of hosts) written.push((await host.send<Status>({ cmd: 'flush' })).records);
  assert.deepEqual(
    written.map((r) => [r.buffered, r.dropped]),
    hosts.map(() => [0, 0]),
  );
  assert.equal(
    written.reduce((sum, r) => sum + r.written, 0),
    runs,
  );
  assert.equal(await count(schema, 'select count(*) as n from records'), runs);
  assert.equal(await count(schema, 'select count(distinct run_key) as n from records'), runs);
}

// Run keys are the process id and a counter: unique across processes.
// The bound is 1 s at p99, which bench:scale-out measures over 100 changes and fails past; a
// test sees a few changes on a machine shared with the rest of the suite, so it allows twice that.
const BOUND_MS = 2000;

const run = (host: Host, n: number, input?: unknown) =>
  host.send<RunAnswer>({
    cmd: 'run',
    point: 'p.echo',
    tenant: 'm1',
    n,
    key: `p${host.proc.pid}`,
    ...(input === undefined ? {} : { input }),
  });

describe('three host processes on one PostgreSQL store', { skip }, () => {
  test('an installation changed through one process runs on every process, and every run is recorded once', async (t) => {
    let v2 = '';
    const w = await world(async ({ platform, setup }) => {
      v2 = (await platform.versions.upload(setup.actor, setup.pluginId, withCustomSection(fixture('behaviours'), 'v2'))).id;
    });
    try {
      const { hosts, setup, store } = w;
      let runs = 0;
      for (const host of hosts) {
        assert.deepEqual((await run(host, 20)).versions, { [setup.versionId]: 20 });
        runs += 20;
      }
      const changed = Date.now();
      await (hosts[0] as Host).send({ cmd: 'update', installation: setup.installations[0], version: v2 });
      // Each other process is asked until it answers with the new version; only NOTIFY tells it.
      const delays: number[] = [];
      for (const host of hosts.slice(1)) {
        for (;;) {
          const { versions } = await run(host, 1);
          runs++;
          if (versions[v2] === 1) break;
          assert.ok(Date.now() - changed < BOUND_MS, `the change reached the process within ${BOUND_MS} ms`);
        }
        delays.push(Date.now() - changed);
      }
      t.diagnostic(`propagation to the other two processes: ${delays.join(' ms, ')} ms (bench:scale-out measures p50/p99)`);
      assert.ok(Math.max(...delays) < BOUND_MS, `delays ${delays} ms`);
      for (const host of hosts) {
        assert.deepEqual((await run(host, 30)).versions, { [v2]: 30 });
        runs += 30;
      }
      await recordedOnce(hosts, store.schema as string, runs);
    } finally {
      await w.close();
    }
  });

  test('a candidate started, promoted and rolled back through different processes runs on every process, and every run is recorded once', async (t) => {
    let v2 = '';
    let v3 = '';
    const w = await world(async ({ platform, setup }) => {
      v2 = (await platform.versions.upload(setup.actor, setup.pluginId, withCustomSection(fixture('behaviours'), 'v2'))).id;
      v3 = (await platform.versions.upload(setup.actor, setup.pluginId, withCustomSection(fixture('behaviours'), 'v3'))).id;
    });
    try {
      const { hosts, setup, store } = w;
      const [h0, h1, h2] = hosts as [Host, Host, Host];
      const installation = setup.installations[0];
      let runs = 0;
      const counted = async (host: Host, n: number) => {
        const answer = await run(host, n);
        runs += n;
        return answer.versions;
      };
      /** Until every process answers as `done` says: the delay from the change to each process, in ms. */
      const reached = async (at: number, done: (versions: Record<string, number>) => boolean) => {
        const delays: number[] = [];
        for (const host of hosts) {
          while (!done(await counted(host, 20))) {
            assert.ok(Date.now() - at < BOUND_MS, `the change reached process ${host.proc.pid} within ${BOUND_MS} ms`);
          }
          delays.push(Date.now() - at);
        }
        return delays;
      };
      for (const host of hosts) assert.deepEqual(await counted(host, 20), { [setup.versionId]: 20 });

      const started = await h0.send<{ at: number }>({ cmd: 'candidate', installation, version: v2, percent: 50 });
      const toCandidate = await reached(started.at, (v) => (v[v2] ?? 0) > 0);
      // A sticky half of the run keys goes to the candidate, on every process.
      for (const host of hosts) {
        const versions = await counted(host, 100);
        assert.deepEqual(Object.keys(versions).sort(), [setup.versionId, v2].sort());
        assert.ok((versions[v2] as number) >= 25 && (versions[v2] as number) <= 75, JSON.stringify(versions));
      }

      const promoted = await h1.send<{ at: number }>({ cmd: 'promote', installation });
      const toPromoted = await reached(promoted.at, (v) => v[v2] === 20);

      const next = await h2.send<{ at: number }>({ cmd: 'candidate', installation, version: v3, percent: 100 });
      const toNext = await reached(next.at, (v) => v[v3] === 20);
      const rolledBack = await h0.send<{ at: number }>({ cmd: 'rollback', installation });
      const toRolledBack = await reached(rolledBack.at, (v) => v[v2] === 20);
      t.diagnostic(
        `delays to the three processes (ms): started ${toCandidate}, promoted ${toPromoted}, next started ${toNext}, rolled back ${toRolledBack}`,
      );
      // Settled: every process runs v2 only, as the store says.
      for (const host of hosts) assert.deepEqual(await counted(host, 30), { [v2]: 30 });
      const installed = await w.platform.installations.get(OPERATOR, installation as string);
      assert.deepEqual([installed.versionId, installed.candidate], [v2, null]);

      await recordedOnce(hosts, store.schema as string, runs);
      // Each process ran the candidate as such: its records say which version answered.
      assert.ok((await count(store.schema as string, `select count(*) as n from records where version_id = '${v3}'`)) >= 60);
    } finally {
      await w.close();
    }
  });

  test('a quota holds across processes: each counts the others’ usage from its first sync on', async () => {
    const input = { n: 7 };
    const w = await world(async ({ platform, setup }) => {
      const fuel = (await platform.run(OPERATOR, 'p.echo', { tenant: 'm1', input })).results[0]?.fuel as number;
      await platform.quotas.set(OPERATOR, setup.partnerId, { fuelPerDay: 60 * fuel });
    });
    try {
      const [h0, h1, h2] = w.hosts as [Host, Host, Host];
      assert.deepEqual((await run(h0, 40, input)).codes, { ok: 40 });
      await h0.send({ cmd: 'flush' });
      // h1's first run is admitted on its own count (0) before its first sync: the burst docs/scale-out.md bounds.
      assert.deepEqual((await run(h1, 1, input)).codes, { ok: 1 });
      await h1.send({ cmd: 'flush' });
      assert.deepEqual((await run(h1, 30, input)).codes, { ok: 19, QUOTA_EXCEEDED: 11 });
      await h1.send({ cmd: 'flush' });
      assert.deepEqual((await run(h2, 1, input)).codes, { ok: 1 });
      await h2.send({ cmd: 'flush' });
      assert.deepEqual((await run(h2, 10, input)).codes, { QUOTA_EXCEEDED: 10 });
    } finally {
      await w.close();
    }
  });
});
