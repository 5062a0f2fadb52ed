// PostgreSQL stopped under running host processes. Opt-in (TENON_PG_FAULTS=1, `npm run test:pg-faults`):
// stopping the shared server would fail every other PostgreSQL test running at the same time, so
// `npm test` never runs it. The server is started again in a finally, whatever happens.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import pg from 'pg';
import { createPlatform, OPERATOR, type PlatformEvent } from '../src/index.js';
import { behaviourPoint, fixture, installed, newStore, PG_URL, withCustomSection } from './helpers.js';
import { type Host, startHost } from './scale-out/hosts.js';

type RunAnswer = { versions: Record<string, number>; codes: Record<string, number> };
type Status = { records: { buffered: number; written: number; dropped: number }; following: boolean };

const skip =
  PG_URL === undefined || process.env.TENON_PG_FAULTS !== '1'
    ? 'TENON_PG_FAULTS=1 and TENON_PG_URL not both set: the PostgreSQL outage test (it stops the shared server) is skipped'
    : false;

function cluster(action: 'stop' | 'start'): void {
  const version = readdirSync('/etc/postgresql')[0] as string;
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action], { stdio: 'inherit' });
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
    let stopped = false;
    try {
      for (const host of hosts) assert.deepEqual((await run(host, 100)).versions, { [setup.versionId]: 100 });
      for (const host of hosts) await host.send({ cmd: 'flush' });
      cluster('stop');
      stopped = true;
      for (const host of hosts) {
        const { versions, codes } = await run(host, 300);
        assert.deepEqual([versions, codes], [{ [setup.versionId]: 300 }, { ok: 300 }]);
      }
      await assert.rejects(h0.send({ cmd: 'update', installation: setup.installations[0], version: v2 }), {
        code: 'UNAVAILABLE',
        message: /cannot be reached .*nothing was changed, try again when it is back/,
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
      stopped = false;
      const after = [await flushed(h0), await flushed(h1)];
      assert.deepEqual(
        after.map((s) => [s.records.buffered, s.records.written, s.records.dropped]),
        [
          [0, 400, 0],
          [0, 300, 100],
        ],
      );
      const [counts] = await query(store.schema as string, 'select count(*)::int as n, count(distinct run_key)::int as keys from records');
      assert.deepEqual(counts, { n: 700, keys: 700 });
      // The installation is as it was: the refused change was not made.
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
      // Changes work again, and reach the other process.
      await h0.send({ cmd: 'update', installation: setup.installations[0], version: v2 });
      for (let i = 0; ; i++) {
        if ((await run(h1, 1)).versions[v2] === 1) break;
        assert.ok(i < 1000, 'the change reached h1 after the restart');
      }
    } finally {
      if (stopped) cluster('start');
      for (const host of hosts) if (host.proc.exitCode === null) host.proc.kill('SIGKILL');
      await platform.close().catch(() => {});
      await store.drop().catch(() => {});
    }
  });
});
