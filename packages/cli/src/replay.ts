import type { ReplayReport } from '@tenon/platform';
import { Command, InvalidArgumentError } from 'commander';
import { type ApiFlags, apiCall, DEFAULT_SERVER } from './api-client.js';
import { EXIT } from './exit-codes.js';
import type { Io } from './main.js';

interface ReplayFlags extends ApiFlags {
  records?: number;
  json?: boolean;
}

/** `tenon replay`: run a version on recorded runs through the server; exit 0 when the gate passes. */
export function replayCommand(io: Io, exit: (status: number) => void, env: NodeJS.ProcessEnv = process.env): Command {
  return new Command('replay')
    .description("Replay a version on recorded runs; print what changes and the extension point's verdict")
    .argument('<version>', 'the version id to replay')
    .option('--records <n>', 'how many of the newest records (default 1000)', (value) => {
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
      return n;
    })
    .option('--server <url>', `the Tenon server (default: $TENON_SERVER or ${DEFAULT_SERVER})`)
    .option('--key <key>', 'your API key (default: $TENON_KEY)')
    .option('--json', 'print the report as the server answered it, as JSON')
    .addHelpText('after', '\nExit codes:\n  0  the gate passes\n  1  the gate fails (the report says why)\n  2  not replayed')
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.stdout.write(t), writeErr: (t) => io.stderr.write(t) })
    .action(async (version: string, flags: ReplayFlags) => {
      const body = flags.records === undefined ? { version } : { version, records: flags.records };
      const report = await apiCall<ReplayReport>(io, env, flags, 'replay', 'POST', 'v1/replays', body);
      if (report === undefined) return exit(EXIT.usage);
      io.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatReplay(report));
      exit(report.verdict.passed ? EXIT.ok : EXIT.pluginError);
    });
}

/** The report as text: totals, fuel, the records that differ (at most 20), the verdict. */
export function formatReplay(report: ReplayReport): string {
  const { totals, fuel } = report;
  const lines = [
    `replay ${report.id} of version ${report.version} on ${totals.records} records (${report.baseline === 'plugin' ? "the plug-in's other versions" : "the extension point's"})`,
    `  same ${totals.same}, changed ${totals.changed}, newly failing ${totals.newlyFailing}, fixed ${totals.fixed}, not replayable ${totals.notReplayable}`,
    `  fuel p50 ${fuel.before.p50} -> ${fuel.after.p50}, p99 ${fuel.before.p99} -> ${fuel.after.p99} (${fuel.ratio.toFixed(2)}x), budget headroom ${(fuel.headroom * 100).toFixed(1)}%`,
  ];
  const differing = report.results.filter((r) => r.class !== 'same');
  for (const r of differing.slice(0, 20)) {
    const who = r.key === undefined ? r.record : `${r.tenant} ${r.key ?? r.record}`;
    let what: string;
    if (r.class === 'changed')
      what = (r.changes ?? [])
        .map((c) => ('before' in c || 'after' in c ? `${c.path}: ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}` : c.path))
        .join(', ');
    else if (r.class === 'not-replayable') what = r.reason ?? '';
    else
      what = `${r.before.outcome}${r.before.code === null ? '' : ` ${r.before.code}`} -> ${r.after?.outcome}${r.after?.code ? ` ${r.after.code}` : ''}`;
    lines.push(`  ${r.class} ${who}: ${what}`);
  }
  if (differing.length > 20) lines.push(`  ... and ${differing.length - 20} more (--json for all on this page)`);
  lines.push(report.verdict.passed ? 'verdict: pass' : `verdict: FAIL: ${report.verdict.reasons.join('; ')}`);
  return `${lines.join('\n')}\n`;
}
