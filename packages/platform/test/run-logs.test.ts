import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ExtensionPointDefinition, OPERATOR, type RunOutcome, type RunRecord } from '../src/index.js';
import { behaviourPoint, fixture, forEachEngine, installed, type TestPlatform, withCustomSection } from './helpers.js';

const ticks = (n: number) => Array.from({ length: n }, () => ({ level: 'warn', message: 'tick' }));

forEachEngine('run logs', (engine) => {
  /** One recorded run of the chatty fixture on a point with `extra`: the run's outcome and its record. */
  async function chattyRun(
    t: TestPlatform,
    input: object,
    extra: Partial<ExtensionPointDefinition> = {},
  ): Promise<{ outcome: RunOutcome | undefined; record: RunRecord }> {
    const definition = behaviourPoint('p.chatty', 'chatty', { record: { sample: 1 }, ...extra });
    const point = await t.platform.extensionPoint(definition);
    await installed(t.platform, definition, fixture('chatty'), ['m1']);
    const run = await point.run({ tenant: 'm1', input });
    await t.platform.flush();
    return { outcome: run.results[0], record: (await t.platform.records.list(OPERATOR)).items[0] as RunRecord };
  }

  test("a recorded run's record holds its plug-in's log lines at the point's level, info by default", async () => {
    await using t = await engine.testPlatform();
    const { outcome, record } = await chattyRun(t, { n: 1 });
    assert.equal(outcome?.outcome, 'ok');
    // The debug line is below info; the info line is the tenant's input, then one tick per input byte.
    assert.deepEqual(record.logs, { lines: [{ level: 'info', message: '{"n":1}' }, ...ticks(7)], dropped: 0 });
  });

  test('a point at warn keeps only warn lines, and at off keeps none', async () => {
    await using t = await engine.testPlatform();
    for (const logLevel of ['warn', 'off'] as const) {
      const definition = behaviourPoint(`p.${logLevel}`, 'chatty', { record: { sample: 1, logLevel } });
      const point = await t.platform.extensionPoint(definition);
      await installed(t.platform, definition, fixture('chatty'), ['m1'], `acme-${logLevel}`);
      await point.run({ tenant: 'm1', input: { n: 2 } });
    }
    await t.platform.flush();
    const logs = Object.fromEntries((await t.platform.records.list(OPERATOR)).items.map((r) => [r.extensionPoint, (r as RunRecord).logs]));
    assert.deepEqual(logs, { 'p.warn': { lines: ticks(7), dropped: 0 }, 'p.off': { lines: [], dropped: 0 } });
  });

  test('a record keeps the first 50 lines and counts the rest as dropped', async () => {
    await using t = await engine.testPlatform();
    const input = { n: 1, pad: 'x'.repeat(200) };
    const { record } = await chattyRun(t, input);
    const length = JSON.stringify(input).length;
    assert.deepEqual(record.logs, { lines: [{ level: 'info', message: JSON.stringify(input) }, ...ticks(49)], dropped: 1 + length - 50 });
  });

  test('a line past 8 KiB of log text is dropped, and every line after it', async () => {
    await using t = await engine.testPlatform();
    const input = { n: 1, pad: 'x'.repeat(8200) };
    const { outcome, record } = await chattyRun(t, input, {
      limits: { fuel: 5_000_000, timeoutMs: 5000, maxPages: 4, maxOutputBytes: 16_384, maxLogBytes: 100_000 },
    });
    assert.equal(outcome?.outcome, 'ok');
    assert.deepEqual(record.logs, { lines: [], dropped: 1 + JSON.stringify(input).length });
  });

  test('a plug-in logging past limits.maxLogBytes is contained with LOG_LIMIT, its first lines kept', async () => {
    await using t = await engine.testPlatform();
    const { outcome, record } = await chattyRun(
      t,
      { n: 1, pad: 'x'.repeat(60) },
      {
        limits: { fuel: 5_000_000, timeoutMs: 5000, maxPages: 4, maxOutputBytes: 4096, maxLogBytes: 100 },
      },
    );
    assert.equal(outcome?.code, 'LOG_LIMIT');
    assert.equal(record.code, 'LOG_LIMIT');
    assert.equal(record.logs.lines[0]?.level, 'info');
    assert.ok(record.logs.lines.length > 1 && record.logs.lines.length < 50, `${record.logs.lines.length} lines`);
  });

  test("a partner's view of its plug-in's runs has no log lines", async () => {
    await using t = await engine.testPlatform();
    const definition = behaviourPoint('p.chatty', 'chatty', { record: { sample: 1 } });
    const point = await t.platform.extensionPoint(definition);
    const { actor } = await installed(t.platform, definition, fixture('chatty'), ['m1']);
    await point.run({ tenant: 'm1', input: { n: 1 } });
    await t.platform.flush();
    const [record] = (await t.platform.records.list(actor)).items;
    assert.ok(record !== undefined);
    assert.equal('logs' in record, false);
    assert.doesNotMatch(JSON.stringify(record), /tick|"n":1/);
  });

  test('an unrecorded run keeps no lines, and a replay of a recorded one is unchanged by its logs', async () => {
    const draws = [0.9, 0];
    await using t = await engine.testPlatform({ random: () => draws.shift() ?? 0 });
    const definition = behaviourPoint('p.chatty', 'chatty', { record: { sample: 0.5 } });
    const point = await t.platform.extensionPoint(definition);
    const { actor, pluginId } = await installed(t.platform, definition, fixture('chatty'), ['m1']);
    assert.equal((await point.run({ tenant: 'm1', input: { n: 1 } })).recorded, false);
    assert.equal((await point.run({ tenant: 'm1', input: { n: 2 } })).recorded, true);
    await t.platform.flush();
    const { items } = await t.platform.records.list(OPERATOR);
    assert.deepEqual(
      items.map((r) => (r as RunRecord).logs.lines[0]),
      [{ level: 'info', message: '{"n":2}' }],
    );
    // The same code as another version: its answers match, whatever its lines.
    const same = await t.platform.versions.upload(actor, pluginId, withCustomSection(fixture('chatty'), 'v2'));
    const replay = await t.platform.replays.create(OPERATOR, { version: same.id });
    assert.deepEqual(replay.totals, { records: 1, same: 1, changed: 0, newlyFailing: 0, fixed: 0, notReplayable: 0 });
  });
});
