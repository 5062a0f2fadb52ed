// PostgreSQL stopped under running host processes. It stops the shared server, which would fail
// every other PostgreSQL test running at the same time: `npm test` runs it alone, after the main
// suite (this folder is outside the main run's glob). It runs where TENON_PG_URL names this
// machine's server and pg_ctlcluster can stop it (root), and is skipped with a line saying why
// elsewhere. The server is started again in a finally and, should the process die first, in an exit hook.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import pg from 'pg';
import { createPlatform, OPERATOR, type PlatformEvent } from '../../src/index.js';
import { behaviourPoint, fixture, installed, newStore, PG_URL, withCustomSection } from '../helpers.js';
import { type Host, startHost } from '../scale-out/hosts.js';

type RunAnswer = { versions: Record<string, number>; codes: Record<string, number> };
type Status = { records: { buffered: number; written: number; dropped: number }; following: boolean };

/** Why the outage cannot be staged here, or undefined when it can. */
function whyNot(): string | undefined {
  if (PG_URL === undefined) return 'TENON_PG_URL is not set';
  const host = new URL(PG_URL).hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) return `TENON_PG_URL names ${host}, not this machine's server`;
  if (process.getuid?.() !== 0) return 'pg_ctlcluster needs root';
  if (!existsSync('/usr/bin/pg_ctlcluster') || !existsSync('/etc/postgresql')) return "Debian's pg_ctlcluster is not installed";
  return undefined;
}
const why = whyNot();
const skip = why === undefined ? false : `${why}: the PostgreSQL outage test (it stops the local server) is skipped`;

let stopped = false;

function cluster(action: 'stop' | 'start'): void {
  const version = readdirSync('/etc/postgresql')[0] as string;
  // Counted as stopped from the first attempt: a stop that fails halfway still gets its start.
  if (action === 'stop') stopped = true;
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action], { stdio: 'inherit' });
  if (action === 'start') stopped = false;
}

// Whatever ends this process (a failed assertion past the finally, a signal), the shared server
// must not stay down: other test runs and helpers on the machine depend on it.
process.on('exit', () => {
  if (stopped) cluster('start');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (stopped) cluster('start');
    process.exit(130);
  });
}

async function query(schema: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`set search_path = ${schema}`);
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Asks until the host's flush succeeds (the server takes a moment to accept connections again). */
async function flushed(host: Host): Promise<Status> {
  for (let i = 0; ; i++) {
    try {
      return await host.send<Status>({ cmd: 'flush' });
    } catch (error) {
      assert.equal((error as { code?: string }).code, 'UNAVAILABLE');
      assert.ok(i < 300, 'the host wrote its records within 30 s of the restart');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('PostgreSQL stopped in the middle of many runs', { skip }, () => {
  test('hosts keep running their versions, buffer records within the bound, write them once after the restart, count drops, and refuse changes', async () => {
    const store = await newStore('postgres');
    const platform = await createPlatform({ store: store.url, onError: () => {} });
    const setup = await installed(platform, behaviourPoint('p.echo', 'echo', { record: { sample: 1 } }), fixture('behaviours'), ['m1']);
    const v2 = (await platform.versions.upload(setup.actor, setup.pluginId, withCustomSection(fixture('behaviours'), 'v2'))).id;
    // h0 can hold every record of the outage; h1 holds 200 and must drop the rest.
    const hosts = [await startHost(store.url, { batchSize: 50 }), await startHost(store.url, { batchSize: 50, maxBuffered: 200 })];
    const [h0, h1] = hosts as [Host, Host];
    const run = (host: Host, n: number) => host.send<RunAnswer>({ cmd: 'run', point: 'p.echo', tenant: 'm1', n, key: `p${host.proc.pid}` });
    try {
      for (const host of hosts) assert.deepEqual((await run(host, 100)).versions, { [setup.versionId]: 100 });
      for (const host of hosts) await host.send({ cmd: 'flush' });
      cluster('stop');
      for (const host of hosts) {
        const { versions, codes } = await run(host, 300);
        assert.deepEqual([versions, codes], [{ [setup.versionId]: 300 }, { ok: 300 }]);
      }
      await assert.rejects(h0.send({ cmd: 'update', installation: setup.installations[0], version: v2 }), {
        code: 'UNAVAILABLE',
        message: /cannot be reached .*nothing was changed, try again when it is back/,
      });
      await assert.rejects(h1.send({ cmd: 'quota', partner: setup.partnerId, runsPerMinute: 5 }), {
        code: 'UNAVAILABLE',
        message: /cannot be reached .*nothing was changed/,
      });
      const during = [await h0.send<Status>({ cmd: 'status' }), await h1.send<Status>({ cmd: 'status' })];
      assert.deepEqual(
        during.map((s) => [s.records.buffered, s.records.dropped]),
        [
          [300, 0],
          [200, 100],
        ],
      );
      cluster('start');
      const after = [await flushed(h0), await flushed(h1)];
      assert.deepEqual(
        after.map((s) => [s.records.buffered, s.records.written, s.records.dropped]),
        [
          [0, 400, 0],
          [0, 300, 100],
        ],
      );
      // Nothing written twice: as many rows as runs recorded, each id and run key once, and the
      // batches that say they wrote them add up to the same.
      const [counts] = await query(
        store.schema as string,
        'select count(*)::int as n, count(distinct id)::int as ids, count(distinct run_key)::int as keys, (select sum(rows)::int from record_batches) as batched from records',
      );
      assert.deepEqual(counts, { n: 700, ids: 700, keys: 700, batched: 700 });
      // The refused changes were not made: the installation is as it was, no quota was set.
      assert.equal((await platform.events.list(OPERATOR)).items.filter((e) => e.type === 'quota.set').length, 0);
      assert.equal((await platform.installations.get(OPERATOR, setup.installations[0] as string)).versionId, setup.versionId);
      const dropped: PlatformEvent[] = [];
      for (let i = 0; dropped.length === 0; i++) {
        dropped.push(...(await platform.events.list(OPERATOR)).items.filter((e) => e.type === 'records.dropped'));
        assert.ok(i < 100);
      }
      assert.deepEqual(
        dropped.map((e) => e.data),
        [{ dropped: 100, total: 100 }],
      );
      // Dropped is not lost: each host's count in the store says everything it accepted was written.
      assert.equal((await platform.events.list(OPERATOR)).items.filter((e) => e.type === 'records.lost').length, 0);
      assert.deepEqual(await query(store.schema as string, 'select accepted::int, written::int from record_writers order by accepted'), [
        { accepted: 300, written: 300 },
        { accepted: 400, written: 400 },
      ]);
      // Changes work again, and reach the other process.
      await h0.send({ cmd: 'update', installation: setup.installations[0], version: v2 });
      for (let i = 0; ; i++) {
        if ((await run(h1, 1)).versions[v2] === 1) break;
        assert.ok(i < 1000, 'the change reached h1 after the restart');
      }
      // No process crashed on the way.
      assert.deepEqual(
        hosts.map((h) => [h.proc.exitCode, h.proc.signalCode]),
        [
          [null, null],
          [null, null],
        ],
      );
    } finally {
      if (stopped) cluster('start');
      for (const host of hosts) if (host.proc.exitCode === null) host.proc.kill('SIGKILL');
      await platform.close().catch(() => {});
      await store.drop().catch(() => {});
    }
  });
});
