// A host process on a shared store, driven by JSON lines on stdin, one JSON line answered on stdout
// per command. The scale-out test and bench/scale-out.ts start several of these on one database.
import { createInterface } from 'node:readline';
import { createPlatform, OPERATOR } from '../../src/index.js';

const [store, records] = process.argv.slice(2) as [string, string | undefined];
const platform = await createPlatform({
  store,
  // `records`: the recorder's options as JSON (batchSize, maxBuffered, flushMs).
  records: { flushMs: 50, ...(records === undefined ? {} : (JSON.parse(records) as object)) },
  onError: () => {},
});
let sent = 0;

type Command =
  | { cmd: 'run'; point: string; tenant: string; n: number; key?: string; input?: unknown }
  | { cmd: 'update'; installation: string; version: string }
  | { cmd: 'candidate'; installation: string; version: string; percent: number }
  | { cmd: 'promote'; installation: string }
  | { cmd: 'rollback'; installation: string }
  | { cmd: 'awaitVersion'; point: string; tenant: string; version: string }
  | { cmd: 'quota'; partner: string; runsPerMinute: number }
  | { cmd: 'flush' }
  | { cmd: 'status' }
  | { cmd: 'close' };

async function handle(command: Command): Promise<unknown> {
  switch (command.cmd) {
    case 'run': {
      // How often each version answered, and each outcome code.
      const versions: Record<string, number> = {};
      const codes: Record<string, number> = {};
      const started = performance.now();
      for (let i = 0; i < command.n; i++) {
        const key = `${command.key ?? 'r'}-${sent++}`;
        const { results } = await platform.run(OPERATOR, command.point, {
          tenant: command.tenant,
          key,
          input: command.input ?? { n: i % 50 },
        });
        for (const r of results) {
          versions[r.version] = (versions[r.version] ?? 0) + 1;
          codes[r.code ?? r.outcome] = (codes[r.code ?? r.outcome] ?? 0) + 1;
        }
        // Runs arrive between I/O events in a real host: give the event loop a turn, so the record
        // writer's socket is served while runs go on (as it would be between requests).
        await new Promise((resolve) => setImmediate(resolve));
      }
      return { versions, codes, ms: performance.now() - started };
    }
    case 'awaitVersion':
      // Runs until the installation answers with `version`: when the change is live here, in ms since the epoch.
      for (;;) {
        const { results } = await platform.run(OPERATOR, command.point, { tenant: command.tenant, input: { n: 1 } });
        if (results[0]?.version === command.version) return { at: Date.now() };
        await new Promise((resolve) => setImmediate(resolve));
      }
    case 'update': {
      // `asked`: just before the change's transaction, `at`: after its commit (ms since the epoch).
      const asked = Date.now();
      await platform.installations.update(OPERATOR, command.installation, { version: command.version });
      return { asked, at: Date.now() };
    }
    case 'candidate':
      // Overridden: the test uploads versions without replaying them. Thresholds wide open: only the
      // test promotes or rolls back, whatever each process's window of runs says.
      await platform.rollouts.start(OPERATOR, command.installation, {
        version: command.version,
        percent: command.percent,
        override: true,
        promoteAfter: null,
        failureMargin: 1,
        fuelRatio: 1000,
      });
      return { at: Date.now() };
    case 'promote':
      await platform.rollouts.promote(OPERATOR, command.installation);
      return { at: Date.now() };
    case 'rollback':
      await platform.rollouts.rollback(OPERATOR, command.installation);
      return { at: Date.now() };
    case 'quota':
      await platform.quotas.set(OPERATOR, command.partner, { runsPerMinute: command.runsPerMinute });
      return {};
    case 'flush':
      await platform.flush();
      return platform.status();
    case 'status':
      return platform.status();
    case 'close':
      await platform.close();
      return platform.status();
  }
}

process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const command = JSON.parse(line) as Command;
  try {
    process.stdout.write(`${JSON.stringify({ ok: await handle(command) })}\n`);
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
  }
  if (command.cmd === 'close') break;
}
// Leaving the loop closes the reader, not stdin, whose open pipe would keep this process alive.
process.stdin.destroy();
