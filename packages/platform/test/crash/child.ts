// A child process the crash test kills with SIGKILL while it works: it sets up a store, prints
// "ready", then repeats one kind of change forever, printing a line after each. In the "run"
// scenario a line "stop" on stdin ends the runs: it stores its count of accepted records and prints
// "counted <accepted> <runs>", then waits to be killed.
import { OPERATOR } from '../../src/index.js';
import { behaviourPoint, fixture, installed, testPlatform, withCustomSection } from '../helpers.js';

const [store, scenario, records] = process.argv.slice(2) as [string, 'upload' | 'installation' | 'run', string | undefined];
// `store`: a SQLite file path, or a store URL (postgres://...). The real clock: the store's count
// of this process is dated, and the test reads how long ago it last moved.
const t = await testPlatform({
  store: store.includes('://') ? store : `sqlite:${store}`,
  now: Date.now,
  // A third argument: record options (JSON) over these, e.g. the spool directory.
  records: { batchSize: 30, flushMs: 1, ...(records === undefined ? {} : JSON.parse(records)) },
});
let stop = false;
process.stdin.on('data', (chunk) => {
  if (String(chunk).includes('stop')) stop = true;
});
const definition = behaviourPoint('p.echo', 'echo', { record: { sample: 1 } });
const point = await t.platform.extensionPoint(definition);
const owners = [];
for (const name of ['a', 'b', 'c']) owners.push(await installed(t.platform, definition, fixture('behaviours'), ['m1'], name));
const owner = owners[0]!;
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  if (stop) {
    // A count already under way when "stop" came stores the totals it began with: the second stores these.
    await t.platform.records.count();
    await t.platform.records.count();
    process.stdout.write(`counted ${t.platform.records.accepted} ${i}\n`);
    setInterval(() => {}, 60_000);
    break;
  }
  if (scenario === 'upload')
    await t.platform.versions.upload(owner.actor, owner.pluginId, withCustomSection(fixture('behaviours'), `v${i}`));
  else if (scenario === 'installation')
    await t.platform.installations.update(OPERATOR, owner.installations[0] as string, { enabled: i % 2 === 1 });
  else await point.run({ tenant: 'm1', key: `run-${i}`, input: { n: i % 100 } });
  process.stdout.write(`${i}\n`);
  // A host runs between I/O events (requests): without a turn of the event loop, pg's socket, which
  // writes the records, would never be read while this loop runs.
  await new Promise((resolve) => setImmediate(resolve));
}
