// A child process the crash test kills with SIGKILL while it works: it sets up a store, prints
// "ready", then repeats one kind of change forever, printing a line after each.
import { OPERATOR } from '../../src/index.js';
import { behaviourPoint, fixture, installed, testPlatform, withCustomSection } from '../helpers.js';

const [store, scenario] = process.argv.slice(2) as [string, 'upload' | 'installation' | 'run'];
// `store`: a SQLite file path, or a store URL (postgres://...).
const t = await testPlatform({ store: store.includes('://') ? store : `sqlite:${store}`, records: { batchSize: 30, flushMs: 1 } });
const definition = behaviourPoint('p.echo', 'echo', { record: { sample: 1 } });
const point = await t.platform.extensionPoint(definition);
const owners = [];
for (const name of ['a', 'b', 'c']) owners.push(await installed(t.platform, definition, fixture('behaviours'), ['m1'], name));
const owner = owners[0]!;
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
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
