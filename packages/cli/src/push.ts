import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { EXIT } from './exit-codes.js';
import type { Io } from './main.js';

interface PushFlags {
  plugin: string;
  server?: string;
  key?: string;
  json?: boolean;
}

/** A version as the API answers it (the fields `tenon push` prints). */
interface VersionReply {
  id: string;
  sha256: string;
  size: number;
  status: 'validated' | 'rejected';
  report: {
    checks: { name: string; ok: boolean; message: string }[];
    simulations: { name: string; ok: boolean; outcome: string; code?: string; message: string; fuel: number; budget: number }[];
    durationMs: number;
  };
}

const DEFAULT_SERVER = 'http://127.0.0.1:8080';

/** `tenon push`: upload a module as a new version of a plug-in and print the validation report. */
export function pushCommand(io: Io, exit: (status: number) => void, env: NodeJS.ProcessEnv = process.env): Command {
  return new Command('push')
    .description('Upload a module as a version of a plug-in; print the validation report')
    .argument('<plugin.wasm>', 'the module to upload')
    .requiredOption('--plugin <id>', 'the plug-in the version belongs to')
    .option('--server <url>', `the Tenon server (default: $TENON_SERVER or ${DEFAULT_SERVER})`)
    .option('--key <key>', 'your API key (default: $TENON_KEY)')
    .option('--json', 'print the version as the server answered it, as JSON')
    .addHelpText(
      'after',
      '\nExit codes:\n  0  validated\n  1  rejected (the report says why)\n  2  not uploaded (bad flag, file, key or plug-in; module too large; server unreachable)',
    )
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.stdout.write(t), writeErr: (t) => io.stderr.write(t) })
    .action(async (file: string, flags: PushFlags) => {
      exit(await push(file, flags, io, env));
    });
}

async function push(file: string, flags: PushFlags, io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  const server = flags.server ?? env.TENON_SERVER ?? DEFAULT_SERVER;
  const key = flags.key ?? env.TENON_KEY;
  if (key === undefined || key === '') {
    io.stderr.write('tenon: no API key: pass --key or set TENON_KEY\n');
    return EXIT.usage;
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    io.stderr.write(`tenon: cannot read "${file}": ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  let url: URL;
  try {
    url = new URL(`v1/plugins/${encodeURIComponent(flags.plugin)}/versions`, server.endsWith('/') ? server : `${server}/`);
  } catch {
    io.stderr.write(`tenon: --server "${server}" is not a URL\n`);
    return EXIT.usage;
  }
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/wasm' },
      body: new Uint8Array(bytes),
    });
  } catch (error) {
    io.stderr.write(
      `tenon: cannot reach ${url.origin}: ${((error as Error).cause as Error | undefined)?.message ?? (error as Error).message}\n`,
    );
    return EXIT.usage;
  }
  const body = (await response.json().catch(() => undefined)) as VersionReply | { error?: { code: string; message: string } } | undefined;
  if (!response.ok || body === undefined || !('status' in body)) {
    const error = body !== undefined && 'error' in body ? body.error : undefined;
    io.stderr.write(
      `tenon: upload refused (${response.status}${error === undefined ? '' : ` ${error.code}`}): ${error?.message ?? response.statusText}\n`,
    );
    return EXIT.usage;
  }
  io.stdout.write(flags.json ? `${JSON.stringify(body, null, 2)}\n` : formatReport(body));
  return body.status === 'validated' ? EXIT.ok : EXIT.pluginError;
}

/** The report as text: each check, then each simulation with its fuel against the budget. */
export function formatReport(version: VersionReply): string {
  const lines = [
    `version ${version.id} ${version.status} (sha256 ${version.sha256}, ${version.size} bytes, ${version.report.durationMs.toFixed(1)} ms)`,
  ];
  lines.push('checks:');
  for (const check of version.report.checks) lines.push(`  ${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.message}`);
  if (version.report.simulations.length > 0) lines.push('simulations:');
  for (const sim of version.report.simulations) {
    const percent = sim.budget > 0 ? ` (${((sim.fuel / sim.budget) * 100).toFixed(1)}%)` : '';
    const why = sim.ok ? '' : ` ${sim.outcome}${sim.code === undefined ? '' : ` ${sim.code}`}: ${sim.message}`;
    lines.push(`  ${sim.ok ? 'ok  ' : 'FAIL'} ${sim.name}: fuel ${sim.fuel} of ${sim.budget}${percent}${why}`);
  }
  return `${lines.join('\n')}\n`;
}
