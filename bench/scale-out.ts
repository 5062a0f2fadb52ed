/**
 * Scale-out benchmark, side by side in one run (needs PostgreSQL: TENON_PG_URL, default the local
 * server at postgres://postgres@127.0.0.1:5432/test):
 *
 *   npm run bench:scale-out
 *
 * - runs per second and records per second (every run recorded, flushed at the end) for one host
 *   process on SQLite (a file store), one on PostgreSQL, and two on PostgreSQL at once;
 * - the platform's record writes (its recorder: batches with their id, one transaction each) against
 *   a bare multi-row INSERT of the same rows through pg (400 rows per statement, one transaction per
 *   2,000 rows, the recorder's batch size): the floor, medians of ROUNDS alternating rounds;
 * - propagation: from an installation change asked of one process until another runs the new
 *   version (commit, NOTIFY, catch-up read, reload, run), p50 and p99 over CHANGES changes.
 *
 * It stops with an error, rather than print a figure, when a figure would not measure what it says:
 * a run that did not answer ok, a record not written or written twice, a dropped record, a delay
 * that ends before its change was asked for. A recorder below the floor, or a p99 delay over 1 s, is printed and fails the exit status.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createPlatform, type Platform } from '../packages/platform/src/index.js';
import { behaviourPoint, dropSchema, fixture, installed, newStore, withCustomSection } from '../packages/platform/test/helpers.js';
import { type Host, startHost } from '../packages/platform/test/scale-out/hosts.js';

const PG_URL = process.env.TENON_PG_URL;
if (PG_URL === undefined) {
  console.error('bench:scale-out needs PostgreSQL: set TENON_PG_URL (npm run bench:scale-out defaults it to the local server)');
  process.exit(2);
}
const RUNS = 3000;
const RECORDS = 20_000;
const ROUNDS = 5;
const CHANGES = 100;

/** Stops the benchmark: what follows would not measure what it claims. */
function check(ok: boolean, what: string): asserts ok {
  if (!ok) throw new Error(`bench:scale-out is not measuring what it claims: ${what}`);
}

type Status = { records: { written: number; dropped: number; buffered: number } };
type RunAnswer = { codes: Record<string, number> };

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)] as number;

const definition = behaviourPoint('p.echo', 'echo', { record: { sample: 1, retain: 10_000_000 } });

/** A store with p.echo installed for m1; returns what the hosts need. */
async function prepare(url: string) {
  const platform = await createPlatform({ store: url });
  const setup = await installed(platform, definition, fixture('behaviours'), ['m1']);
  const v2 = (await platform.versions.upload(setup.actor, setup.pluginId, withCustomSection(fixture('behaviours'), 'v2'))).id;
  return { platform, setup, v2 };
}

async function throughput(url: string, processes: number): Promise<{ runs: number; records: number }> {
  const { platform } = await prepare(url);
  const hosts = await Promise.all(Array.from({ length: processes }, () => startHost(url)));
  try {
    // Warm up: modules compiled, connections open.
    await Promise.all(hosts.map((h) => h.send({ cmd: 'run', point: 'p.echo', tenant: 'm1', n: 50, key: `w${h.proc.pid}` })));
    await Promise.all(hosts.map((h) => h.send({ cmd: 'flush' })));
    const before = await Promise.all(hosts.map((h) => h.send<Status>({ cmd: 'status' })));
    const started = performance.now();
    const answers = await Promise.all(
      hosts.map((h) => h.send<RunAnswer>({ cmd: 'run', point: 'p.echo', tenant: 'm1', n: RUNS, key: `p${h.proc.pid}` })),
    );
    const after = await Promise.all(hosts.map((h) => h.send<Status>({ cmd: 'flush' })));
    const seconds = (performance.now() - started) / 1000;
    const written = after.reduce((sum, s, i) => sum + s.records.written - (before[i]?.records.written ?? 0), 0);
    for (const answer of answers) check(answer.codes.ok === RUNS, `runs answered ${JSON.stringify(answer.codes)}, not ${RUNS} ok`);
    check(written === RUNS * processes, `${written} records written for ${RUNS * processes} runs, each recorded once`);
    check(
      after.every((s) => s.records.dropped === 0 && s.records.buffered === 0),
      'records dropped or left unwritten after the flush',
    );
    return { runs: (RUNS * processes) / seconds, records: written / seconds };
  } finally {
    await Promise.all(hosts.map((h) => h.send({ cmd: 'close' }).catch(() => {})));
    await platform.close();
  }
}

type Row = Record<string, unknown>;

function rows(count: number, round: number): Row[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `rc_${round}_${i}`,
    extension_point: 'p.echo',
    tenant: 'm1',
    run_key: `k${i}`,
    installation_id: 'in_x',
    plugin_id: 'pl_x',
    partner_id: 'pt_x',
    version_id: 'v_x',
    outcome: 'ok',
    code: null,
    message: null,
    input: '{"n":1}',
    output: '{"n":1}',
    config: '{}',
    fuel: 1234,
    budget: 200000,
    duration_us: 12,
    at: Date.now(),
  }));
}

/** The floor: the same rows in multi-row INSERTs of 400, one transaction per 2,000, through pg. */
async function bareInsert(client: pg.Client, batch: Row[]): Promise<void> {
  const columns = Object.keys(batch[0] as Row);
  for (let t = 0; t < batch.length; t += 2000) {
    await client.query('begin');
    for (let i = t; i < Math.min(t + 2000, batch.length); i += 400) {
      const chunk = batch.slice(i, Math.min(i + 400, t + 2000, batch.length));
      const values: unknown[] = [];
      const tuples = chunk.map((row) => {
        for (const c of columns) values.push(row[c]);
        return `(${columns.map((_, k) => `$${values.length - columns.length + k + 1}`).join(',')})`;
      });
      await client.query(`insert into records (${columns.join(',')}) values ${tuples.join(',')}`, values);
    }
    await client.query('commit');
  }
}

async function recordWrites(): Promise<{ platform: number; bare: number }> {
  const store = await newStore('postgres');
  const platform: Platform = await createPlatform({ store: store.url, records: { flushMs: 60_000 } });
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`set search_path = ${store.schema}`);
  // The recorder's own entry point (the run path calls it), so the rows are the same as the floor's.
  const recorder = platform.records as unknown as { add(rows: Row[], point: string, retain: number): void };
  const ours: number[] = [];
  const bare: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const a = rows(RECORDS, round);
      let started = performance.now();
      for (let i = 0; i < a.length; i += 100) recorder.add(a.slice(i, i + 100), 'p.echo', 10_000_000);
      await platform.flush();
      ours.push(RECORDS / ((performance.now() - started) / 1000));
      const b = rows(RECORDS, round + 1000);
      started = performance.now();
      await bareInsert(client, b);
      bare.push(RECORDS / ((performance.now() - started) / 1000));
    }
    const { rows: counted } = await client.query('select count(*)::int as n, count(distinct id)::int as ids from records');
    check(
      counted[0].n === 2 * ROUNDS * RECORDS && counted[0].ids === counted[0].n && platform.status().records.dropped === 0,
      `${counted[0].n} rows (${counted[0].ids} ids) in the table for ${2 * ROUNDS * RECORDS} written by the two writers`,
    );
  } finally {
    await client.end();
    await platform.close();
    await store.drop();
  }
  return { platform: median(ours), bare: median(bare) };
}

async function propagation(): Promise<number[]> {
  const store = await newStore('postgres');
  const { platform, setup, v2 } = await prepare(store.url);
  const [a, b] = (await Promise.all([startHost(store.url), startHost(store.url)])) as [Host, Host];
  const delays: number[] = [];
  try {
    const versions = [v2, setup.versionId];
    for (let i = 0; i < CHANGES; i++) {
      const version = versions[i % 2] as string;
      const seen = b.send<{ at: number }>({ cmd: 'awaitVersion', point: 'p.echo', tenant: 'm1', version });
      const changed = await a.send<{ asked: number }>({ cmd: 'update', installation: setup.installations[0], version });
      // From the change's request, its commit included: measured from the commit's acknowledgement,
      // a loaded machine may deschedule the changing process long enough for the other to run first.
      const delay = (await seen).at - changed.asked;
      check(delay >= 0, `change ${i} seen ${-delay} ms before it was asked for`);
      delays.push(delay);
    }
  } finally {
    await Promise.all([a, b].map((h) => h.send({ cmd: 'close' }).catch(() => {})));
    await platform.close();
    await dropSchema(store.schema as string);
  }
  return delays;
}

const dir = mkdtempSync(join(tmpdir(), 'tenon-bench-'));
try {
  const results: [string, { runs: number; records: number }][] = [];
  results.push(['1 process, SQLite', await throughput(`sqlite:${join(dir, 'tenon.db')}`, 1)]);
  for (const processes of [1, 2]) {
    const store = await newStore('postgres');
    try {
      results.push([`${processes} process${processes > 1 ? 'es' : ''}, PostgreSQL`, await throughput(store.url, processes)]);
    } finally {
      await store.drop();
    }
  }
  console.log(`runs (every one recorded), ${RUNS} per process, records flushed within the time:`);
  const base = results[0]?.[1].runs as number;
  for (const [name, r] of results) {
    console.log(
      `  ${name.padEnd(24)} ${r.runs.toFixed(0).padStart(7)} runs/s  ${r.records.toFixed(0).padStart(7)} records/s  (${(r.runs / base).toFixed(2)}× SQLite)`,
    );
  }
  const writes = await recordWrites();
  console.log(`record writes to PostgreSQL, ${RECORDS} rows, median of ${ROUNDS}:`);
  console.log(`  platform recorder        ${writes.platform.toFixed(0).padStart(7)} records/s`);
  console.log(`  bare multi-row INSERT    ${writes.bare.toFixed(0).padStart(7)} records/s`);
  const ratio = writes.platform / writes.bare;
  console.log(`  ratio                    ${ratio.toFixed(2)}× (floor 0.70×)${ratio < 0.7 ? '  BELOW THE FLOOR' : ''}`);
  if (ratio < 0.7) process.exitCode = 1;
  const delays = await propagation();
  console.log(`propagation of an installation change to another process, from its request (${CHANGES} changes):`);
  const p99 = percentile(delays, 99);
  console.log(
    `  p50 ${percentile(delays, 50)} ms, p99 ${p99} ms, max ${Math.max(...delays)} ms (bound 1000 ms at p99)${p99 > 1000 ? '  OVER THE BOUND' : ''}`,
  );
  if (p99 > 1000) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
